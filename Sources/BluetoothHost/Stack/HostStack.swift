import BluetoothCore
import Foundation
import BluetoothTransport
import Logging
import Synchronization

/// One device's host stack. All state is confined to `queue`: public calls hop onto it with
/// `perform`, transport packets are handed to it with `async`, and `irq` events are raised on it.
package final class HostStack: @unchecked Sendable {
    // Safe: every mutable field below is read and written only on `queue` (see `perform`, and the
    // transport delegate, which hops onto `queue` before touching anything).

    public let queue: DeviceQueue
    let log: Logger
    private let makeTransport: @Sendable () throws -> HCITransport

    package var config = HostConfiguration()
    package var handler: (@Sendable (BLEEvent) -> BLEIRQResult?)?

    // Lifecycle
    enum Power { case off, starting, on, stopping }
    var power: Power = .off
    var transport: HCITransport?
    private var session: TransportSession?
    private var generation: UInt64 = 0

    // HCI
    var commands: CommandQueue!
    var acl: ACLOutbound!
    var reassembler = ACLReassembler()
    var controller = ControllerInfo()
    /// The completion a public call collects its commands into, made on first use (most calls,
    /// notifications and writes among them, send no HCI command and need none).
    var currentCompletion: Completion? {
        if collecting && collected == nil { collected = Completion() }
        return collected
    }
    /// Set by `perform` while an off-queue call runs.
    private var collecting = false
    private var collected: Completion?

    // Events: queued during a turn, delivered at its end (see `turn`).
    private var pendingEvents: [BLEEvent] = []
    private var eventHead = 0
    private var turnDepth = 0
    private var delivering = false

    // GAP
    var staticRandomAddress: BluetoothAddress?
    var advertising = false
    var advData: [UInt8] = []
    var respData: [UInt8] = []
    var scanning = false
    var scanTimer: DeviceTimer?
    var extendedFragments: [ExtendedReportKey: [UInt8]] = [:]
    var pendingConnect: PendingConnect?
    var connections: [UInt16: Connection] = [:]
    /// Links the app was told failed (a cancel the controller ignored) that connected anyway.
    var unwantedConnectTargets: Set<BluetoothAddress> = []

    // ATT/GATT
    var database = GATTDatabase.standard
    /// The value a remote write just stored, until its gattsWrite event is raised.
    var pendingWriteEvent: UInt16?

    // L2CAP
    /// Test hook: PDUs on channels the host does not serve, before they are dropped.
    var unhandledL2CAP: (@Sendable (UInt16, UInt16, [UInt8]) -> Void)?
    /// Test hook: every L2CAP PDU received (handle, CID, payload), before it is handled.
    var receivedL2CAP: (@Sendable (UInt16, UInt16, [UInt8]) -> Void)?
    private(set) var droppedACL = 0
    /// The last HCI command that failed (and was not tolerated): which, and why.
    private(set) var lastCommandFailure: HCIError?
    /// The same, as the public API reports it.
    package var lastCommandError: BLEError? { lastCommandFailure?.bleError }
    /// The largest L2CAP payload reassembled from the controller: every fixed channel's PDUs fit
    /// in the largest ATT MTU (517, Vol 3 Part F 3.2.8; signalling and SMP PDUs are smaller).
    /// Longer PDUs are dropped as soon as their basic header is seen, so a link holds at most this
    /// much for an incomplete PDU. L2CAP channels raise it to their MPS when they land.
    package var maxInboundL2CAPPayload = 517
    /// Why the last session ended on its own (the transport closed or failed); cleared by the next
    /// activation.
    package private(set) var sessionFailure: BLEError?

    /// `executor`: the virtual-time executor of the controller, when it runs on one.
    package init(label: String, executor: VirtualTimeExecutor? = nil,
                 makeTransport: @escaping @Sendable () throws -> HCITransport) {
        if let executor {
            queue = DeviceQueue(label: "ble.\(label)", executor: executor)
        } else {
            queue = DeviceQueue(label: "ble.\(label)")
        }
        var logger = Logger(label: "ble.\(label)")
        logger.logLevel = HostStack.logLevelFromEnvironment()
        log = logger
        self.makeTransport = makeTransport
    }

    static func logLevelFromEnvironment() -> Logger.Level {
        if let s = getenvString("BLE_LOG"), let level = Logger.Level(rawValue: s.lowercased()) { return level }
        return .warning
    }

    // MARK: Public call plumbing

    /// Runs `body` on the device's queue. Commands it issues are collected; when called from
    /// another thread, waits for them and throws the first failure.
    package func perform<T>(_ body: (HostStack) throws -> T) throws -> T {
        let onQueue = queue.isCurrent
        // Inside `submit`: the call's commands join the submitted work's completion.
        if onQueue && collecting { return try turn { try body(self) } }
        var completion: Completion?
        let value: T = try queue.sync {
            let saved = (collecting, collected)
            collecting = !onQueue
            collected = nil
            defer {
                completion = collected
                (collecting, collected) = saved
            }
            return try turn { try body(self) }
        }
        if let completion {
            completion.seal()
            // In virtual time the caller drives the executor until its commands are answered.
            if let executor = queue.executor { executor.run { completion.isFinished } }
            if let error = completion.wait(timeoutSeconds: 120) { throw error }
        }
        return value
    }

    /// The non-blocking form of `perform`: runs `body` on the queue in a later turn (never inside
    /// the caller, even on the queue), collects the commands it issues, and calls `done` on the
    /// queue with the first failure (a thrown error or an HCI failure) once they all finished.
    package func submit(_ body: @escaping @Sendable (HostStack) throws -> Void,
                        done: @escaping @Sendable (BLEError?) -> Void) {
        queue.async { [self] in
            turn {
                let completion = Completion()
                let saved = (collecting, collected)
                collecting = true
                collected = completion
                defer { (collecting, collected) = saved }
                completion.begin()
                do {
                    try body(self)
                    completion.end(nil)
                } catch let e as BLEError {
                    completion.end(e)
                } catch {
                    completion.end(.io("\(error)"))
                }
                completion.seal(then: done)
            }
        }
    }

    /// Runs `body` on the queue without waiting for commands.
    package func read<T>(_ body: (HostStack) throws -> T) rethrows -> T {
        try queue.sync { try turn { try body(self) } }
    }

    // MARK: Events

    /// Runs one turn of protocol work (a public call, a burst of packets, a timer). Events it
    /// raises are queued and delivered when the outermost turn ends, after the state that caused
    /// them is complete; a handler's own calls raise theirs after it returns, never inside it.
    func turn<T>(_ body: () throws -> T) rethrows -> T {
        turnDepth += 1
        defer {
            turnDepth -= 1
            if turnDepth == 0 { deliverEvents() }
        }
        return try body()
    }

    /// Runs `work` on the queue after `nanoseconds`, as a turn.
    func schedule(afterNanoseconds nanoseconds: UInt64, _ work: @escaping @Sendable (HostStack) -> Void) -> DeviceTimer {
        queue.schedule(afterNanoseconds: nanoseconds) { [weak self] in
            guard let self else { return }
            self.turn { work(self) }
        }
    }

    func schedule(afterMilliseconds ms: Int, _ work: @escaping @Sendable (HostStack) -> Void) -> DeviceTimer {
        let (ns, overflow) = UInt64(max(ms, 0)).multipliedReportingOverflow(by: 1_000_000)
        return schedule(afterNanoseconds: overflow ? UInt64(Int.max) : ns, work)
    }

    /// Queues an event for the `irq` handler (delivered when the current turn ends).
    func emit(_ event: BLEEvent) {
        pendingEvents.append(event)
        if turnDepth == 0 { deliverEvents() }
    }

    /// Raises an event at once, after the events queued before it: those that need the handler's
    /// answer (a read request; later secrets, channel accept, passkeys) and those whose handler
    /// must see the state as it is now (`gattsWrite`: `gattsRead` returns the value just written,
    /// and in append mode takes it).
    @discardableResult
    func raiseNow(_ event: BLEEvent) -> BLEIRQResult? {
        deliverEvents()
        log.debug("event \(event.name)")
        let saved = (collecting, collected)
        (collecting, collected) = (false, nil)
        defer { (collecting, collected) = saved }
        return handler?(event)
    }

    /// Delivers queued events in order, one at a time; events raised meanwhile join the queue.
    /// Handlers run outside any call's command collection: what they call is theirs.
    private func deliverEvents() {
        guard !delivering else { return }
        delivering = true
        let saved = (collecting, collected)
        (collecting, collected) = (false, nil)
        defer {
            delivering = false
            (collecting, collected) = saved
        }
        while eventHead < pendingEvents.count {
            let event = pendingEvents[eventHead]
            eventHead += 1
            log.debug("event \(event.name)")
            _ = handler?(event)
        }
        pendingEvents.removeAll(keepingCapacity: pendingEvents.count < 4096)
        eventHead = 0
    }

    // MARK: Commands

    /// Sends a command; `done` runs on the queue with its return parameters or error. A failure is
    /// also recorded in the completion of the public call that issued it.
    /// `tolerating`: statuses that are not failures for this call. `bestEffort`: no failure is
    /// reported to the caller (shutting down).
    func send<C: HCICommand>(_ command: C, completion: Completion? = nil, tolerating: Set<HCIStatus> = [],
                             bestEffort: Bool = false, _ done: ((Result<C.Return, HCIError>) -> Void)? = nil) {
        let owner = completion ?? currentCompletion
        owner?.begin()
        guard power != .off, let commands else {
            let error = HCIError.aborted(C.opcode, "Bluetooth is not active")
            done?(.failure(error))
            owner?.end(error.bleError)
            return
        }
        commands.enqueue(opcode: C.opcode, packet: command.packet) { [weak self] result in
            let typed: Result<C.Return, HCIError>
            switch result {
            case .failure(let e):
                typed = .failure(e)
            case .success(let bytes):
                if C.completesWithStatus {
                    var r = ByteReader([], context: "\(C.opcode)")
                    typed = Result { try C.Return(returnParameters: &r) }.mapError { .malformed(C.opcode, "\($0)") }
                } else if bytes.isEmpty {
                    typed = .failure(.malformed(C.opcode, "Command Complete without a status"))
                } else if bytes[0] != 0 {
                    typed = .failure(.status(HCIStatus(bytes[0]), C.opcode))
                } else {
                    var r = ByteReader(Array(bytes.dropFirst()), context: "return parameters of \(C.opcode)")
                    typed = Result { try C.Return(returnParameters: &r) }.mapError { .malformed(C.opcode, "\($0)") }
                }
            }
            var ignored = bestEffort
            if case .failure(.status(let s, _)) = typed, tolerating.contains(s) { ignored = true }
            if case .failure(let e) = typed, ignored {
                self?.log.info("\(e) (ignored)")
                done?(typed)
                owner?.end(nil)
                return
            }
            if case .failure(let e) = typed {
                self?.log.warning("\(e)")
                self?.lastCommandFailure = e
            }
            done?(typed)
            if case .failure(let e) = typed { owner?.end(e.bleError) } else { owner?.end(nil) }
        }
    }

    func transmit(_ packet: HCIPacket) {
        transport?.send(packet)
    }

    // MARK: Lifecycle

    package var isActive: Bool { power == .on }

    /// Opens the transport and runs the controller init sequence.
    package func activate() throws {
        if power == .stopping { finishSession(reason: "Bluetooth was restarted", raiseEvents: false) }
        if power != .off { return }
        let t: HCITransport
        do {
            t = try makeTransport()
        } catch let e as TransportError {
            throw BLEError.io(e.description)
        }
        generation &+= 1
        sessionFailure = nil
        lastCommandFailure = nil
        let s = TransportSession(host: self, generation: generation)
        commands = CommandQueue(schedule: { [weak self] ns, work in
            guard let self else { return DeviceQueue.cancelledTimer() }
            return self.schedule(afterNanoseconds: ns) { _ in work() }
        }, now: { [queue] in queue.now }, timeoutNanoseconds: DeviceQueue.nanoseconds(seconds: config.commandTimeoutSeconds)) {
            [weak self] packet in self?.transmit(packet)
        }
        commands.onTimeout = { [weak self] error in self?.log.error("\(error)") }
        acl = ACLOutbound { [weak self] packet in self?.transmit(packet) }
        acl.maxQueuedBytes = config.maxQueuedBytes
        acl.onRoom = { [weak self] handle in self?.aclRoom(handle) }
        reassembler.reset()
        controller = ControllerInfo()
        database = .standard
        connections.removeAll()
        transport = t
        session = s
        power = .starting
        do {
            try t.open(delegate: s)
        } catch let e as TransportError {
            transport = nil
            session = nil
            power = .off
            throw BLEError.io(e.description)
        }
        runInitSequence(completion: currentCompletion)
    }

    /// Stops everything and closes the transport. Links are dropped without events, as
    /// MicroPython's `active(False)` does. The controller is left quiet first (advertising and
    /// scanning off, links closed, Reset), because a controller behind TCP may keep its state.
    package func deactivate() {
        switch power {
        case .off, .stopping:
            return
        case .starting:
            finishSession(reason: "Bluetooth was deactivated", raiseEvents: false)
        case .on:
            power = .stopping
            scanTimer?.cancel()
            scanTimer = nil
            pendingConnect?.timer?.cancel()
            // Best effort: a link may already be gone, a controller may refuse; none of it matters now.
            if advertising { stopAdvertisingCommands(completion: nil, bestEffort: true) }
            if scanning { stopScanCommands(completion: nil, bestEffort: true) }
            if pendingConnect != nil { send(HCI.LECreateConnectionCancel(), bestEffort: true) }
            for handle in connections.keys.sorted() {
                send(HCI.Disconnect(handle: handle, reason: .remotePowerOff), bestEffort: true)
            }
            let g = generation
            // Every command has its own timeout, so this always ends.
            send(HCI.Reset(), bestEffort: true) { [weak self] _ in
                guard let self, self.generation == g else { return }
                self.finishSession(reason: "Bluetooth was deactivated", raiseEvents: false)
            }
        }
    }

    /// The owner (the `BLE`) let go of this host: its links must not stay up with no one to serve
    /// them. Tears down as `deactivate` does (links disconnected, the controller reset, the
    /// transport closed) and keeps itself alive until that is done; no more events are raised.
    package func release() {
        queue.async { [self] in
            handler = nil
            pendingEvents.removeAll()
            eventHead = 0
            guard power != .off else { return }
            keepAliveUntilClosed = self
            deactivate()
            if power == .off { keepAliveUntilClosed = nil }
        }
    }

    /// Set by `release` while its teardown runs; cleared when the session finishes.
    private var keepAliveUntilClosed: HostStack?

    /// Tears down the session; with `raiseEvents`, tells the app about every link and procedure it ended.
    func finishSession(reason: String, raiseEvents: Bool) {
        let t = transport
        // Let queued commands reach the transport before closing (they were sent synchronously).
        transport = nil
        session?.invalidate()
        session = nil
        generation &+= 1
        power = .off
        commands?.abortAll(reason: reason)
        scanTimer?.cancel()
        scanTimer = nil
        pendingConnect?.timer?.cancel()
        let hadConnect = pendingConnect != nil
        pendingConnect = nil
        let closed = connections.values.sorted { $0.handle < $1.handle }
        connections.removeAll()
        let wasScanning = scanning
        scanning = false
        advertising = false
        extendedFragments.removeAll()
        t?.close()
        // A released host may go now (callers hold their own reference for this call).
        defer { keepAliveUntilClosed = nil }
        if raiseEvents {
            if wasScanning { emit(.scanDone) }
            if hadConnect { emit(.peripheralDisconnect(connHandle: 0xFFFF, addrType: .unknown, addr: .zero)) }
        }
        // Every link ends the one way links end.
        for c in closed { endConnection(c, raiseEvents: raiseEvents) }
        acl?.reset()
        reassembler.reset()
    }

    func transportClosed(_ error: TransportError?, generation g: UInt64) {
        guard g == generation, power != .off else { return }
        let stopping = power == .stopping
        if !stopping {
            let why = error?.description ?? "the controller closed the transport"
            log.error("transport closed: \(why)")
            // Set before the events below, so a handler can tell this end from a normal one.
            sessionFailure = .io("the session ended: \(why)")
        }
        finishSession(reason: error?.description ?? "the transport closed", raiseEvents: !stopping)
    }

    // MARK: Incoming packets

    func receive(_ packet: HCIPacket, generation g: UInt64) {
        guard g == generation, power != .off else { return }
        switch packet.type {
        case .event:
            let event: HCIEvent
            do {
                event = try HCIEvent(parsing: packet.bytes)
            } catch {
                log.warning("dropped malformed event: \(error)")
                return
            }
            handle(event)
        case .acl:
            if power == .on { receiveACL(packet.bytes) }
        default:
            log.debug("ignored \(packet.type) packet")
        }
    }

    private func handle(_ event: HCIEvent) {
        if power != .on {
            // Starting (a controller behind TCP may still report an earlier session's links or
            // scans) or shutting down: only command flow control matters.
            switch event {
            case .commandComplete(let e): commands.commandComplete(e)
            case .commandStatus(let e): commands.commandStatus(e)
            default: break
            }
            return
        }
        switch event {
        case .commandComplete(let e): commands.commandComplete(e)
        case .commandStatus(let e): commands.commandStatus(e)
        case .numberOfCompletedPackets(let e):
            for entry in e.entries { acl.completed(handle: entry.handle, count: Int(entry.count)) }
            acl.pump()
        case .disconnectionComplete(let e): handleDisconnectionComplete(e)
        case .leConnectionComplete(let e):
            handleConnectionComplete(status: e.status, handle: e.handle, role: e.role, peerAddressType: e.peerAddressType,
                                     peerAddress: e.peerAddress, interval: e.interval, latency: e.latency,
                                     timeout: e.supervisionTimeout)
        case .leEnhancedConnectionComplete(let e):
            handleConnectionComplete(status: e.status, handle: e.handle, role: e.role, peerAddressType: e.peerAddressType,
                                     peerAddress: e.peerAddress, interval: e.interval, latency: e.latency,
                                     timeout: e.supervisionTimeout)
        case .leConnectionUpdateComplete(let e): handleConnectionUpdate(e)
        case .leAdvertisingReport(let e): handleAdvertisingReport(e)
        case .leExtendedAdvertisingReport(let e): handleExtendedAdvertisingReport(e)
        case .leAdvertisingSetTerminated(let e):
            if e.advertisingHandle == 0 { advertising = false }
        case .leScanTimeout:
            break  // The host times scans itself.
        case .hardwareError(let e):
            log.error("controller hardware error 0x\(String(e.code, radix: 16))")
        case .dataBufferOverflow:
            log.error("controller reports a data buffer overflow")
        case .encryptionChange, .encryptionKeyRefreshComplete, .leLongTermKeyRequest, .leRemoteConnectionParameterRequest,
             .leDataLengthChange, .leMeta, .unknown:
            log.debug("unhandled event \(event)")
        }
    }

    private func receiveACL(_ bytes: [UInt8]) {
        let header: ACLHeader
        do {
            header = try ACLHeader(parsing: bytes)
        } catch {
            return dropACL(0, "ACL packet shorter than its header")
        }
        // Data for a handle with no connection is dropped before any of it is kept: a confused or
        // hostile controller cannot make the host hold fragments for links that do not exist.
        guard connections[header.handle] != nil else {
            return dropACL(header.handle, "ACL for unknown connection")
        }
        let (handle, outcome, discarded) = reassembler.receive(header: header, packet: bytes,
                                                               maxPayload: maxInboundL2CAPPayload)
        if let discarded { dropACL(handle, discarded) }
        switch outcome {
        case .incomplete: return
        case .dropped(let why): dropACL(handle, why)
        case let .pdu(cid, payload):
            receivedL2CAP?(handle, cid, payload)
            receiveL2CAP(handle: handle, cid: cid, payload: payload)
        }
    }

    /// Counts and logs dropped inbound ACL; a flood logs its first drop and then one line per
    /// thousand, not one per packet.
    private func dropACL(_ handle: UInt16, _ why: String) {
        droppedACL += 1
        let message = "dropped ACL on 0x\(String(handle, radix: 16)): \(why) (\(droppedACL) dropped so far)"
        if droppedACL == 1 || droppedACL % 1000 == 0 { log.warning("\(message)") } else { log.debug("\(message)") }
    }

    // MARK: L2CAP out

    /// Sends one L2CAP basic-mode PDU on a fixed channel (Core Vol 3 Part A 3.1): replies,
    /// requests and signalling, which their protocols bound and which are never refused. False
    /// when the link is gone.
    @discardableResult
    func sendL2CAP(handle: UInt16, cid: UInt16, payload: [UInt8]) -> Bool {
        l2capPDU(handle: handle, cid: cid, payload: payload, bounded: false) == .queued
    }

    private func l2capPDU(handle: UInt16, cid: UInt16, payload: [UInt8], bounded: Bool) -> ACLOutbound.SendResult {
        l2capPDU(handle: handle, cid: cid, length: payload.count, bounded: bounded) { $0.append(payload) }
    }

    /// Writes one L2CAP PDU (its payload by `write`; `length` sizes the buffer) into a single
    /// buffer that leaves room for the ACL header, so a PDU that fits one fragment is never copied
    /// again. A bounded send (what an application produces at its own pace: a notification, a
    /// write without response) is refused with `.full` when the link's queue holds
    /// `HostConfiguration.maxQueuedBytes`; `aclRoom` follows when there is room again.
    func l2capPDU(handle: UInt16, cid: UInt16, length: Int, bounded: Bool,
                  _ write: (inout ByteWriter) -> Void) -> ACLOutbound.SendResult {
        guard power == .on, connections[handle] != nil else { return .unknownLink }
        var w = ByteWriter(capacity: ACLHeader.size + 4 + length)
        w.u32(0)  // the ACL header, filled in by ACLOutbound
        w.u16(0)  // the basic header's length, set from what `write` wrote
        w.u16(cid)
        write(&w)
        var bytes = w.bytes
        _ = consume w
        let written = bytes.count - ACLHeader.size - 4
        // A basic header counts at most 65 535 octets (Vol 3 Part A 3.1): never cut one silently.
        guard written <= 0xFFFF else { return .tooLong }
        bytes[ACLHeader.size] = UInt8(truncatingIfNeeded: written)
        bytes[ACLHeader.size + 1] = UInt8(truncatingIfNeeded: written >> 8)
        return acl.send(handle: handle, reserved: consume bytes, bounded: bounded)
    }

    /// A link whose queue refused a PDU has room again: the channels that were refused are told
    /// (for ATT, `l2capSendReady` on CID 4; L2CAP channels will share this).
    func aclRoom(_ handle: UInt16) {
        guard let c = connections[handle], c.attStalled else { return }
        c.attStalled = false
        emit(.l2capSendReady(connHandle: handle, cid: FixedChannel.att, status: 0))
    }
}

