import Testing
@testable import BluetoothHost
import BluetoothCore

fileprivate func h(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
    CodecBytes.hex(text, sourceLocation: sourceLocation)
}

/// LE signaling channel commands (Core Vol 3 Part A 4): Code, Identifier, Length (of the data
/// only, 2 octets LSB first), Data; one command per C-frame on LE-U.
@Suite("Codec: L2CAP LE signaling")
struct CodecL2CAPSignalingTests {
    static let commands: [(SignalingCommand, String)] = [
        // 4.1 Command Reject, Reason 0x0000 "Command not understood": no data after the reason.
        (SignalingCommand(code: 0x01, identifier: 0x07, data: [0x00, 0x00]), "01 07 02 00  00 00"),
        // Reason 0x0001 "Signaling MTU exceeded": Actual MTUsig (2).
        (SignalingCommand(code: 0x01, identifier: 0x08, data: [0x01, 0x00, 0x17, 0x00]), "01 08 04 00  01 00  17 00"),
        // Reason 0x0002 "Invalid CID in request": Local Endpoint (2), Remote Endpoint (2).
        (SignalingCommand(code: 0x01, identifier: 0x09, data: [0x02, 0x00, 0x40, 0x00, 0x41, 0x00]),
         "01 09 06 00  02 00  40 00  41 00"),
        // 4.20 Connection Parameter Update Request: Interval Min 6 (7.5 ms), Interval Max 12 (15 ms),
        // Latency 0, Timeout 200 (2 s).
        (SignalingCommand(code: 0x12, identifier: 0x01, data: [0x06, 0x00, 0x0C, 0x00, 0x00, 0x00, 0xC8, 0x00]),
         "12 01 08 00  06 00  0C 00  00 00  C8 00"),
        // 4.21 Connection Parameter Update Response: Result 0x0000 accepted, 0x0001 rejected.
        (SignalingCommand(code: 0x13, identifier: 0x01, data: [0x00, 0x00]), "13 01 02 00  00 00"),
        (SignalingCommand(code: 0x13, identifier: 0xFF, data: [0x01, 0x00]), "13 FF 02 00  01 00"),
        // 4.6 Disconnection Request (not LE-U's business here, but a well-formed command): DCID, SCID.
        (SignalingCommand(code: 0x06, identifier: 0x02, data: [0x40, 0x00, 0x41, 0x00]), "06 02 04 00  40 00  41 00"),
    ]

    @Test func commandsEncodeAndParseExactly() throws {
        for (command, hex) in Self.commands {
            let bytes = h(hex)
            #expect(command.encode() == bytes, "\(command)")
            #expect(try SignalingCommand(parsing: bytes) == command, "\(hex)")
        }
    }

    @Test func rejectIsCommandNotUnderstood() {
        #expect(SignalingCommand.reject(identifier: 0x2A).encode() == h("01 2A 02 00  00 00"))
        #expect(SignalingCommand.reject(identifier: 0x2B, reason: 0x0001).encode() == h("01 2B 02 00  01 00"))
        #expect(SignalingCommand.commandReject == 0x01)
        #expect(SignalingCommand.disconnectionRequest == 0x06)
        #expect(SignalingCommand.connectionParameterUpdateRequest == 0x12)
        #expect(SignalingCommand.connectionParameterUpdateResponse == 0x13)
    }

