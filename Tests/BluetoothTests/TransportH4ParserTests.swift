import BluetoothCore
import BluetoothTransport
import Testing

@Suite struct TransportH4ParserTests {
    /// One packet of every type, with payloads that exercise each length field.
    static let samples: [HCIPacket] = [
        HCIPacket(.command, [0x03, 0x0C, 0x00]),                                   // HCI_Reset
        HCIPacket(.event, [0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00]),                   // Command Complete
        HCIPacket(.acl, [0x40, 0x20, 0x07, 0x00, 0x03, 0x00, 0x04, 0x00, 0x02, 0x17, 0x00]),
        HCIPacket(.sco, [0x01, 0x00, 0x03, 0xAA, 0xBB, 0xCC]),
        HCIPacket(.iso, [0x01, 0x20, 0x04, 0x00, 0x01, 0x02, 0x03, 0x04]),
        HCIPacket(.acl, [0x41, 0x20, 0x00, 0x00]),                                 // ACL, length 0
        HCIPacket(.event, [0x3E, 0x00]),                                           // event, length 0
    ]

    static func stream(_ packets: [HCIPacket]) -> [UInt8] {
        packets.flatMap(\.h4Bytes)
    }

    @Test func everyPacketTypeInOneChunk() throws {
        var parser = H4Parser()
        let got = try parser.feed(Self.stream(Self.samples))
        #expect(got == Self.samples)
        #expect(parser.isAtPacketBoundary)
    }

    @Test func splitAtEveryBytePosition() throws {
        let bytes = Self.stream(Self.samples)
        for cut in 0...bytes.count {
            var parser = H4Parser()
            var got = try parser.feed(bytes[0..<cut])
            got += try parser.feed(bytes[cut...])
            #expect(got == Self.samples, "split at byte \(cut)")
        }
    }

    @Test func splitAtEveryPairOfPositions() throws {
        let bytes = Self.stream(Array(Self.samples.prefix(3)))
        for a in 0...bytes.count {
            for b in a...bytes.count {
                var parser = H4Parser()
                var got = try parser.feed(bytes[0..<a])
                got += try parser.feed(bytes[a..<b])
                got += try parser.feed(bytes[b...])
                #expect(got == Array(Self.samples.prefix(3)), "split at \(a) and \(b)")
            }
        }
    }

    @Test func oneByteAtATime() throws {
        var parser = H4Parser()
        var got: [HCIPacket] = []
        for byte in Self.stream(Self.samples) {
            try parser.feed([byte]) { got.append($0) }
        }
        #expect(got == Self.samples)
    }

    @Test func pseudoRandomChunks() throws {
        var packets: [HCIPacket] = []
        for i in 0..<300 {
            let sample = Self.samples[i % Self.samples.count]
            packets.append(sample)
        }
        let bytes = Self.stream(packets)
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for round in 0..<20 {
            let roundSeed = seed
            var parser = H4Parser()
            var got: [HCIPacket] = []
            var i = 0
            while i < bytes.count {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let size = Int(seed >> 58) + 1  // 1...64
                let end = min(bytes.count, i + size)
                try parser.feed(bytes[i..<end]) { got.append($0) }
                i = end
            }
            #expect(got == packets, "round \(round), chunk sizes from LCG state 0x\(String(roundSeed, radix: 16))")
        }
    }

    @Test func manyPacketsInOneChunk() throws {
        var packets: [HCIPacket] = []
        for i in 0..<5_000 {
            packets.append(HCIPacket(.event, [0x13, 0x05, 0x01, UInt8(truncatingIfNeeded: i), 0x00, 0x01, 0x00]))
        }
        var parser = H4Parser()
        let got = try parser.feed(Self.stream(packets))
        #expect(got == packets)
    }

    @Test func largeACLAcrossChunks() throws {
        for length in [251, 1_021, 27_000, 65_535] {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let packet = HCIPacket(.acl, [0x01, 0x20, UInt8(length & 0xFF), UInt8(length >> 8)] + payload)
            let bytes = packet.h4Bytes + HCIPacket(.event, [0x0E, 0x00]).h4Bytes
            var parser = H4Parser()
            var got: [HCIPacket] = []
            var i = 0
            while i < bytes.count {
                let end = min(bytes.count, i + 1_000)
                try parser.feed(bytes[i..<end]) { got.append($0) }
                i = end
            }
            #expect(got.count == 2)
            #expect(got.first == packet, "ACL of \(length) bytes")
            #expect(got.first?.bytes.count == 4 + length)
        }
    }

