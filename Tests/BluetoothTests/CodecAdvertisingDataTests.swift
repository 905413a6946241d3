import Testing
import BluetoothCore

fileprivate func h(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
    CodecBytes.hex(text, sourceLocation: sourceLocation)
}

/// Advertising data: AD structures of (Length, AD Type, AD Data) as Core v5.4 Vol 3 Part C 11
/// lays them out, with the data types of the Core Specification Supplement Part A.
struct CodecAdvertisingDataTests {
    // MARK: Building

    @Test func flagsAndName() {
        #expect(AdvertisingData.make(flags: 0x06, name: "MPY") == h("02 01 06  04 09 4D 50 59"))
        #expect(AdvertisingData.make(name: "MPY") == h("02 01 06  04 09 4D 50 59"))
        #expect(AdvertisingData.make(flags: nil, name: "MPY") == h("04 09 4D 50 59"))
        #expect(AdvertisingData.make(flags: 0x05) == h("02 01 05"))
        #expect(AdvertisingData.make(flags: nil) == [])
        #expect(AdvertisingData.make(flags: nil, name: "") == h("01 09"))
    }

    @Test func manufacturerData() {
        #expect(AdvertisingData.make(flags: nil, manufacturerData: Array("hello".utf8)) == h("06 FF 68 65 6C 6C 6F"))
    }

