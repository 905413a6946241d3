import BluetoothCore

/// The ATT state of one connection: MTU, the server's per-connection state (CCCDs, prepared
/// writes, the indication in flight) and the client's procedure queue.
struct ATTLink {
    var mtu = 23
    var mtuExchanged = false
    /// CCCD handle -> configuration bits (0x0001 notifications, 0x0002 indications).
    var cccd: [UInt16: UInt16] = [:]
    /// Prepared writes, in arrival order (Vol 3 Part F 3.4.6.1).
    var prepareQueue: [(handle: UInt16, offset: Int, value: [UInt8])] = []
    var preparedBytes = 0
    /// The server's indications (one in flight at a time) and the transaction timer of the one in flight.
    var indications: GATTIndications
    var indicationTimer: DeviceTimer?
    /// Client side.
    var client = GATTClientQueue()
    /// Set when a transaction timed out: no more ATT on this bearer (Vol 3 Part F 3.3.3).
    var dead = false

    static let maxPreparedWrites = 64

    init(conn: UInt16) {
        indications = GATTIndications(conn: conn)
    }
}
