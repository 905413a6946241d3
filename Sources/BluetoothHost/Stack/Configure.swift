import BluetoothCore

extension HostStack {
    package var configuration: HostConfiguration { config }

    /// `config(mac)`: needs an active radio.
    package func configMac() throws -> (AddressType, BluetoothAddress) {
        guard power == .on else { throw BLEError.notActive }
        return ownAddress
    }

    package var effectiveAddressModeValue: AddressMode { effectiveAddressMode }

    package func configure(addrMode: AddressMode?, gapName: String?, rxbuf: Int?, mtu: Int?, bond: Bool?,
                          mitm: Bool?, io: IOCapability?, leSecure: Bool?) throws {
        // Validate everything first so a bad value changes nothing.
        if let mtu, !(23...517).contains(mtu) { throw BLEError.invalidArgument("mtu must be 23...517, got \(mtu)") }
        if let rxbuf, rxbuf <= 0 { throw BLEError.invalidArgument("rxbuf must be positive, got \(rxbuf)") }
        if let gapName, gapName.utf8.count > 248 {
            throw BLEError.invalidArgument("gap_name is at most 248 bytes (Vol 3 Part C 12.1)")
        }
        if let addrMode { try setAddressMode(addrMode) }
        if let gapName { config.gapName = gapName }
        if let rxbuf { config.rxbuf = rxbuf }
        if let mtu { config.mtu = mtu }
        if let bond { config.bond = bond }
        if let mitm { config.mitm = mitm }
        if let io { config.io = io }
        if let leSecure { config.leSecure = leSecure }
    }

}
