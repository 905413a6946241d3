import BluetoothCore
import BluetoothHost
@_exported import BluetoothTransport

/// MicroPython's `bluetooth.BLE`, in Swift (see API.md): one Bluetooth LE device on one HCI
/// controller. Calls are synchronous and thread-safe; events arrive on the device's own queue
/// through `irq`. Several `BLE` instances may live in one process.
public final class BLE: Sendable {
    public typealias Event = BLEEvent
    public typealias IRQResult = BLEIRQResult
    public typealias PasskeyAction = BLEPasskeyAction
    public typealias WriteMode = BLEWriteMode
    public typealias Flags = BLEFlags
    public typealias ATTError = BLEATTError
    public typealias Service = BLEService
    public typealias Characteristic = BLECharacteristic
    public typealias Descriptor = BLEDescriptor

    let host: HostStack
    let factory: TransportFactory
    /// The transport string this device was created with.
    public let transport: String
    /// Process-wide index of this device (names its btsnoop capture).
    public let deviceIndex: Int

    /// A device on the controller named by `transport` (see API.md: `virtual`, `virtual:NAME`,
    /// `tcp:HOST:PORT`, `serial:PATH[,BAUD]`, `hci:N`). The controller is opened by `active(true)`.
    public init(transport: String) throws {
        let spec: TransportSpec
        do {
            spec = try TransportSpec(parsing: transport)
        } catch {
            throw BLEError.invalidArgument(error.description)
        }
        let index = DeviceCounter.next()
        self.transport = transport
        self.deviceIndex = index
        let factory = try TransportFactory(spec: spec, deviceIndex: index)
        self.factory = factory
        host = HostStack(label: "\(index)") { try factory.open() }
    }

    /// A device on a controller reached through any `HCITransport` (a custom transport, or a
    /// `VirtualController` made with a particular configuration). `commandTimeout` bounds the wait
    /// for each HCI command's answer.
    public init(controller: HCITransport, commandTimeout: Double = 3.0) {
        let index = DeviceCounter.next()
        transport = controller.name
        deviceIndex = index
        let factory = TransportFactory(transport: controller, deviceIndex: index)
        self.factory = factory
        host = HostStack(label: "\(index)", executor: controller.executor) { try factory.open() }
        // A timeout that is not a positive number keeps the default.
        let timeout = commandTimeout.isFinite && commandTimeout > 0 ? commandTimeout : 3.0
        host.read { $0.config.commandTimeoutSeconds = timeout }
    }

    /// Releasing a device tears it down as `active(false)` does, in the background: its links are
    /// disconnected (peers see the disconnection), the controller is reset and the transport
    /// closed (a virtual controller leaves its radio). An `irq` handler that captures the device
    /// strongly keeps it alive: capture it `weak` or `unowned`, or call `active(false)`.
    deinit {
        host.release()
    }

    /// A device on `$BLE_TRANSPORT`, or on the default virtual radio.
    public convenience init() throws {
        try self.init(transport: ProcessEnvironment.get("BLE_TRANSPORT") ?? "virtual")
    }

    // MARK: Configuration

    public func active() -> Bool {
        host.read { $0.isActive }
    }

    /// Why the radio went off on its own: the transport closed or failed (a controller unplugged,
    /// killed, or sending bytes that are not HCI). Cleared by `active(true)`.
    ///
    /// When a session ends this way, every pending procedure ends with its event as on a normal
    /// end (`scanDone`, the disconnect events, `gattc*Done` with status -107), and they are raised
    /// after the radio went off: an `irq` handler tells a failure from a normal end by
    /// `active() == false` (with `sessionFailure` saying why), e.g. on `scanDone`.
    public var sessionFailure: BLEError? {
        host.read { $0.sessionFailure }
    }

    /// Turns the radio on (opening the controller and running its init sequence) or off.
    /// Returns the new state. Activating an active radio keeps it as it is.
    @discardableResult
    public func active(_ active: Bool) throws -> Bool {
        try host.perform { h in
            if active { try h.activate() } else { h.deactivate() }
        }
        return self.active()
    }

    public func config<Value>(_ key: ConfigKey<Value>) throws -> Value {
        try host.read { try key.get($0) }
    }