/// The transport's delegate for one activation. Hops every callback onto the device's queue and
/// tags it with the activation's generation, so packets of a closed session are ignored.
///
/// Its inbox is bounded (`capacity` packets waiting for the host's queue): a reader thread that
/// delivers into a full inbox is held until the host takes the waiting packets (so a TCP window or
/// a UART's flow control pushes back), and the virtual controller asks for the `room` first and
/// keeps its packets until `whenReady`. A burst is handled in one queue turn.
final class TransportSession: HCIFlowControlledDelegate, @unchecked Sendable {
    // Safe: `host` and `generation` are immutable after init (the weak reference is zeroed by the
    // runtime); every other field is guarded by `condition`. HostStack is only touched on its queue.
    private weak var host: HostStack?
    private let generation: UInt64
    /// Packets that may wait for the host's queue.
    static let capacity = 256

    private let condition = NSCondition()
    private var packets: [HCIPacket] = []
    private var scheduled = false
    private var closed = false
    private var readyCallbacks: [@Sendable () -> Void] = []

    init(host: HostStack, generation: UInt64) {
        self.host = host
        self.generation = generation
    }

    var room: Int {
        condition.lock()
        defer { condition.unlock() }
        return closed ? Int.max : max(0, Self.capacity - packets.count)
    }

