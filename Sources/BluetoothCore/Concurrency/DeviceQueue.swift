import Dispatch

/// The serial executor of one device (or of one virtual radio): all of its protocol state is
/// touched only from here, so protocol code takes no locks (DESIGN.md principle 2). Built on a
/// Dispatch serial queue, so thousands of devices share the global thread pool instead of owning
/// a thread each.
///
/// In virtual time (`init(label:executor:)`) the queue's work runs on a shared
/// `VirtualTimeExecutor` instead, driven by whoever waits, and its timers read virtual time.
public final class DeviceQueue: Sendable {
    public let label: String
    let queue: DispatchQueue
    private let key = DispatchSpecificKey<UInt8>()
    /// Set for a queue in virtual time.
    public let executor: VirtualTimeExecutor?

    public init(label: String) {
        self.label = label
        queue = DispatchQueue(label: label)
        executor = nil
        queue.setSpecific(key: key, value: 1)
    }

    /// A queue whose work runs on `executor`, in virtual time.
    public init(label: String, executor: VirtualTimeExecutor) {
        self.label = label
        queue = DispatchQueue(label: label)
        self.executor = executor
    }

    /// True when the caller is running on this queue.
    public var isCurrent: Bool {
        if let executor { return executor.isRunning(self) }
        return DispatchQueue.getSpecific(key: key) != nil
    }

    /// Clock of this queue's timers: monotonic nanoseconds, virtual in virtual time.
    public var now: UInt64 { executor?.now ?? MonotonicClock.now() }

    public func async(_ work: @escaping @Sendable () -> Void) {
        if let executor { return executor.enqueue(self, work) }
        queue.async(execute: work)
    }

    /// Runs `work` on the queue and waits for it; inline when already on the queue (so it can be
    /// used from inside event handlers without deadlocking). In virtual time the caller drives
    /// the executor until its work has run (inline when it is already driving).
    public func sync<T>(_ work: () throws -> T) rethrows -> T {
        if isCurrent { return try work() }
        if let executor {
            if executor.isDriverThread { return try executor.runInline(self, work) }
            return try withoutActuallyEscaping(work) { escapable in
                let box = SyncBox<T>()
                nonisolated(unsafe) let body = escapable
                executor.enqueue(self) { box.result = Result { try body() } }
                executor.run { box.result != nil }
                guard let result = box.result else {
                    // Cannot happen: the job was queued before driving and jobs always run.
                    return try executor.runInline(self, escapable)
                }
                return try result.get()
            }
        }
        return try queue.sync(execute: work)
    }

    /// Runs `work` after `nanoseconds` on this queue. The returned timer cancels it.
    @discardableResult
    public func schedule(afterNanoseconds nanoseconds: UInt64, _ work: @escaping @Sendable () -> Void) -> DeviceTimer {
        let timer = DeviceTimer()
        if let executor {
            executor.schedule(self, afterNanoseconds: nanoseconds, timer: timer, work)
            return timer
        }
        let item = DispatchWorkItem { [timer] in
            if timer.fire() { work() }
        }
        timer.item = item
        let delta = nanoseconds > UInt64(Int.max) ? Int.max : Int(nanoseconds)
        queue.asyncAfter(deadline: .now() + .nanoseconds(delta), execute: item)
        return timer
    }

    /// A timer that never fires (for a scheduler whose owner is gone).
    public static func cancelledTimer() -> DeviceTimer {
        let timer = DeviceTimer()
        timer.cancel()
        return timer
    }

    public func schedule(afterMilliseconds ms: Int, _ work: @escaping @Sendable () -> Void) -> DeviceTimer {
        let (ns, overflow) = UInt64(max(ms, 0)).multipliedReportingOverflow(by: 1_000_000)
        return schedule(afterNanoseconds: overflow ? UInt64(Int.max) : ns, work)
    }

    /// Nanoseconds for a duration in seconds: negative and NaN become 0, huge values saturate.
    public static func nanoseconds(seconds: Double) -> UInt64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        let ns = seconds * 1e9
        return ns >= Double(Int.max) ? UInt64(Int.max) : UInt64(ns)
    }
}

/// A cancellable one-shot timer of a `DeviceQueue`. Cancel it from the queue it runs on; a cancelled
/// timer never fires.
public final class DeviceTimer: @unchecked Sendable {
    // Safe: both fields are read and written only on the owning DeviceQueue (schedule sets `item`
    // before the work item can run; fire and cancel run on the queue).
    fileprivate var item: DispatchWorkItem?
    private var cancelled = false

    /// Fired or cancelled.
    var isCancelled: Bool { cancelled }

    func fire() -> Bool {
        if cancelled { return false }
        cancelled = true
        item = nil
        return true
    }

    public func cancel() {
        cancelled = true
        item?.cancel()
        item = nil
    }
}

/// Monotonic time in nanoseconds.
public enum MonotonicClock {
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// The result of work run through a virtual-time `sync`.
private final class SyncBox<T>: @unchecked Sendable {
    // Safe: written by the job and read by the same (driving) thread after the job ran.
    var result: Result<T, any Error>?
}
