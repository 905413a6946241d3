import BluetoothCore
import Dispatch

/// The shared air of any number of virtual controllers in one process. Every controller on a
/// radio keeps its link-layer state on the radio's one `DeviceQueue`, so advertising, scanning,
/// connections and ACL traffic between them need no locks and no thread per controller.
public final class VirtualRadio: Sendable {
    /// The registry name (`"default"` for the plain `virtual` transport) or `private-N`.
    public let name: String
    /// The serial executor of every controller attached to this radio.
    public let queue: DeviceQueue
    let core: RadioCore

    /// The process-wide radio with this name; the same name always returns the same radio.
    public static func named(_ name: String) -> VirtualRadio {
        RadioRegistry.shared.radio(named: name)
    }

    /// A private radio that no other `named(_:)` call returns.
    /// - Parameters:
    ///   - clock: monotonic time in nanoseconds; real time by default.
    ///   - seed: seeds advertising delays and other pseudo-random choices; random by default.
    public convenience init(clock: @escaping @Sendable () -> UInt64 = MonotonicClock.now, seed: UInt64? = nil) {
        self.init(name: "private-\(RadioRegistry.shared.nextPrivateNumber())", clock: clock, seed: seed)
    }

    init(name: String, clock: @escaping @Sendable () -> UInt64 = MonotonicClock.now, seed: UInt64? = nil) {
        self.name = name
        queue = DeviceQueue(label: "virtual-radio.\(name)")
        core = RadioCore(queue: queue, clock: clock,
                         seed: seed ?? UInt64.random(in: .min ... .max))
    }

    /// A private radio in virtual time. Its controllers, and every host opened on one of them
    /// (`BLE(controller:)`), run on one `VirtualTimeExecutor`: nothing runs on its own; blocking
    /// `BLE` calls drive it while they wait, `run(forAtMost:until:)` and `advance(seconds:)` drive
    /// it for a test, and when nothing is runnable the clock jumps to the next deadline, so
    /// timeouts of seconds take microseconds. Everything random on it is drawn from `seed`.
    public convenience init(virtualTimeSeed seed: UInt64) {
        let executor = VirtualTimeExecutor(seed: seed)
        self.init(name: "private-\(RadioRegistry.shared.nextPrivateNumber())", executor: executor)
    }

    init(name: String, executor: VirtualTimeExecutor) {
        self.name = name
        queue = DeviceQueue(label: "virtual-radio.\(name)", executor: executor)
        core = RadioCore(queue: queue, clock: { executor.now }, seed: executor.seed)
    }

    /// The executor of a virtual-time radio; nil for a radio in real time.
    public var executor: VirtualTimeExecutor? { queue.executor }

    /// Drives a virtual-time radio until `done()` holds or `seconds` of virtual time have passed
    /// (nothing happens on a real-time radio). Returns `done()`.
    @discardableResult
    public func run(forAtMost seconds: Double, until done: () -> Bool) -> Bool {
        guard let executor else { return done() }
        return executor.run(forAtMost: DeviceQueue.nanoseconds(seconds: seconds), until: done)
    }

    /// Lets `seconds` of virtual time pass, running everything due meanwhile.
    public func advance(seconds: Double) {
        executor?.advance(byNanoseconds: DeviceQueue.nanoseconds(seconds: seconds))
    }

    /// Fixes the RSSI (dBm) both controllers see for each other, by their public addresses (or by
    /// the addresses they use on the air). Without it a pair gets a fixed value in -40...-70 derived
    /// from the two addresses.
    public func setRSSI(_ dBm: Int8, between a: BluetoothAddress, and b: BluetoothAddress) {
        queue.sync { core.rssiOverrides[RadioCore.pairKey(a, b)] = dBm }
    }

    /// How many controllers are powered on (open) on this radio.
    public var controllerCount: Int {
        queue.sync { core.controllers.count }
    }
}

/// Process-wide registry of named radios and the address counter of virtual controllers.
final class RadioRegistry: @unchecked Sendable {
    // Safe: every stored property is touched only inside `lock.sync`.
    static let shared = RadioRegistry()
    private let lock = DispatchQueue(label: "virtual-radio.registry")
    private var radios: [String: VirtualRadio] = [:]
    private var privateCount = 0
    private var addressCount: UInt64 = 0

    func radio(named name: String) -> VirtualRadio {
        lock.sync {
            if let r = radios[name] { return r }
            let r = VirtualRadio(name: name)
            radios[name] = r
            return r
        }
    }

    func nextPrivateNumber() -> Int {
        lock.sync {
            privateCount += 1
            return privateCount
        }
    }

    /// A public address unique in this process: a fixed, locally administered OUI-like prefix and
    /// a 24-bit counter (wrapping after 16 million controllers).
    func nextPublicAddress() -> BluetoothAddress {
        lock.sync {
            addressCount = addressCount % 0xFF_FFFF + 1
            return BluetoothAddress(value: 0x5A_1E_00 << 24 | addressCount)
        }
    }
}

