import Testing
import BluetoothCore

fileprivate func h(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
    CodecBytes.hex(text, sourceLocation: sourceLocation)
}

/// The ACL data packet header (Core v5.4 Vol 4 Part E 5.4.2): Handle (12 bits), PB_Flag (2 bits),
/// BC_Flag (2 bits), then Data_Total_Length (16 bits), all little-endian.
struct CodecACLHeaderTests {
    @Test(arguments: [
        (ACLHeader.Boundary.firstNonFlushable, "40 00 1B 00"),  // PB 0b00
        (ACLHeader.Boundary.continuing, "40 10 1B 00"),         // PB 0b01
        (ACLHeader.Boundary.firstFlushable, "40 20 1B 00"),     // PB 0b10
        (ACLHeader.Boundary.complete, "40 30 1B 00"),           // PB 0b11
    ])
    func handle0x0040(boundary: ACLHeader.Boundary, expected: String) throws {
        let header = ACLHeader(handle: 0x0040, boundary: boundary, length: 0x001B)
        var w = ByteWriter()
        header.encode(into: &w)
        #expect(w.bytes == h(expected))
        let parsed = try ACLHeader(parsing: h(expected))
        #expect(parsed == header)
        #expect(parsed.handle == 0x0040)
        #expect(parsed.boundary == boundary)
        #expect(parsed.broadcast == 0)
        #expect(parsed.length == 0x001B)
    }

    @Test func boundaryRawValues() {
        #expect(ACLHeader.Boundary.firstNonFlushable.rawValue == 0b00)
        #expect(ACLHeader.Boundary.continuing.rawValue == 0b01)
        #expect(ACLHeader.Boundary.firstFlushable.rawValue == 0b10)
        #expect(ACLHeader.Boundary.complete.rawValue == 0b11)
        #expect(ACLHeader.size == 4)
    }

    @Test func broadcastFlagAndLargestHandle() throws {
        let header = ACLHeader(handle: 0x0EFF, boundary: .firstFlushable, broadcast: 0b01, length: 0x0400)
        var w = ByteWriter()
        header.encode(into: &w)
        // 0x0EFF | 0b10 << 12 | 0b01 << 14 = 0x6EFF.
        #expect(w.bytes == h("FF 6E 00 04"))
        #expect(try ACLHeader(parsing: h("FF 6E 00 04")) == header)
    }

    @Test func constructorMasksOutOfRangeFields() {
        let header = ACLHeader(handle: 0xF040, boundary: .continuing, broadcast: 0xFF, length: 1)
        #expect(header.handle == 0x0040)
        #expect(header.broadcast == 0b11)
    }

    @Test func packetIsHeaderThenPayload() throws {
        // An L2CAP frame for the ATT channel: length 3, CID 0x0004, ATT_EXCHANGE_MTU_REQ.
        let payload = h("03 00 04 00 02 00 02")
        let packet = ACLHeader.packet(handle: 0x0040, boundary: .firstNonFlushable, payload: payload[...])
        #expect(packet == h("40 00 07 00") + payload)
        let header = try ACLHeader(parsing: packet)
        #expect(header == ACLHeader(handle: 0x0040, boundary: .firstNonFlushable, length: 7))
        #expect(Array(packet.dropFirst(ACLHeader.size)) == payload)
        #expect(ACLHeader.packet(handle: 1, boundary: .continuing, payload: []) == h("01 10 00 00"))
    }

    @Test(arguments: [0, 1, 2, 3])
    func shortHeaderThrows(count: Int) {
        #expect(throws: DecodeError.self) { _ = try ACLHeader(parsing: Array(h("40 20 1B 00").prefix(count))) }
    }
}
