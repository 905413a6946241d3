import Testing
import Bluetooth

/// The spellings of API.md compile as written there, and what they read is what was set or what
/// another device sees.
@Suite("API spelling")
struct APISpellingTests {
    @Test func configKeysInferTheirTypes() throws {
        let radio = uniqueRadio()
        let ble = try BLE(transport: radio)
        let scanner = try BLE(transport: radio)
        let rec = EventRecorder(scanner)
        try ble.active(true)
        try scanner.active(true)
        defer {
            _ = try? ble.active(false)
            _ = try? scanner.active(false)
        }
        // `.mac` with its type written out and inferred; its value is the address a peer hears.
        let mac: (AddressType, BluetoothAddress) = try ble.config(.mac)
        let (t, a) = try ble.config(.mac)
        #expect(mac.0 == t && mac.1 == a)
        try ble.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06])
        try scanner.gapScan(0, 30_000, 30_000)
        let heard = rec.next(timeout: 5) { e in
            // The only advertiser on this radio.
            if case let .scanResult(_, _, _, _, data) = e { return data == [0x02, 0x01, 0x06] }
            return false
        }
        guard case let .scanResult(heardType, heardAddr, _, _, _)? = heard else {
            Issue.record("the scanner heard nothing")
            return
        }
        #expect(heardType == mac.0 && heardAddr == mac.1)
        try scanner.gapScan(nil)

        // `.gapName` and `.mtu` read back what was set, after their defaults.
        let name: String = try ble.config(.gapName)
        let mtu: Int = try ble.config(.mtu)
        #expect(!name.isEmpty && mtu == 256)
        try ble.config(gapName: "spelled", mtu: 100)
        let newName: String = try ble.config(.gapName)
        let newMTU: Int = try ble.config(.mtu)
        #expect(newName == "spelled" && newMTU == 100)
    }
}