    @Test func aclLengthZero() throws {
        var parser = H4Parser()
        let got = try parser.feed([0x02, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00])
        #expect(got == [HCIPacket(.acl, [0x01, 0x00, 0x00, 0x00])])
        #expect(!parser.isAtPacketBoundary)
        let rest = try parser.feed([0x00])
        #expect(rest == [HCIPacket(.acl, [0x01, 0x00, 0x00, 0x00])])
    }

    @Test func isoLengthUsesFourteenBits() throws {
        // Length field 0xC002: the top two bits are RFU flags, the length is 2.
        var parser = H4Parser()
        let got = try parser.feed([0x05, 0x01, 0x00, 0x02, 0xC0, 0xAA, 0xBB, 0x04, 0x0E, 0x00])
        #expect(got == [HCIPacket(.iso, [0x01, 0x00, 0x02, 0xC0, 0xAA, 0xBB]), HCIPacket(.event, [0x0E, 0x00])])
    }

    @Test func commandAndSCOLengthIsOneByte() throws {
        var parser = H4Parser()
        let got = try parser.feed([0x01, 0x01, 0x20, 0x01, 0x7F, 0x03, 0x02, 0x00, 0x01, 0x55])
        #expect(got == [HCIPacket(.command, [0x01, 0x20, 0x01, 0x7F]), HCIPacket(.sco, [0x02, 0x00, 0x01, 0x55])])
    }

    @Test(arguments: [UInt8(0x00), 0x06, 0x7F, 0xFF])
    func unknownIndicatorIsAFramingError(indicator: UInt8) throws {
        var parser = H4Parser()
        var got: [HCIPacket] = []
        #expect(throws: TransportError.self) {
            try parser.feed([0x04, 0x0E, 0x00, indicator, 0x01]) { got.append($0) }
        }
        // Packets before the bad byte are delivered.
        #expect(got == [HCIPacket(.event, [0x0E, 0x00])])
        do {
            _ = try parser.feed([0x04, 0x0E, 0x00])
            Issue.record("a failed parser must keep failing")
        } catch {
            guard case .framing(let message) = error else {
                Issue.record("expected .framing, got \(error)")
                return
            }
            #expect(message.contains("offset 3"))
            #expect(message.contains("cannot be resynchronised"))
        }
    }

    @Test func resetClearsAFailure() throws {
        var parser = H4Parser()
        #expect(throws: TransportError.self) { _ = try parser.feed([0x09]) }
        parser.reset()
        #expect(try parser.feed([0x04, 0x0E, 0x00]) == [HCIPacket(.event, [0x0E, 0x00])])
    }
}

/// Seeded random input for the H4 deframer: streams built from random packets, and plain random
/// bytes, fed whole and split at random points.
@Suite struct TransportH4ParserFuzzTests {
    /// A packet of `type` with a random header whose length field matches a random payload.
    static func randomPacket(_ g: inout CodecSeededGenerator) -> HCIPacket {
        let type = g.pick([HCIPacketType.command, .acl, .sco, .event, .iso])
        let wide = type == .acl || type == .iso
        var length: Int
        switch Int.random(in: 0..<10, using: &g) {
        case 0: length = 0
        case 1..<8: length = Int.random(in: 1...40, using: &g)
        default: length = Int.random(in: 0...(wide ? 3_000 : 255), using: &g)
        }
        let header: [UInt8]
        switch type {
        case .command, .sco:
            header = g.bytes(count: 2) + [UInt8(length)]
        case .event:
            header = g.bytes(count: 1) + [UInt8(length)]
        case .acl:
            header = g.bytes(count: 2) + [UInt8(length & 0xFF), UInt8(length >> 8)]
        case .iso:
            // The top two bits of the length field are RFU flags, not length.
            let flags = UInt8.random(in: 0...3, using: &g) << 6
            header = g.bytes(count: 2) + [UInt8(length & 0xFF), UInt8(length >> 8) | flags]
        }
        return HCIPacket(type, header + g.bytes(count: length))
    }

    /// Bytes that are not an H4 packet indicator.
    static let badIndicators: [UInt8] = [0x00, 0x06, 0x07, 0x10, 0x41, 0x7F, 0x80, 0xC4, 0xFF]

    struct Outcome: Equatable {
        var packets: [HCIPacket] = []
        var error: TransportError?
        var atBoundary = true
    }

