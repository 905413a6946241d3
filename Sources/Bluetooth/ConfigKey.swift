import BluetoothCore
import BluetoothHost

extension BLE {
    /// A readable configuration value: `try ble.config(.mac)`, `try ble.config(.gapName)`, ...
    public struct ConfigKey<Value>: Sendable {
        public let name: String
        let get: @Sendable (HostStack) throws -> Value
    }
}

extension BLE.ConfigKey where Value == (AddressType, BluetoothAddress) {
    /// The address this device uses on the air and its type. Needs an active radio.
    public static var mac: Self { .init(name: "mac") { try $0.configMac() } }
}

extension BLE.ConfigKey where Value == String {
    public static var gapName: Self { .init(name: "gap_name") { $0.configuration.gapName } }
}

extension BLE.ConfigKey where Value == Int {
    /// The preferred ATT MTU (23...517).
    public static var mtu: Self { .init(name: "mtu") { $0.configuration.mtu } }
    public static var rxbuf: Self { .init(name: "rxbuf") { $0.configuration.rxbuf } }
}

extension BLE.ConfigKey where Value == AddressMode {
    public static var addrMode: Self { .init(name: "addr_mode") { $0.effectiveAddressModeValue } }
}

extension BLE.ConfigKey where Value == Bool {
    public static var bond: Self { .init(name: "bond") { $0.configuration.bond } }
    public static var mitm: Self { .init(name: "mitm") { $0.configuration.mitm } }
    public static var leSecure: Self { .init(name: "le_secure") { $0.configuration.leSecure } }
}

extension BLE.ConfigKey where Value == IOCapability {
    public static var io: Self { .init(name: "io") { $0.configuration.io } }
}
