import BluetoothCore

/// Settings of one host, changed through `config(...)`.
public struct HostConfiguration: Sendable {
    public var gapName = "Swift BLE"
    /// nil: public when the controller has a public address, else static random.
    public var addrMode: AddressMode?
    public var rxbuf = 1024
    public var mtu = 256
    public var bond = false
    public var mitm = false
    public var io: IOCapability = .noInputOutput
    public var leSecure = true
    /// Per-command timeout.
    public var commandTimeoutSeconds = 3.0
    /// L2CAP bytes an application may have waiting per link for controller buffers: past it,
    /// `gattsNotify`, `gattsWrite` updates and `gattcWrite(.noResponse)` throw `.noMemory` (as
    /// NimBLE does when its buffers run out), and `l2capSendReady` with CID 4 (the ATT channel)
    /// says when the queue has drained to half.
    /// Bounds the memory a fast sender can take per link. Read at `active(true)`.
    public var maxQueuedBytes = 131_072
    /// Indications waiting per link behind the one in flight: past it, `gattsIndicate` throws
    /// `.noMemory` until one is confirmed (then `l2capSendReady` with CID 4).
    public var maxQueuedIndications = 64
    /// GATT client procedures a connection may have queued (the running one included); past it,
    /// `gattc*` calls throw `.noMemory` (as NimBLE's procedure pool does) until one ends.
    public var maxClientProcedures = 64
    /// ATT transaction timeout (Vol 3 Part F 3.3.3: 30 s); shorter only in tests.
    public var attTimeoutSeconds = 30.0
    public init() {}
}
