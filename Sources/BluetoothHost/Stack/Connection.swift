import BluetoothCore

/// Everything the host keeps for one LE link, in one place: GAP's view of it, the ATT bearer with
/// what the GATT server keeps per connection (CCCDs, prepared writes, indications) and the GATT
/// client's procedures, and the flow-control flags the application is owed a signal for. L2CAP
/// channels and the SMP session join it as they land. It ends in one place too
/// (`HostStack.endConnection`), which ends every procedure it holds with its event.
final class Connection {
    let handle: UInt16
    let role: HCI.Role
    let peerAddressType: AddressType
    let peerAddress: BluetoothAddress
    /// 1.25 ms units, connection events, 10 ms units (as the controller reports them).
    var interval: UInt16
    var latency: UInt16
    var supervisionTimeout: UInt16
    /// The ATT bearer and GATT's per-connection state.
    var att: ATTLink
    /// A link the app was told had failed (a cancel the controller ignored) that connected anyway:
    /// it is disconnected and the app never hears of it.
    var silent = false
    /// An ATT send was refused for want of room (`.noMemory`): `l2capSendReady` (CID 4) is owed.
    var attStalled = false
    /// `gattsIndicate` was refused: `l2capSendReady` (CID 4) is owed when one is confirmed.
    var indicationsStalled = false

    init(handle: UInt16, role: HCI.Role, peerAddressType: AddressType, peerAddress: BluetoothAddress,
         interval: UInt16, latency: UInt16, supervisionTimeout: UInt16) {
        self.handle = handle
        self.role = role
        self.peerAddressType = peerAddressType
        self.peerAddress = peerAddress
        self.interval = interval
        self.latency = latency
        self.supervisionTimeout = supervisionTimeout
        att = ATTLink(conn: handle)
    }
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
