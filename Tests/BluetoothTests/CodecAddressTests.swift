import Testing
import BluetoothCore

/// `BluetoothAddress` as /work/shared/API.md specifies it: display order in memory
/// (`bytes[0]` most significant), reversed on the wire (Core v5.4 Vol 4 Part E 5.2: BD_ADDR is
/// sent least significant octet first).
struct CodecAddressTests {
    @Test(arguments: ["aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF", "aA:Bb:cC:Dd:eE:Ff", "aa-bb-cc-dd-ee-ff"])
    func parsesAndPrintsLowercase(text: String) throws {
        let a = try #require(BluetoothAddress(text))
        #expect(a.description == "aa:bb:cc:dd:ee:ff")
        #expect(a.bytes == [0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
        #expect(a.littleEndianBytes == [0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA])
        #expect(a.value == 0xAABB_CCDD_EEFF)
    }

    @Test func leadingZerosArePrinted() throws {
        let a = try #require(BluetoothAddress("00:01:02:0a:0b:0c"))
        #expect(a.description == "00:01:02:0a:0b:0c")
        #expect(a.bytes == [0x00, 0x01, 0x02, 0x0A, 0x0B, 0x0C])
        #expect("\(a)" == "00:01:02:0a:0b:0c")
    }

    @Test(arguments: [
        "", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa:bb:cc:dd:ee:fg", "a:bb:cc:dd:ee:ff",
        "aaa:bb:cc:dd:ee:f", "aa:bb:cc:dd:ee:", ":aa:bb:cc:dd:ee", "aabbccddeeff", "aa:bb:cc:dd:ee:ff ",
        " aa:bb:cc:dd:ee:ff", "aa:bb-cc:dd-ee:ff", "aa.bb.cc.dd.ee.ff", "aa::bb:cc:dd:ee", "xx:xx:xx:xx:xx:xx",
        "aa:bb:cc:dd:ee:１２",
    ])
    func invalidStringsAreNil(text: String) {
        #expect(BluetoothAddress(text) == nil)
    }

    @Test(arguments: ["+a:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:+f", "-0:bb:cc:dd:ee:ff"])
    func signedGroupsAreNil(text: String) {
        // Each group is exactly two hex digits; a sign is not a digit.
        #expect(BluetoothAddress(text) == nil)
    }

    @Test func bytesInitializer() throws {
        let a = try BluetoothAddress(bytes: [0x11, 0x22, 0x33, 0x44, 0x55, 0x66])
        #expect(a.description == "11:22:33:44:55:66")
        #expect(a.bytes == [0x11, 0x22, 0x33, 0x44, 0x55, 0x66])
        #expect(a.littleEndianBytes == [0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        #expect(a == BluetoothAddress("11:22:33:44:55:66"))
    }

    @Test(arguments: [0, 1, 5, 7, 8, 16])
    func bytesInitializerThrowsForOtherCounts(count: Int) {
        #expect(throws: AddressError.invalidLength(count)) {
            _ = try BluetoothAddress(bytes: [UInt8](repeating: 0x42, count: count))
        }
    }

    @Test func littleEndianInitializer() {
        let a = BluetoothAddress(littleEndian: [0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        #expect(a.description == "11:22:33:44:55:66")
        #expect(a.littleEndianBytes == [0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
    }

    @Test func wireOrderThroughReaderAndWriter() throws {
        let a = try #require(BluetoothAddress("c0:11:22:33:44:55"))
        var w = ByteWriter()
        w.address(a)
        #expect(w.bytes == [0x55, 0x44, 0x33, 0x22, 0x11, 0xC0])
        var r = ByteReader(w.bytes)
        #expect(try r.address() == a)
        #expect(r.isAtEnd)
        var short = ByteReader([0x55, 0x44, 0x33, 0x22, 0x11])
        #expect(throws: DecodeError.self) { _ = try short.address() }
    }

    @Test func zero() {
        #expect(BluetoothAddress.zero.description == "00:00:00:00:00:00")
        #expect(BluetoothAddress.zero.bytes == [0, 0, 0, 0, 0, 0])
        #expect(BluetoothAddress.zero == BluetoothAddress("00:00:00:00:00:00"))
        #expect(BluetoothAddress.zero.value == 0)
    }

    @Test func valueIsMaskedTo48Bits() {
        #expect(BluetoothAddress(value: 0xFFFF_AABB_CCDD_EEFF) == BluetoothAddress("aa:bb:cc:dd:ee:ff"))
    }

    @Test(arguments: [
        // Core Vol 6 Part B 1.3.2: the two most significant bits of a random address.
        ("c0:00:00:00:00:00", RandomAddressKind.staticRandom),
        ("ff:ff:ff:ff:ff:ff", RandomAddressKind.staticRandom),
        ("40:00:00:00:00:00", RandomAddressKind.resolvablePrivate),
        ("7f:ff:ff:ff:ff:ff", RandomAddressKind.resolvablePrivate),
        ("00:00:00:00:00:01", RandomAddressKind.nonResolvablePrivate),
        ("3f:ff:ff:ff:ff:ff", RandomAddressKind.nonResolvablePrivate),
        ("80:00:00:00:00:00", RandomAddressKind.reserved),
        ("bf:ff:ff:ff:ff:ff", RandomAddressKind.reserved),
    ])
    func randomKind(text: String, kind: RandomAddressKind) throws {
        #expect(try #require(BluetoothAddress(text)).randomKind == kind)
    }

    @Test func orderingAndHashing() throws {
        let a = try #require(BluetoothAddress("00:00:00:00:00:ff"))
        let b = try #require(BluetoothAddress("00:00:00:00:01:00"))
        #expect(a < b)
        #expect(!(b < a))
        #expect(Set([a, b, BluetoothAddress(value: 0xFF)]).count == 2)
    }

    @Test func addressTypeValues() {
        #expect(AddressType.public.rawValue == 0)
        #expect(AddressType.random.rawValue == 1)
        #expect(AddressType.unknown.rawValue == 0xFF)
        #expect(AddressMode.rpa.rawValue == 2 && AddressMode.nrpa.rawValue == 3)
        #expect(AdvType.scanRsp.rawValue == 4)
    }
}