    @Test func serviceUUIDs() throws {
        let custom = try BluetoothUUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")
        #expect(AdvertisingData.make(flags: 0x06, services: [custom])
                == h("02 01 06  11 07  9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40 6E"))
        #expect(AdvertisingData.make(flags: 0x06, services: [0x180D]) == h("02 01 06  03 03 0D 18"))
    }

    @Test func serviceUUIDsOfOneSizeShareOneStructure() {
        // Supplement Part A 1.1.1: "A packet or data block shall not contain more than one
        // instance for each Service UUID data size."
        let bytes = AdvertisingData.make(flags: 0x06, services: [0x180D, 0x180F])
        let parsed = AdvertisingData(parsing: bytes)
        #expect(parsed.serviceUUIDs == [BluetoothUUID(0x180D), BluetoothUUID(0x180F)])
        #expect(bytes == h("02 01 06  05 03 0D 18 0F 18"))
        #expect(parsed.fields.filter { $0.type == AdvertisingData.complete16BitUUIDs }.count == 1)
    }

    @Test func everyFieldTogether() {
        let bytes = AdvertisingData.make(flags: 0x06, name: "MPY", services: [0x180D], manufacturerData: [0x4C, 0x00])
        let ad = AdvertisingData(parsing: bytes)
        #expect(ad.bytes == bytes)
        #expect(bytes.count == 3 + 4 + 4 + 5)
        #expect(ad.first(AdvertisingData.flagsType) == [0x06])
        #expect(ad.name == "MPY")
        #expect(ad.first(AdvertisingData.shortenedLocalName) == nil)
        #expect(ad.serviceUUIDs == [BluetoothUUID(0x180D)])
        #expect(ad.manufacturerData == [0x4C, 0x00])
        #expect(ad.fields.first?.type == AdvertisingData.flagsType)
    }

    @Test func nameThatFillsThe31BytesExactlyStaysComplete() {
        let name = String(repeating: "N", count: 26)   // 3 (flags) + 2 + 26 = 31
        #expect(AdvertisingData.make(flags: 0x06, name: name) == h("02 01 06  1B 09") + Array(name.utf8))
        let alone = String(repeating: "N", count: 29)  // 2 + 29 = 31
        #expect(AdvertisingData.make(flags: nil, name: alone) == h("1E 09") + Array(alone.utf8))
    }

    @Test func longNameIsShortenedToFit() {
        let name = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"   // 40 bytes
        let bytes = AdvertisingData.make(flags: 0x06, name: name)
        #expect(bytes.count == 31)
        #expect(bytes == h("02 01 06  1B 08") + Array(name.utf8.prefix(26)))
        let ad = AdvertisingData(parsing: bytes)
        #expect(ad.name == "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        #expect(ad.first(AdvertisingData.completeLocalName) == nil)

        let alone = AdvertisingData.make(flags: nil, name: String(repeating: "N", count: 30))
        #expect(alone == h("1E 08") + [UInt8](repeating: 0x4E, count: 29))
    }

    @Test func limitParameter() {
        #expect(AdvertisingData.make(flags: nil, name: "ABCDEFGH", limit: 6) == h("05 08 41 42 43 44"))
        #expect(AdvertisingData.make(flags: 0x06, name: "x", limit: 6) == h("02 01 06  02 09 78"))
        #expect(AdvertisingData.make(flags: 0x06, name: "x", limit: 5) == h("02 01 06"))   // no room
        #expect(AdvertisingData.make(flags: 0x06, name: "x", limit: 4) == h("02 01 06"))
        #expect(AdvertisingData.make(flags: 0x06, name: "xy", limit: 6) == h("02 01 06  02 08 78"))
        #expect(AdvertisingData.make(flags: 0x06, name: "x", limit: 7) == h("02 01 06  02 09 78"))
    }

    @Test func shortenedNameEndsOnACharacterBoundary() {
        // Supplement Part A 1.2: a shortened name holds contiguous characters from the start of the
        // (UTF-8, Vol 3 Part C 12.1) device name, so a multi-byte character is never cut.
        let name = String(repeating: "A", count: 25) + "é" + "B"   // 25 + 2 + 1 = 28 bytes; room 26
        let bytes = AdvertisingData.make(flags: 0x06, name: name)
        let field = AdvertisingData(parsing: bytes).first(AdvertisingData.shortenedLocalName) ?? []
        #expect(String(validating: field, as: UTF8.self) != nil)
        #expect(field == Array(String(repeating: "A", count: 25).utf8))
    }

    // MARK: Parsing

    @Test func parsesNamesManufacturerDataAndUUIDLists() throws {
        let bytes = h("""
            02 01 06
            04 09 4D 50 59
            05 FF 4C 00 02 15
            03 03 0D 18
            05 02 0F 18 0A 18
            05 05 41 42 31 32
            11 07 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40 6E
            """)
        let ad = AdvertisingData(parsing: bytes)
        #expect(ad.fields.count == 7)
        #expect(ad.fields[0] == AdvertisingData.Field(type: 0x01, data: [0x06]))
        #expect(ad.name == "MPY")
        #expect(ad.manufacturerData == [0x4C, 0x00, 0x02, 0x15])
        #expect(ad.serviceUUIDs == [
            BluetoothUUID(0x180D), BluetoothUUID(0x180F), BluetoothUUID(0x180A), BluetoothUUID(uuid32: 0x3231_4241),
            try BluetoothUUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E"),
        ])
        #expect(ad.serviceUUIDs.map(\.width) == [2, 2, 2, 4, 16])
        #expect(ad.bytes == bytes)
    }

    @Test func parsesShortenedNameAndPrefersTheCompleteOne() {
        #expect(AdvertisingData(parsing: h("04 08 4D 50 59")).name == "MPY")
        #expect(AdvertisingData(parsing: h("03 08 4D 50  04 09 4D 50 59")).name == "MPY")
        #expect(AdvertisingData(parsing: h("02 01 06")).name == nil)
        #expect(AdvertisingData(parsing: h("02 01 06")).manufacturerData == nil)
        // Invalid UTF-8 is repaired, not trapped on.
        #expect(AdvertisingData(parsing: h("03 09 41 FF")).name == "A\u{FFFD}")
    }

    @Test func uuidListWithAStrayByteKeepsTheWholeUUIDs() {
        #expect(AdvertisingData(parsing: h("04 03 0D 18 0F")).serviceUUIDs == [BluetoothUUID(0x180D)])
        #expect(AdvertisingData(parsing: h("01 03")).serviceUUIDs == [])
        #expect(AdvertisingData(parsing: h("06 04 41 42 31 32 00")).serviceUUIDs == [BluetoothUUID(uuid32: 0x3231_4241)])
    }

    @Test(arguments: [
        ("", 0),
        ("00", 0),
        ("FF", 0),
        ("02", 0),                          // length without type
        ("02 01", 0),                       // type without its data
        ("02 01 06  05 09 4D 50", 1),       // second structure runs past the end
        ("02 01 06  00 00 00 00", 1),       // zero padding ends the data
        ("02 01 06  00  04 09 4D 50 59", 1),  // nothing after a zero length is read
        ("01 FF", 1),                       // an AD type with no data
    ])
    func truncatedInputStopsCleanly(text: String, fieldCount: Int) {
        let bytes = h(text)
        let ad = AdvertisingData(parsing: bytes)
        #expect(ad.fields.count == fieldCount)
        // The fields read are exactly a prefix of the input.
        #expect(Array(bytes.prefix(ad.bytes.count)) == ad.bytes)
    }

    @Test func legacyAdvertisingDataFitsTheCommand() throws {
        // What make() builds goes straight into LE Set Advertising Data.
        let data = AdvertisingData.make(flags: 0x06, name: "MPY")
        let command = HCI.LESetAdvertisingData(data: data)
        #expect(command.packetBytes() == h("08 20 20  08  02 01 06 04 09 4D 50 59") + CodecBytes.zeros(23))
    }
}
