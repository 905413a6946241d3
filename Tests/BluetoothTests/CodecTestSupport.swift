import Testing
import BluetoothCore

/// Helpers shared by the `Codec...` suites. Expected bytes are written by hand as hex strings,
/// field by field from the Core Specification, never produced by the encoder under test.
enum CodecBytes {
    /// `"03 0C 00"` → `[0x03, 0x0C, 0x00]`. Whitespace separates nothing in particular: the
    /// string is read two hex digits at a time once spaces and newlines are removed. Anything else
    /// (a sign, `0x`, a non-ASCII digit, an odd digit count) records an issue, so a typo in an
    /// expected-bytes literal fails the test instead of being dropped.
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
            // `UInt8(_:radix:)` alone would accept "+F" or "-0": only two ASCII hex digits count.
            guard let high = asciiHexValue(digits[i]), let low = asciiHexValue(digits[i + 1]) else {
                Issue.record("bad hex pair \(String(digits[i..<i + 2])) in \"\(text)\"", sourceLocation: sourceLocation)
                return []
            }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func asciiHexValue(_ c: Character) -> UInt8? {
        guard c.isASCII, let v = c.hexDigitValue else { return nil }
        return UInt8(truncatingIfNeeded: v)
    }

    /// `[0x03, 0x0C, 0x00]` → `"03 0C 00"`, for failure messages (the form `hex` reads back).
    static func hexString(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789ABCDEF")
        return bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]]) }.joined(separator: " ")
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
    mutating func pick<T>(_ values: [T]) -> T {
        values[Int.random(in: values.indices, using: &self)]
    }
}

/// The failures of one fuzz loop. Every failure is reported with the loop's seed, the iteration
/// and the input in hex, so it can be replayed by hand; after the first few, failures are only
/// counted (one broken encoder would otherwise flood the log with thousands of issues).
struct FuzzFailures {
    let seed: UInt64
    private(set) var count = 0
    static let reported = 8

    init(seed: UInt64) { self.seed = seed }

    var seedText: String { "0x" + String(seed, radix: 16, uppercase: true) }

    mutating func record(_ message: String, iteration: Int, input: [UInt8],
                         sourceLocation: SourceLocation = #_sourceLocation) {
        record(message, iteration: iteration, inputText: "\(input.count) bytes [\(CodecBytes.hexString(input))]",
               sourceLocation: sourceLocation)
    }

    /// For loops whose input is text rather than bytes.
    mutating func record(_ message: String, iteration: Int, inputText: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        count += 1
        guard count <= Self.reported else { return }
        Issue.record("\(message)\n  seed \(seedText), iteration \(iteration), input \(inputText)",
                     sourceLocation: sourceLocation)
    }

    /// Reports how many failures were only counted.
    func finish(sourceLocation: SourceLocation = #_sourceLocation) {
        if count > Self.reported {
            Issue.record("\(count - Self.reported) more failure(s) with seed \(seedText) not shown",
                         sourceLocation: sourceLocation)
        }
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

    /// For events the host's table leaves unparsed (the virtual controller sends them): `value`
    /// encodes to exactly `bytes`, the struct parses its parameters back to `value`, and every
    /// truncation of them throws `DecodeError`.
    static func eventParameters<E: HCIEventParameters & Equatable>(_ value: E, _ bytes: [UInt8],
                                                                   sourceLocation: SourceLocation = #_sourceLocation)
        throws {
        #expect(value.packetBytes() == bytes, sourceLocation: sourceLocation)
        try #require(bytes.count >= 2, sourceLocation: sourceLocation)
        #expect(bytes[0] == E.eventCode, sourceLocation: sourceLocation)
        #expect(Int(bytes[1]) == bytes.count - 2, sourceLocation: sourceLocation)
        var skip = 2
        if let sub = E.subeventCode {
            #expect(bytes.count >= 3 && bytes[2] == sub, sourceLocation: sourceLocation)
            skip = 3
        }
        let params = Array(bytes.dropFirst(skip))
        var r = ByteReader(params)
        #expect(try E(parameters: &r) == value, sourceLocation: sourceLocation)
        #expect(r.isAtEnd, sourceLocation: sourceLocation)
        for n in 0..<params.count {
            #expect(throws: DecodeError.self, "parameters cut to \(n) of \(params.count) bytes",
                    sourceLocation: sourceLocation) {
                var cut = ByteReader(Array(params.prefix(n)))
                _ = try E(parameters: &cut)
            }
        }
    }
}

/// The helpers themselves: a malformed literal must fail the test that wrote it.
struct CodecTestSupportTests {
    @Test func hexReadsPairsAcrossWhitespace() {
        #expect(CodecBytes.hex("03 0C 00") == [0x03, 0x0C, 0x00])
        #expect(CodecBytes.hex("030c\n00 ff") == [0x03, 0x0C, 0x00, 0xFF])
        #expect(CodecBytes.hex("") == [])
        #expect(CodecBytes.hexString([0x03, 0x0C, 0xAB]) == "03 0C AB")
    }

    @Test(arguments: ["0G", "03 0C 0", "+F", "-0", "0x01", "03,0C", "０1", "1 2 3"])
    func aBadTokenRecordsAnIssue(text: String) {
        withKnownIssue("\"\(text)\" is not hex pairs") {
            _ = CodecBytes.hex(text)
        }
    }
}