/// The mutable state of a radio. Lives on the radio queue.
final class RadioCore: @unchecked Sendable {
    // Safe: every stored property is read and written only on the radio's DeviceQueue: public
    // entry points hop there with `async`/`sync` and timers fire there.
    let queue: DeviceQueue
    let scheduler: RadioScheduler
    var rng: SplitMix64
    /// Powered-on controllers.
    var controllers: [ObjectIdentifier: VirtualController] = [:]
    /// Controllers that scan or initiate: the receivers of advertising PDUs.
    /// In the order they started listening, so a run is the same every time.
    var listeners: [VirtualController] = []
    var rssiOverrides: [PairKey: Int8] = [:]
    /// Packets produced in this queue turn, delivered in order when the turn ends.
    private var outbox: [(VirtualController, HCIPacket)] = []
    /// Controllers with packets waiting in `toHost` since the last hand-over.
    private var pendingDeliveries: [VirtualController] = []
    private var flushing = false
    /// Controllers with Number Of Completed Packets to report.
    private var completedPending: [VirtualController] = []
    private var completedFlushScheduled = false

    struct PairKey: Hashable {
        var low: UInt64
        var high: UInt64
    }

    static func pairKey(_ a: BluetoothAddress, _ b: BluetoothAddress) -> PairKey {
        a.value <= b.value ? PairKey(low: a.value, high: b.value) : PairKey(low: b.value, high: a.value)
    }

    init(queue: DeviceQueue, clock: @escaping @Sendable () -> UInt64, seed: UInt64) {
        self.queue = queue
        scheduler = RadioScheduler(queue: queue, clock: clock)
        rng = SplitMix64(seed: seed)
        // Weak: a timer action may drop the last reference to this radio while the scheduler fires.
        scheduler.afterFire = { [weak self] in self?.flush() }
    }

    var now: UInt64 { scheduler.now }

    /// Runs `body` (already on the radio queue) and then delivers what it produced.
    func perform(_ body: () -> Void) {
        body()
        flush()
    }

    /// Queues a packet for `controller`'s host; delivered at the end of the turn, in order.
    func enqueue(_ packet: HCIPacket, to controller: VirtualController) {
        outbox.append((controller, packet))
    }

    func flush() {
        guard !flushing else { return }
        flushing = true
        repeat {
            var i = 0
            // A host may call back into its controller while we deliver (close() runs inline on
            // this queue): what that produces is appended and delivered by this same loop.
            while i < outbox.count {
                let (controller, packet) = outbox[i]
                i += 1
                controller.deliverToHost(packet)
            }
            outbox.removeAll(keepingCapacity: true)
            // Each controller hands its host what it got in this turn in one go (one look at the
            // host's room per turn, not per packet); freed receive buffers may move more.
            let ready = pendingDeliveries
            pendingDeliveries.removeAll(keepingCapacity: true)
            for c in ready {
                c.deliveryPending = false
                c.pumpToHost()
            }
        } while !outbox.isEmpty || !pendingDeliveries.isEmpty
        flushing = false
    }

    /// `controller` has packets for its host: handed over when the turn's outbox is done.
    func noteDelivery(_ controller: VirtualController) {
        pendingDeliveries.append(controller)
    }

    /// Asks for a Number Of Completed Packets flush in a later queue turn (coalescing every packet
    /// accepted until then).
    func noteCompletedPackets(_ controller: VirtualController) {
        completedPending.append(controller)
        guard !completedFlushScheduled else { return }
        completedFlushScheduled = true
        queue.async { [self] in
            perform { flushCompletedPackets() }
        }
    }

    private func flushCompletedPackets() {
        completedFlushScheduled = false
        let pending = completedPending
        completedPending.removeAll(keepingCapacity: true)
        for c in pending { c.reportCompletedPackets() }
    }

    // MARK: Air

    func attach(_ c: VirtualController) { controllers[ObjectIdentifier(c)] = c }

    func detach(_ c: VirtualController) {
        controllers[ObjectIdentifier(c)] = nil
        listeners.removeAll { $0 === c }
    }

    func setListening(_ c: VirtualController, _ on: Bool) {
        let listening = listeners.contains { $0 === c }
        if on && !listening { listeners.append(c) } else if !on && listening { listeners.removeAll { $0 === c } }
    }

    /// The RSSI `a` measures for `b`'s signal (symmetric).
    func rssi(_ a: VirtualController, _ b: VirtualController) -> Int8 {
        if !rssiOverrides.isEmpty {
            if let v = rssiOverrides[Self.pairKey(a.publicAddress, b.publicAddress)] { return v }
            if let ra = a.randomAddress, let rb = b.randomAddress,
               let v = rssiOverrides[Self.pairKey(ra, rb)] { return v }
            if let ra = a.randomAddress, let v = rssiOverrides[Self.pairKey(ra, b.publicAddress)] { return v }
            if let rb = b.randomAddress, let v = rssiOverrides[Self.pairKey(a.publicAddress, rb)] { return v }
        }
        return Self.defaultRSSI(a.publicAddress, b.publicAddress)
    }

    /// A deterministic value in -40...-70 derived from the two addresses.
    static func defaultRSSI(_ a: BluetoothAddress, _ b: BluetoothAddress) -> Int8 {
        let k = pairKey(a, b)
        var mix = SplitMix64(seed: k.low &* 0x0000_0100_0000_01B3 ^ k.high)
        return Int8(truncatingIfNeeded: -40 - Int(mix.next() % 31))
    }

    /// One advertising event of `set` on `advertiser`: every listener whose scan or initiator
    /// window is open at `time` receives it.
    func transmit(from advertiser: VirtualController, set: AdvertisingSet, at time: UInt64) {
        guard !listeners.isEmpty else { return }
        for listener in listeners where listener !== advertiser {
            listener.receive(from: advertiser, set: set, at: time)
            // A connection stops the set: nothing more goes on the air in this event.
            if !set.enabled { return }
        }
    }
}