    func whenReady(_ ready: @escaping @Sendable () -> Void) {
        condition.lock()
        if closed || packets.count < Self.capacity {
            condition.unlock()
            ready()
            return
        }
        readyCallbacks.append(ready)
        condition.unlock()
    }

    /// A burst from a transport that asked for the `room` first: one lock, one turn.
    func transport(didReceiveAll burst: ArraySlice<HCIPacket>) {
        guard let host, !burst.isEmpty else { return }
        condition.lock()
        if closed {
            condition.unlock()
            return
        }
        packets.append(contentsOf: burst)
        let schedule = !scheduled
        scheduled = true
        condition.unlock()
        if schedule { scheduleTurn(host) }
    }

    func transport(didReceive packet: HCIPacket) {
        guard let host else { return }
        // In virtual time the caller is the executor's only thread: it must never wait here (the
        // host could not drain meanwhile). A delivery that did not ask for the room goes in.
        let mayWait = !(host.queue.executor?.isDriverThread ?? false)
        condition.lock()
        // A reader thread that finds the inbox full waits for the host (rechecking now and then).
        while mayWait && packets.count >= Self.capacity && !closed {
            _ = condition.wait(until: Date(timeIntervalSinceNow: 1))
        }
        if closed {
            condition.unlock()
            return
        }
        packets.append(packet)
        let schedule = !scheduled
        scheduled = true
        condition.unlock()
        if schedule { scheduleTurn(host) }
    }

    /// One queue turn takes everything waiting.
    private func scheduleTurn(_ host: HostStack) {
        let g = generation
        host.queue.async { [self] in
            condition.lock()
            let batch = packets
            packets.removeAll(keepingCapacity: true)
            scheduled = false
            let ready = readyCallbacks
            readyCallbacks.removeAll()
            condition.broadcast()
            condition.unlock()
            for r in ready { r() }
            host.turn { for p in batch { host.receive(p, generation: g) } }
        }
    }

    func transport(didClose error: TransportError?) {
        guard let host else { return }
        let g = generation
        host.queue.async { host.turn { host.transportClosed(error, generation: g) } }
    }

    /// The session is over: nothing more is taken, and whoever waits for room is let go.
    func invalidate() {
        condition.lock()
        closed = true
        packets.removeAll()
        let ready = readyCallbacks
        readyCallbacks.removeAll()
        condition.broadcast()
        condition.unlock()
        for r in ready { r() }
    }
}

func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
