import BluetoothCore

/// One LE link as the host knows it.
struct ConnectionState {
    let handle: UInt16
    let role: HCI.Role
    let peerAddressType: AddressType
    let peerAddress: BluetoothAddress
    var interval: UInt16
    var latency: UInt16
    var supervisionTimeout: UInt16
}

extension AddressType {
    /// Maps an HCI peer address type (0 public, 1 random, 2/3 resolved identity) to the API's.
    init(hci: UInt8) {
        switch hci {
        case 0, 2: self = .public
        case 1, 3: self = .random
        default: self = .unknown
        }
    }
}
