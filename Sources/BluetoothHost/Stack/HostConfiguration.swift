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
    /// GATT client procedures a connection may have queued (the running one included); past it,
    /// `gattc*` calls throw `.noMemory` (as NimBLE's procedure pool does) until one ends.
    public var maxClientProcedures = 64
    /// ATT transaction timeout (Vol 3 Part F 3.3.3: 30 s); shorter only in tests.
    public var attTimeoutSeconds = 30.0
    public init() {}
}