    public func config(addrMode: AddressMode? = nil, gapName: String? = nil, rxbuf: Int? = nil,
                       mtu: Int? = nil, bond: Bool? = nil, mitm: Bool? = nil,
                       io: IOCapability? = nil, leSecure: Bool? = nil) throws {
        try host.perform { h in
            try h.configure(addrMode: addrMode, gapName: gapName, rxbuf: rxbuf, mtu: mtu, bond: bond, mitm: mitm,
                            io: io, leSecure: leSecure)
        }
    }

    /// Records every HCI packet of this device to a btsnoop file (Wireshark reads it), from the
    /// next `active(true)` on; nil stops recording at the next activation. Overrides `BLE_SNOOP`.
    public func capture(to path: String?) {
        factory.capturePath.value = path
    }

    /// Runs `body` (calls on this device) without blocking the caller, and calls `completion`
    /// with nil once the controller has answered every command they issued, or with the first
    /// failure (an error `body` threw, an HCI command refused or never answered). `body` and
    /// `completion` run on the device's queue, `body` in a later turn than the caller's (never
    /// nested inside an `irq` handler that submits it). This is the form to use inside an `irq`
    /// handler, where the blocking calls cannot wait for the controller: they return at once and
    /// their HCI failures show only in `lastCommandError`.
    public func submit(_ body: @escaping @Sendable (BLE) throws -> Void,
                       completion: @escaping @Sendable (BLEError?) -> Void) {
        host.submit({ [weak self] _ in
            guard let self else { throw BLEError.notActive }
            try body(self)
        }, done: completion)
    }

    /// The last HCI command that failed, whichever call issued it (a call made inside an `irq`
    /// handler cannot wait for its commands: this is where their failure shows), nil if none.
    public var lastCommandError: BLEError? {
        host.read { $0.lastCommandError }
    }

    // MARK: Events

    /// Sets the event handler (nil removes it). It runs on the device's queue, one event at a
    /// time, and may call any method of this object.
    public func irq(_ handler: (@Sendable (Event) -> IRQResult?)?) {
        host.read { $0.handler = handler }
    }

    // MARK: Broadcaster, observer, central, peripheral

    public func gapAdvertise(_ intervalUs: Int?, advData: [UInt8]? = nil, respData: [UInt8]? = nil,
                             connectable: Bool = true) throws {
        try host.perform { try $0.gapAdvertise(intervalUs: intervalUs, advData: advData, respData: respData,
                                               connectable: connectable) }
    }

    public func gapScan(_ durationMs: Int?, _ intervalUs: Int = 1_280_000, _ windowUs: Int = 11_250,
                        _ active: Bool = false) throws {
        try host.perform { try $0.gapScan(durationMs: durationMs, intervalUs: intervalUs, windowUs: windowUs,
                                          active: active) }
    }

    public func gapConnect(_ addrType: AddressType, _ addr: BluetoothAddress, _ scanDurationMs: Int = 2000,
                           _ minConnIntervalUs: Int? = nil, _ maxConnIntervalUs: Int? = nil) throws {
        try host.perform { try $0.gapConnect(addrType: addrType, addr: addr, scanDurationMs: scanDurationMs,
                                             minIntervalUs: minConnIntervalUs, maxIntervalUs: maxConnIntervalUs) }
    }

    /// `gap_connect(None)`: cancels a pending connection attempt.
    public func gapConnectCancel() throws {
        try host.perform { try $0.gapConnectCancel() }
    }

    @discardableResult
    public func gapDisconnect(_ connHandle: UInt16) throws -> Bool {
        try host.perform { try $0.gapDisconnect(connHandle) }
    }

    // MARK: GATT server

    /// Replaces the database (GAP and GATT services come first). Returns, per service, the value
    /// handles of its characteristics and descriptors in definition order. Throws `.busy` while
    /// advertising; while connected, subscribed peers get a Service Changed indication.
    public func gattsRegisterServices(_ services: [Service]) throws -> [[UInt16]] {
        try host.perform { try $0.gattsRegisterServices(services) }
    }

    /// The local value of a characteristic or descriptor; `[]` for an unknown handle. Never throws.
    public func gattsRead(_ valueHandle: UInt16) -> [UInt8] {
        host.read { $0.gattsRead(valueHandle) }
    }