    /// Every strict prefix is short of its Length field; a Length field larger or smaller than
    /// the data that follows is malformed too (one command per C-frame: nothing may follow it).
    @Test func truncatedAndMislengthedCommandsThrow() {
        for (_, hex) in Self.commands {
            let bytes = h(hex)
            for n in 0..<bytes.count {
                #expect(throws: DecodeError.self, "\(hex) cut to \(n) bytes") {
                    _ = try SignalingCommand(parsing: Array(bytes.prefix(n)))
                }
            }
            #expect(throws: DecodeError.self, "\(hex) with a byte after it") {
                _ = try SignalingCommand(parsing: bytes + [0x00])
            }
            var longer = bytes
            longer[2] &+= 1
            #expect(throws: DecodeError.self, "\(hex) with Length one more than the data") {
                _ = try SignalingCommand(parsing: longer)
            }
        }
        // A Connection Parameter Update Response followed by a stray byte.
        #expect(throws: DecodeError.self) { _ = try SignalingCommand(parsing: h("13 01 02 00  00 00  FF")) }
        // A Length that says fewer bytes than follow: a second command in the same C-frame.
        #expect(throws: DecodeError.self) { _ = try SignalingCommand(parsing: h("13 01 02 00  00 00  13 02 02 00 00 00")) }
    }

    @Test func connectionParameterUpdateRequestFields() throws {
        let data = h("06 00  0C 00  03 00  C8 00")
        let request = try ConnectionParameterUpdateRequest(data: data)
        #expect(request == ConnectionParameterUpdateRequest(intervalMin: 6, intervalMax: 12, latency: 3, timeout: 200))
        #expect(request.data == data)
        for n in 0..<data.count {
            #expect(throws: DecodeError.self, "cut to \(n)") { _ = try ConnectionParameterUpdateRequest(data: Array(data.prefix(n))) }
        }
        #expect(throws: DecodeError.self) { _ = try ConnectionParameterUpdateRequest(data: data + [0]) }
        let command = request.command(identifier: 0x05)
        #expect(command.encode() == h("12 05 08 00  06 00  0C 00  03 00  C8 00"))
    }

    // MARK: isAcceptable at its edges (Vol 3 Part A 4.20; Vol 6 Part B 4.5.2)

    /// The spec's rule in milliseconds, written independently of `isAcceptable`: intervals
    /// 7.5 ms to 4 s with min <= max, latency below 500, timeout 100 ms to 32 s and larger than
    /// (1 + latency) x Interval Max x 2.
    static func acceptable(_ min: UInt16, _ max: UInt16, _ latency: UInt16, _ timeout: UInt16) -> Bool {
        let minMs = Double(min) * 1.25, maxMs = Double(max) * 1.25, timeoutMs = Double(timeout) * 10
        return (7.5...4000).contains(minMs) && (7.5...4000).contains(maxMs) && minMs <= maxMs
            && latency < 500 && (100...32_000).contains(timeoutMs)
            && timeoutMs > (1 + Double(latency)) * maxMs * 2
    }

    static let edges: [(UInt16, UInt16, UInt16, UInt16, Bool)] = [
        (6, 6, 0, 10, true),              // every minimum
        (5, 6, 0, 10, false),             // Interval Min below 7.5 ms
        (6, 5, 0, 10, false),             // Interval Max below 7.5 ms (and below min)
        (3200, 3200, 0, 3200, true),      // every maximum interval, timeout 32 s
        (3200, 3201, 0, 3200, false),     // Interval Max above 4 s
        (3201, 3201, 0, 3200, false),     // Interval Min above 4 s
        (7, 6, 0, 100, false),            // min > max
        (6, 6, 499, 751, true),           // latency 499: 7.51 s > 500 x 7.5 ms x 2
        (6, 6, 499, 750, false),          // 7.5 s is not larger than 7.5 s
        (6, 6, 500, 3200, false),         // latency 500
        (6, 6, 0, 9, false),              // timeout below 100 ms
        (6, 6, 0, 3201, false),           // timeout above 32 s
        (100, 100, 0, 26, true),          // 260 ms > 250 ms
        (100, 100, 0, 25, false),         // 250 ms is not larger than 250 ms
        (6, 3200, 1, 1601, true),         // 16.01 s > 2 x 4 s x 2
        (6, 3200, 1, 1600, false),        // 16 s is not larger than 16 s
        (0, 0, 0, 0, false),
        (0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, false),
    ]

    @Test(arguments: edges)
    func acceptanceEdges(edge: (UInt16, UInt16, UInt16, UInt16, Bool)) {
        let (min, max, latency, timeout, expected) = edge
        let request = ConnectionParameterUpdateRequest(intervalMin: min, intervalMax: max, latency: latency, timeout: timeout)
        #expect(request.isAcceptable == expected)
        #expect(Self.acceptable(min, max, latency, timeout) == expected, "the test's own rule disagrees")
    }

    // MARK: Random input

    @Test func randomCommandsNeverTrapAndRoundTripExactly() {
        let seed: UInt64 = 0x5_1C_0005
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        var parsed = 0, rejected = 0, requests = 0, accepted = 0
        for iteration in 0..<20_000 {
            var bytes = g.bytes(count: Int.random(in: 0...16, using: &g))
            if bytes.count >= 4, Int.random(in: 0..<4, using: &g) != 0 {
                // A consistent Length, a known code, sometimes an update request with values
                // near the edges of their ranges.
                bytes[0] = g.pick([0x01, 0x06, 0x12, 0x12, 0x12, 0x13, 0x7F])
                if bytes[0] == 0x12, Bool.random(using: &g) {
                    var w = ByteWriter()
                    w.u16(g.pick([5, 6, 7, 100, 3199, 3200, 3201, UInt16.random(in: 0...0xFFFF, using: &g)]))
                    w.u16(g.pick([5, 6, 7, 100, 3199, 3200, 3201, UInt16.random(in: 0...3300, using: &g)]))
                    w.u16(g.pick([0, 1, 498, 499, 500, UInt16.random(in: 0...600, using: &g)]))
                    w.u16(g.pick([9, 10, 11, 3199, 3200, 3201, UInt16.random(in: 0...3300, using: &g)]))
                    bytes = Array(bytes.prefix(4)) + w.bytes
                }
                let length = bytes.count - 4 + g.pick([0, 0, 0, 0, 1, -1])
                bytes[2] = UInt8(truncatingIfNeeded: length)
                bytes[3] = UInt8(truncatingIfNeeded: length >> 8)
            }
            let command: SignalingCommand
            do {
                command = try SignalingCommand(parsing: bytes)
            } catch is DecodeError {
                rejected += 1
                continue
            } catch {
                failures.record("unexpected error \(error)", iteration: iteration, input: bytes)
                continue
            }
            parsed += 1
            let declared = bytes.count >= 4 ? Int(bytes[2]) | Int(bytes[3]) << 8 : -1
            if declared != bytes.count - 4 {
                failures.record("accepted with Length \(declared) for \(bytes.count - 4) data bytes", iteration: iteration, input: bytes)
            }
            if command.encode() != bytes {
                failures.record("parsed as \(command), re-encoded as [\(CodecBytes.hexString(command.encode()))]",
                                iteration: iteration, input: bytes)
            }
            guard command.code == SignalingCommand.connectionParameterUpdateRequest else { continue }
            do {
                let request = try ConnectionParameterUpdateRequest(data: command.data)
                requests += 1
                if command.data.count != 8 || request.data != command.data {
                    failures.record("request \(request) re-encodes as [\(CodecBytes.hexString(request.data))]",
                                    iteration: iteration, input: bytes)
                }
                let expected = Self.acceptable(request.intervalMin, request.intervalMax, request.latency, request.timeout)
                if request.isAcceptable != expected {
                    failures.record("isAcceptable is \(request.isAcceptable) for \(request)", iteration: iteration, input: bytes)
                }
                if expected { accepted += 1 }
            } catch is DecodeError {
                if command.data.count == 8 { failures.record("8-byte request rejected", iteration: iteration, input: bytes) }
            } catch {
                failures.record("unexpected error \(error)", iteration: iteration, input: bytes)
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(parsed > 5_000)
        #expect(rejected > 5_000)
        #expect(requests > 1_000)
        #expect(accepted > 50)
    }
}
