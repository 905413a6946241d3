import BluetoothCore

extension HostStack {
    /// The address mode in force: the configured one, or public when the controller has a public
    /// address and static random otherwise (Bumble's stock controller reports 00:00:00:00:00:00).
    var effectiveAddressMode: AddressMode {
        if let m = config.addrMode { return m }
        return controller.publicAddress == .zero ? .random : .public
    }

    /// Own_Address_Type for advertising, scanning and initiating: 0 public, 1 random.
    var ownAddressType: UInt8 { effectiveAddressMode == .public ? 0 : 1 }

    /// `config(.mac)`: the address this device uses on the air.
    var ownAddress: (AddressType, BluetoothAddress) {
        if effectiveAddressMode == .public { return (.public, controller.publicAddress) }
        return (.random, staticRandomAddress ?? .zero)
    }

    func setAddressMode(_ mode: AddressMode) throws {
        switch mode {
        case .public, .random:
            if mode == .public, power == .on, controller.publicAddress == .zero {
                throw BLEError.invalidArgument("this controller has no public address; use .random")
            }
            config.addrMode = mode
        case .rpa, .nrpa:
            throw BLEError.notSupported
        }
    }
}
