import Testing
import Bluetooth

/// The spellings of API.md compile as written there.
@Suite("API spelling")
struct APISpellingTests {
    @Test func configKeysInferTheirTypes() throws {
        let ble = try BLE(transport: "virtual:spelling")
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        let mac: (AddressType, BluetoothAddress) = try ble.config(.mac)
        let (t, a) = try ble.config(.mac)
        #expect(mac.0 == t && mac.1 == a)
        let name: String = try ble.config(.gapName)
        let mtu: Int = try ble.config(.mtu)
        #expect(!name.isEmpty && mtu == 256)
    }
}
