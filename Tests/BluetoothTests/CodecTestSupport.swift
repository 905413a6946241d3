import Testing
import BluetoothCore

/// Helpers shared by the `Codec...` suites. Expected bytes are written by hand as hex strings,
/// field by field from the Core Specification, never produced by the encoder under test.
enum CodecBytes {
    /// `"03 0C 00"` → `[0x03, 0x0C, 0x00]`. Whitespace separates nothing in particular: the
    /// string is read two hex digits at a time once spaces and newlines are removed.
    static func hex(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
        let digits = Array(text.filter { !$0.isWhitespace })
        guard digits.count % 2 == 0 else {
            Issue.record("odd number of hex digits in \"\(text)\"", sourceLocation: sourceLocation)
            return []
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let b = UInt8(String(digits[i..<i + 2]), radix: 16) else {
                Issue.record("bad hex pair \(String(digits[i..<i + 2])) in \"\(text)\"", sourceLocation: sourceLocation)
                return []
            }
            out.append(b)
            i += 2
        }
        return out
    }

    static func zeros(_ n: Int) -> [UInt8] { [UInt8](repeating: 0, count: n) }

    /// A parsed address, recording an issue (not trapping) if the literal is malformed.
    static func address(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> BluetoothAddress {
        guard let a = BluetoothAddress(text) else {
            Issue.record("bad address literal \(text)", sourceLocation: sourceLocation)
            return .zero
        }
        return a
    }
}

/// A small deterministic generator (SplitMix64) so that the fuzz tests are reproducible.
struct CodecSeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &self) }
    }
}

/// Checks shared by the HCI suites.
enum CodecCheck {
    /// `command` encodes to exactly `expected` (header and parameters), the packet parses back to
    /// an equal value, and every truncation throws `DecodeError`.
    static func command<C: HCICommand & Equatable>(_ command: C, encodesTo expected: [UInt8],
                                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(command.packetBytes() == expected, sourceLocation: sourceLocation)
        #expect(command.packet.type == .command, sourceLocation: sourceLocation)
        #expect(command.packet.h4Bytes == [0x01] + expected, sourceLocation: sourceLocation)
        try #require(expected.count >= 3, sourceLocation: sourceLocation)
        let params = Array(expected.dropFirst(3))
        // The header as the spec lays it out: opcode LSB first, then the parameter length.
        #expect(UInt16(expected[0]) | UInt16(expected[1]) << 8 == C.opcode.rawValue, sourceLocation: sourceLocation)
        #expect(Int(expected[2]) == params.count, sourceLocation: sourceLocation)

        let packet = try HCI.CommandPacket(parsing: expected)
        #expect(packet.opcode == C.opcode, sourceLocation: sourceLocation)
        #expect(packet.parameters == params, sourceLocation: sourceLocation)
        #expect(try packet.decode(C.self) == command, sourceLocation: sourceLocation)
        #expect(try C(parameterBytes: params) == command, sourceLocation: sourceLocation)

        for n in 0..<params.count {
            #expect(throws: DecodeError.self, "parameters cut to \(n) of \(params.count) bytes",
                    sourceLocation: sourceLocation) {
                _ = try C(parameterBytes: Array(params.prefix(n)))
            }
        }
        for n in 0..<expected.count {
            #expect(throws: DecodeError.self, "packet cut to \(n) of \(expected.count) bytes",
                    sourceLocation: sourceLocation) {
                _ = try HCI.CommandPacket(parsing: Array(expected.prefix(n)))
            }
        }
    }

    /// A Command Complete event for `C` parses to `expected` return parameters; the return
    /// parameters encode back to the same bytes; truncated return parameters throw.
    static func returnParameters<C: HCICommand>(_ type: C.Type, _ expected: C.Return, inEvent event: [UInt8],
                                                sourceLocation: SourceLocation = #_sourceLocation) throws
        where C.Return: Equatable {
        let parsed = try HCIEvent(parsing: event)
        guard case .commandComplete(let cc) = parsed else {
            Issue.record("expected Command Complete, got \(parsed)", sourceLocation: sourceLocation)
            return
        }
        #expect(cc.opcode == C.opcode, sourceLocation: sourceLocation)
        #expect(cc.status == .success, sourceLocation: sourceLocation)
        let rest = Array(cc.returnParameters.dropFirst())
        var r = ByteReader(rest)
        #expect(try C.Return(returnParameters: &r) == expected, sourceLocation: sourceLocation)
        #expect(r.isAtEnd, sourceLocation: sourceLocation)
        #expect(expected.bytes() == cc.returnParameters, sourceLocation: sourceLocation)
        #expect(expected.bytes(status: .commandDisallowed) == [0x0C], sourceLocation: sourceLocation)
        let rebuilt = HCI.CommandComplete(numHCICommandPackets: event[2], opcode: C.opcode,
                                          returnParameters: expected.bytes())
        #expect(rebuilt.packetBytes() == event, sourceLocation: sourceLocation)
        for n in 0..<rest.count {
            #expect(throws: DecodeError.self, "return parameters cut to \(n) of \(rest.count) bytes",
                    sourceLocation: sourceLocation) {
                var cut = ByteReader(Array(rest.prefix(n)))
                _ = try C.Return(returnParameters: &cut)
            }
        }
    }

    /// `bytes` parses to the case `extract` picks with a value equal to `value`, `value` encodes to
    /// exactly `bytes`, and (for events whose parameters have no optional tail) every truncation
    /// of the parameters, with the length byte made consistent, throws `DecodeError`.
    static func event<E: HCIEventParameters & Equatable>(_ value: E, _ bytes: [UInt8], truncationsThrow: Bool = true,
                                                         extract: (HCIEvent) -> E?,
                                                         sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(value.packetBytes() == bytes, sourceLocation: sourceLocation)
        #expect(value.packet.h4Bytes == [0x04] + bytes, sourceLocation: sourceLocation)
        try #require(bytes.count >= 2, sourceLocation: sourceLocation)
        #expect(bytes[0] == E.eventCode, sourceLocation: sourceLocation)
        #expect(Int(bytes[1]) == bytes.count - 2, sourceLocation: sourceLocation)
        if let sub = E.subeventCode {
            #expect(bytes.count >= 3 && bytes[2] == sub, sourceLocation: sourceLocation)
        }
        let parsed = try HCIEvent(parsing: bytes)
        #expect(extract(parsed) == value, "parsed as \(parsed)", sourceLocation: sourceLocation)
        guard truncationsThrow else { return }
        let params = Array(bytes.dropFirst(2))
        for n in 0..<params.count {
            let cut = [bytes[0], UInt8(n)] + params.prefix(n)
            #expect(throws: DecodeError.self, "parameters cut to \(n) of \(params.count) bytes",
                    sourceLocation: sourceLocation) {
                _ = try HCIEvent(parsing: cut)
            }
        }
    }
}
