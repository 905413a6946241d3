import Testing
@testable import BluetoothCore

@Test func addressRoundTrip() throws {
    let a = try #require(BluetoothAddress("aa:bb:cc:dd:ee:ff"))
    #expect(a.description == "aa:bb:cc:dd:ee:ff")
    #expect(a.littleEndianBytes == [0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa])
}
