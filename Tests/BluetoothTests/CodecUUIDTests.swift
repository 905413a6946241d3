import Testing
import BluetoothCore

/// `BluetoothUUID` as /work/shared/API.md specifies it, with the Base UUID of Core v5.4 Vol 3
/// Part B 2.5.1 (00000000-0000-1000-8000-00805F9B34FB).
struct CodecUUIDTests {
    // MARK: Parsing

    @Test(arguments: ["180D", "180d", "0x180D", "0x180d", "0X180D"])
    func parses16Bit(text: String) throws {
        let u = try BluetoothUUID(text)
        #expect(u == BluetoothUUID(0x180D))
        #expect(u.width == 2)
        #expect(u.bytes == [0x0D, 0x18])
        #expect(u.description == "UUID(0x180d)")
    }

    @Test(arguments: ["32314241", "0x32314241"])
    func parses32Bit(text: String) throws {
        let u = try BluetoothUUID(text)
        #expect(u == BluetoothUUID(uuid32: 0x3231_4241))
        #expect(u.width == 4)
        #expect(u.bytes == [0x41, 0x42, 0x31, 0x32])
        #expect(u.description == "UUID(0x32314241)")
    }

    @Test(arguments: [
        "6E400001-B5A3-F393-E0A9-E50E24DCCA9E",
        "6e400001-b5a3-f393-e0a9-e50e24dcca9e",
        "6E400001-b5a3-F393-e0a9-E50E24DCCA9E",
    ])
    func parses128Bit(text: String) throws {
        let u = try BluetoothUUID(text)
        #expect(u == BluetoothUUID(high: 0x6E40_0001_B5A3_F393, low: 0xE0A9_E50E_24DC_CA9E))
        #expect(u.width == 16)
        #expect(u.description == "UUID('6e400001-b5a3-f393-e0a9-e50e24dcca9e')")
        // Little-endian: the 16 bytes of the string, reversed.
        #expect(u.bytes == [0x9E, 0xCA, 0xDC, 0x24, 0x0E, 0xE5, 0xA9, 0xE0,
                            0x93, 0xF3, 0xA3, 0xB5, 0x01, 0x00, 0x40, 0x6E])
        #expect(u.shortValue == nil)
    }

    @Test(arguments: [
        "", "xyz", "180", "0x", "0x180", "12345", "180D0", "0x1g0d", "18 0D", "0x0x180D",
        "3231-4241",                                  // a 32-bit value takes no dashes
        "6E40000-1B5A3-F393-E0A9-E50E24DCCA9E",       // 36 characters, first dash misplaced
        "6E400001B-5A3-F393-E0A9-E50E24DCCA9E",       // 36 characters, first dash misplaced
        "6E40-0001-B5A3-F393-E0A9E50E24DCCA9E",       // 36 characters, dashes in the wrong places
        "6E400001-B5A3-F393-E0A9-E50E24DCCA9",        // one digit short
        "6E400001-B5A3-F393-E0A9-E50E24DCCA9E0",      // one digit too many
        "6E400001-B5A3-F393-E0A9-E50E24DCCA9G",       // not hex
        "{6E400001-B5A3-F393-E0A9-E50E24DCCA9E}",
    ])
    func invalidStringsThrow(text: String) {
        #expect(throws: UUIDError.self) { _ = try BluetoothUUID(text) }
    }

    @Test(arguments: ["18-0D", "-180D", "180D-"])
    func dashesInAShortUUIDAreRejected(text: String) {
        // Dashes belong only in the 8-4-4-4-12 form of a 128-bit UUID; MicroPython rejects these.
        #expect(throws: UUIDError.self) { _ = try BluetoothUUID(text) }
    }

    // MARK: Printing and the Base UUID

    @Test func descriptions() throws {
        #expect(BluetoothUUID(0x180D).description == "UUID(0x180d)")
        #expect(BluetoothUUID(0x0001).description == "UUID(0x0001)")
        #expect(BluetoothUUID(uuid32: 0x3231_4241).description == "UUID(0x32314241)")
        #expect(try BluetoothUUID("0000180D-0000-1000-8000-00805F9B34FB").description == "UUID(0x180d)")
        #expect(try BluetoothUUID("32314241-0000-1000-8000-00805F9B34FB").description == "UUID(0x32314241)")
        #expect(try BluetoothUUID("0000180D-0000-1000-8000-00805F9B34FC").description
                == "UUID('0000180d-0000-1000-8000-00805f9b34fc')")
        #expect(BluetoothUUID(high: 0, low: 0).description == "UUID('00000000-0000-0000-0000-000000000000')")
    }

    @Test func baseUUIDExpansion() throws {
        let short = BluetoothUUID(0x180D)
        let long = try BluetoothUUID("0000180D-0000-1000-8000-00805F9B34FB")
        #expect(short == long)
        #expect(short.hashValue == long.hashValue)
        #expect(Set([short, long]).count == 1)
        #expect(long.width == 16)
        #expect(long.isOnBase && short.isOnBase)
        #expect(long.shortValue == 0x180D)
        #expect(long.bytes == [0xFB, 0x34, 0x9B, 0x5F, 0x80, 0x00, 0x00, 0x80,
                               0x00, 0x10, 0x00, 0x00, 0x0D, 0x18, 0x00, 0x00])
        #expect(short.high == long.high && short.low == long.low)

        let u32 = BluetoothUUID(uuid32: 0x3231_4241)
        let u32Long = try BluetoothUUID("32314241-0000-1000-8000-00805F9B34FB")
        #expect(u32 == u32Long)
        #expect(u32.hashValue == u32Long.hashValue)
        #expect(BluetoothUUID(uuid32: 0x0000_180D) == short)
        #expect(BluetoothUUID(uuid32: 0x0000_180D).hashValue == short.hashValue)
        #expect(BluetoothUUID(0x180D) != BluetoothUUID(0x180F))
        #expect(try BluetoothUUID("0000180D-0000-1000-8000-00805F9B34FC") != short)
    }

    @Test func attBytesAreTheShortestATTForm() throws {
        #expect(BluetoothUUID(0x2A00).attBytes == [0x00, 0x2A])
        #expect(try BluetoothUUID("00002A00-0000-1000-8000-00805F9B34FB").attBytes == [0x00, 0x2A])
        // ATT has no 32-bit form: the 128-bit expansion.
        #expect(BluetoothUUID(uuid32: 0x3231_4241).attBytes
                == [0xFB, 0x34, 0x9B, 0x5F, 0x80, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00, 0x41, 0x42, 0x31, 0x32])
    }

    // MARK: Bytes

    @Test func bytesRoundTrip() throws {
        let u16 = try BluetoothUUID(bytes: [0x0D, 0x18])
        #expect(u16 == BluetoothUUID(0x180D) && u16.width == 2 && u16.bytes == [0x0D, 0x18])
        let u32 = try BluetoothUUID(bytes: [0x41, 0x42, 0x31, 0x32])
        #expect(u32 == BluetoothUUID(uuid32: 0x3231_4241) && u32.width == 4 && u32.bytes == [0x41, 0x42, 0x31, 0x32])
        let raw: [UInt8] = [0x9E, 0xCA, 0xDC, 0x24, 0x0E, 0xE5, 0xA9, 0xE0, 0x93, 0xF3, 0xA3, 0xB5, 0x01, 0x00, 0x40, 0x6E]
        let u128 = try BluetoothUUID(bytes: raw)
        #expect(u128 == (try BluetoothUUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")))
        #expect(u128.width == 16 && u128.bytes == raw)
        #expect(BluetoothUUID(0xFFFF).bytes == [0xFF, 0xFF])
        #expect(BluetoothUUID(0x0000).bytes == [0x00, 0x00])
    }

    @Test(arguments: [0, 1, 3, 5, 8, 15, 17, 32])
    func bytesOfOtherLengthsThrow(count: Int) {
        #expect(throws: UUIDError.invalidLength(count)) {
            _ = try BluetoothUUID(bytes: [UInt8](repeating: 0xAB, count: count))
        }
    }

    @Test func integerLiteral() {
        let u: BluetoothUUID = 0x180D
        #expect(u == BluetoothUUID(0x180D))
        #expect(u.width == 2)
        let list: [BluetoothUUID] = [0x2A00, 0x2A01]
        #expect(list.map(\.description) == ["UUID(0x2a00)", "UUID(0x2a01)"])
    }

    // MARK: Ordering

    @Test func comparableIsConsistentWithEquality() throws {
        let values: [BluetoothUUID] = [
            BluetoothUUID(0x180D),
            try BluetoothUUID("0000180D-0000-1000-8000-00805F9B34FB"),
            BluetoothUUID(uuid32: 0x0000_180D),
            BluetoothUUID(0x180F),
            BluetoothUUID(uuid32: 0x3231_4241),
            try BluetoothUUID("32314241-0000-1000-8000-00805F9B34FB"),
            try BluetoothUUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E"),
            BluetoothUUID(0x0001),
            BluetoothUUID(0xFFFF),
            BluetoothUUID(high: 0, low: 0),
        ]
        for a in values {
            #expect(!(a < a))
            for b in values {
                let lt = a < b, gt = b < a
                if a == b {
                    #expect(!lt && !gt, "\(a) and \(b) are equal but ordered")
                } else {
                    #expect(lt != gt, "\(a) and \(b) differ but are not strictly ordered")
                }
            }
        }
        let sorted = values.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a <= b) }
        // Equal values of different widths end up next to each other.
        let shortPositions = sorted.indices.filter { sorted[$0] == BluetoothUUID(0x180D) }
        #expect(shortPositions.count == 3)
        let first = try #require(shortPositions.first), last = try #require(shortPositions.last)
        #expect(last - first == 2)
        #expect(Set(values).count == 7)
    }
}