    /// Feeds `stream` in chunks ending at `cuts` (sorted), as array slices, arrays or
    /// non-contiguous collections, and checks that a failed parser keeps failing.
    static func run(_ stream: [UInt8], cuts: [Int], _ g: inout CodecSeededGenerator) -> Outcome {
        var parser = H4Parser()
        var outcome = Outcome()
        var start = 0
        for end in cuts + [stream.count] {
            let chunk = stream[start..<end]
            do {
                switch Int.random(in: 0..<3, using: &g) {
                case 0: try parser.feed(chunk) { outcome.packets.append($0) }
                case 1: try parser.feed(Array(chunk)) { outcome.packets.append($0) }
                default: try parser.feed(chunk.lazy.map { $0 }) { outcome.packets.append($0) }
                }
            } catch {
                outcome.error = error
                break
            }
            start = end
        }
        if let error = outcome.error {
            do {
                try parser.feed([0x04, 0x0E, 0x00]) { outcome.packets.append($0) }
                outcome.error = .closed("a failed parser accepted more bytes after \(error)")
            } catch let again {
                if again != error { outcome.error = .closed("a failed parser threw \(again) after \(error)") }
            }
        }
        outcome.atBoundary = parser.isAtPacketBoundary
        return outcome
    }

    static func randomCuts(_ count: Int, _ g: inout CodecSeededGenerator) -> [Int] {
        (0..<Int.random(in: 0...8, using: &g)).map { _ in Int.random(in: 0...count, using: &g) }.sorted()
    }

    @Test func randomPacketStreamsSplitAnywhereGiveThePacketsBack() {
        let seed: UInt64 = 0x4_0001
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        var packetsSeen = 0, framingErrors = 0, partialEnds = 0
        for iteration in 0..<2_000 {
            let packets = (0..<Int.random(in: 0...12, using: &g)).map { _ in Self.randomPacket(&g) }
            var stream = packets.flatMap(\.h4Bytes)
            var badAt: Int?
            var partial = false
            switch Int.random(in: 0..<4, using: &g) {
            case 0:
                // An unknown indicator where the next packet should start, then anything.
                badAt = stream.count
                stream.append(g.pick(Self.badIndicators))
                stream += g.bytes(count: Int.random(in: 0...5, using: &g))
            case 1:
                // The stream ends inside a packet.
                let last = Self.randomPacket(&g).h4Bytes
                stream += last.prefix(Int.random(in: 1..<last.count, using: &g))
                partial = true
            default:
                break
            }
            let whole = Self.run(stream, cuts: [], &g)
            let split = Self.run(stream, cuts: Self.randomCuts(stream.count, &g), &g)
            packetsSeen += whole.packets.count
            var problems: [String] = []
            if whole.packets != packets { problems.append("whole stream gave \(whole.packets.count) packets, not the \(packets.count) it was built from") }
            if split != whole { problems.append("split stream gave \(split), whole gave \(whole)") }
            if let badAt {
                if case .framing(let message) = whole.error, message.contains("at stream offset \(badAt) ") {
                    framingErrors += 1
                } else {
                    problems.append("expected a framing error at offset \(badAt), got \(String(describing: whole.error))")
                }
            } else if let error = whole.error {
                problems.append("unexpected error \(error)")
            }
            if badAt == nil, whole.atBoundary == partial { problems.append("isAtPacketBoundary is \(whole.atBoundary)") }
            if partial { partialEnds += 1 }
            for p in problems { failures.record(p, iteration: iteration, input: stream) }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(packetsSeen > 5_000)
        #expect(framingErrors > 300)
        #expect(partialEnds > 300)
    }

    @Test func randomBytesSplitAnywhereBehaveAsWhole() {
        let seed: UInt64 = 0x4_0002
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        var errors = 0
        for iteration in 0..<5_000 {
            var stream = g.bytes(count: Int.random(in: 0...64, using: &g))
            // Mostly valid indicators and small lengths, so that some packets come out.
            for i in stream.indices where Int.random(in: 0..<4, using: &g) == 0 { stream[i] = UInt8.random(in: 0...6, using: &g) }
            let whole = Self.run(stream, cuts: [], &g)
            let split = Self.run(stream, cuts: Self.randomCuts(stream.count, &g), &g)
            if split != whole { failures.record("split stream gave \(split), whole gave \(whole)", iteration: iteration, input: stream) }
            if let error = whole.error {
                errors += 1
                guard case .framing = error else {
                    failures.record("expected a framing error, got \(error)", iteration: iteration, input: stream)
                    continue
                }
            }
            // Every packet delivered is a whole packet: its length field matches its bytes.
            for p in whole.packets {
                let header = H4Parser.headerSize(of: p.type)
                let length = p.bytes.withUnsafeBufferPointer { H4Parser.payloadLength(of: p.type, header: $0) }
                if p.bytes.count != header + length {
                    failures.record("packet \(p) has \(p.bytes.count) bytes for a length of \(length)", iteration: iteration, input: stream)
                }
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(errors > 1_000)
    }
}
