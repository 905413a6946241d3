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
        for _ in 0..<20 {
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
            #expect(got == packets)
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