    public func gattsWrite(_ valueHandle: UInt16, _ data: [UInt8], _ sendUpdate: Bool = false) throws {
        try host.perform { try $0.gattsWrite(valueHandle, data, sendUpdate: sendUpdate) }
    }

    public func gattsNotify(_ connHandle: UInt16, _ valueHandle: UInt16, _ data: [UInt8]? = nil) throws {
        try host.perform { try $0.gattsNotify(connHandle, valueHandle, data) }
    }

    public func gattsIndicate(_ connHandle: UInt16, _ valueHandle: UInt16, _ data: [UInt8]? = nil) throws {
        try host.perform { try $0.gattsIndicate(connHandle, valueHandle, data) }
    }

    public func gattsSetBuffer(_ valueHandle: UInt16, _ len: Int, _ append: Bool = false) throws {
        try host.perform { try $0.gattsSetBuffer(valueHandle, len, append: append) }
    }

    // MARK: GATT client

    public func gattcDiscoverServices(_ connHandle: UInt16, _ uuid: BluetoothUUID? = nil) throws {
        try host.perform { try $0.gattcDiscoverServices(connHandle, uuid) }
    }

    public func gattcDiscoverCharacteristics(_ connHandle: UInt16, _ startHandle: UInt16, _ endHandle: UInt16,
                                             _ uuid: BluetoothUUID? = nil) throws {
        try host.perform { try $0.gattcDiscoverCharacteristics(connHandle, startHandle, endHandle, uuid) }
    }

    public func gattcDiscoverDescriptors(_ connHandle: UInt16, _ startHandle: UInt16, _ endHandle: UInt16) throws {
        try host.perform { try $0.gattcDiscoverDescriptors(connHandle, startHandle, endHandle) }
    }

    /// Reads the whole value (Read Blob past MTU-1 bytes): one `gattcReadResult`, then `gattcReadDone`.
    public func gattcRead(_ connHandle: UInt16, _ valueHandle: UInt16) throws {
        try host.perform { try $0.gattcRead(connHandle, valueHandle) }
    }

    /// `.noResponse`: a Write Command of at most MTU-3 bytes. `.withResponse`: a Write Request, or a
    /// long write (Prepare/Execute) past MTU-3 bytes; one `gattcWriteDone` either way.
    public func gattcWrite(_ connHandle: UInt16, _ valueHandle: UInt16, _ data: [UInt8],
                           _ mode: WriteMode = .noResponse) throws {
        try host.perform { try $0.gattcWrite(connHandle, valueHandle, data, mode) }
    }

    public func gattcExchangeMtu(_ connHandle: UInt16) throws {
        try host.perform { try $0.gattcExchangeMtu(connHandle) }
    }

    // MARK: L2CAP connection-oriented channels (land with the L2CAP issue)

    public func l2capListen(_ psm: UInt16, _ mtu: Int) throws {
        try requireActive()
        throw BLEError.notSupported
    }

    public func l2capConnect(_ connHandle: UInt16, _ psm: UInt16, _ mtu: Int) throws {
        try requireActive()
        throw BLEError.notSupported
    }

    public func l2capDisconnect(_ connHandle: UInt16, _ cid: UInt16) throws {
        try requireActive()
        throw BLEError.notSupported
    }

    public func l2capSend(_ connHandle: UInt16, _ cid: UInt16, _ buf: [UInt8]) throws -> Bool {
        try requireActive()
        throw BLEError.notSupported
    }

    public func l2capRecvinto(_ connHandle: UInt16, _ cid: UInt16, _ buf: inout [UInt8]) throws -> Int {
        try requireActive()
        throw BLEError.notSupported
    }

    public func l2capAvailable(_ connHandle: UInt16, _ cid: UInt16) throws -> Int {
        try requireActive()
        throw BLEError.notSupported
    }

    // MARK: Pairing and bonding (lands with the security issue)

    public func gapPair(_ connHandle: UInt16) throws {
        try requireActive()
        throw BLEError.notSupported
    }

    public func gapPasskey(_ connHandle: UInt16, _ action: PasskeyAction, _ passkey: Int) throws {
        try requireActive()
        throw BLEError.notSupported
    }

    private func requireActive() throws {
        if !active() { throw BLEError.notActive }
    }
}

enum DeviceCounter {
    private static let counter = Locked(0)
    static func next() -> Int {
        counter.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}
