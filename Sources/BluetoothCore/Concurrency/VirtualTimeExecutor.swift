import Foundation

/// One executor in virtual time, shared by a virtual radio and every host on it: their queues'
/// work runs here one job at a time, in the order it was queued, and timers fire in deadline
/// order (then in the order they were armed). Nothing runs on its own: a thread that waits for
/// something (a blocking `BLE` call, `VirtualRadio.run`) drives the executor, and when no job is
/// runnable, time jumps to the next deadline. A 30 s timeout takes microseconds, and a run with
/// the same inputs and seed happens the same way every time.
///
/// One thread drives at a time; another thread that needs to drive waits for it. Work queued from
/// other threads (rare: tests) is picked up by the driver.
public final class VirtualTimeExecutor: @unchecked Sendable {
    // Safe: every mutable field is guarded by `condition`, except `current`, which only the
    // driving thread reads and writes (while it drives, under the rule that one thread drives).

    private struct Job {
        let queue: DeviceQueue
        let work: @Sendable () -> Void
    }

    private struct Timer {
        let deadline: UInt64
        let sequence: UInt64
        let queue: DeviceQueue
        let timer: DeviceTimer
        let work: @Sendable () -> Void
    }

    private let condition = NSCondition()
    /// Queued work; a slot is emptied when its job is taken (a `sync` body must not outlive it).
    private var jobs: [Job?] = []
    private var jobHead = 0
    private var heap: [Timer] = []
    private var sequence: UInt64 = 0
    private var nowNanoseconds: UInt64
    private var driver: pthread_t?
    /// The queue whose job is running (on the driving thread).
    private var current: DeviceQueue?
    /// Seeds what hosts and controllers on this executor draw at random.
    public let seed: UInt64
    private var randomState: UInt64
    private var identities: UInt64 = 0

    /// - Parameters:
    ///   - seed: seeds the pseudo-random choices of everything on this executor.
    ///   - start: the virtual clock's first reading, in nanoseconds.
    public init(seed: UInt64, start: UInt64 = 1_000_000_000) {
        self.seed = seed
        randomState = seed
        nowNanoseconds = start
    }

    /// The next pseudo-random value of this executor's sequence (SplitMix64 from `seed`), for
    /// what a host or controller would draw at random (a static random address, LE Rand).
    public func random() -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        randomState &+= 0x9E37_79B9_7F4A_7C15
        var z = randomState
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 1, 2, 3...: numbers things made on this executor (controllers' public addresses), the
    /// same in every run.
    public func nextIdentity() -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        identities += 1
        return identities
    }

    /// Virtual time in nanoseconds.
    public var now: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return nowNanoseconds
    }

    // MARK: Used by DeviceQueue

    func enqueue(_ queue: DeviceQueue, _ work: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(Job(queue: queue, work: work))
        condition.broadcast()
        condition.unlock()
    }

    func schedule(_ queue: DeviceQueue, afterNanoseconds delay: UInt64, timer: DeviceTimer,
                  _ work: @escaping @Sendable () -> Void) {
        condition.lock()
        let (deadline, overflow) = nowNanoseconds.addingReportingOverflow(delay)
        sequence &+= 1
        push(Timer(deadline: overflow ? .max : deadline, sequence: sequence, queue: queue, timer: timer, work: work))
        condition.broadcast()
        condition.unlock()
    }

    /// True when the calling thread is running a job of `queue`.
    func isRunning(_ queue: DeviceQueue) -> Bool {
        isDriverThread && current === queue
    }

    /// True on the thread that drives the executor now.
    public var isDriverThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let driver else { return false }
        return pthread_equal(driver, pthread_self()) != 0
    }

    /// Runs `work` as `queue` now, on the driving thread (a job calling `sync` on another queue of
    /// this executor: single-threaded, so it runs inline).
    func runInline<T>(_ queue: DeviceQueue, _ work: () throws -> T) rethrows -> T {
        let saved = current
        current = queue
        defer { current = saved }
        return try work()
    }

    // MARK: Driving

    /// Runs jobs, and timers as time advances, until `done()` holds, or nothing is left to run,
    /// or virtual time would pass `now + limit` nanoseconds. Returns `done()`.
    @discardableResult
    public func run(forAtMost limit: UInt64 = .max, until done: () -> Bool) -> Bool {
        if isDriverThread {
            // Called from inside a job: drive nested (the job's own caller waits on us).
            return drive(limit: limit, until: done)
        }
        condition.lock()
        while driver != nil { condition.wait() }
        driver = pthread_self()
        condition.unlock()
        defer {
            condition.lock()
            driver = nil
            condition.broadcast()
            condition.unlock()
        }
        return drive(limit: limit, until: done)
    }

    /// Runs everything due within `nanoseconds` of virtual time, then sets the clock there.
    public func advance(byNanoseconds nanoseconds: UInt64) {
        let (target, overflow) = now.addingReportingOverflow(nanoseconds)
        let end = overflow ? UInt64.max : target
        run(forAtMost: nanoseconds) { false }
        condition.lock()
        if nowNanoseconds < end { nowNanoseconds = end }
        condition.unlock()
    }

    private func drive(limit: UInt64, until done: () -> Bool) -> Bool {
        condition.lock()
        let (sum, overflow) = nowNanoseconds.addingReportingOverflow(limit)
        let end = overflow ? UInt64.max : sum
        condition.unlock()
        while !done() {
            condition.lock()
            if jobHead < jobs.count, let job = jobs[jobHead] {
                jobs[jobHead] = nil
                jobHead += 1
                if jobHead == jobs.count {
                    jobs.removeAll(keepingCapacity: true)
                    jobHead = 0
                } else if jobHead >= 1024 && jobHead * 2 >= jobs.count {
                    jobs.removeFirst(jobHead)
                    jobHead = 0
                }
                condition.unlock()
                runInline(job.queue, job.work)
                continue
            }
            // Nothing runnable: time jumps to the next live deadline.
            while let top = heap.first, top.timer.isCancelled { _ = pop() }
            guard let top = heap.first, top.deadline <= end else {
                condition.unlock()
                return done()
            }
            _ = pop()
            if top.deadline > nowNanoseconds { nowNanoseconds = top.deadline }
            condition.unlock()
            runInline(top.queue) {
                if top.timer.fire() { top.work() }
            }
        }
        return true
    }

    // MARK: Heap

    private static func before(_ a: Timer, _ b: Timer) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }

    private func push(_ t: Timer) {
        heap.append(t)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private func pop() -> Timer? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, Self.before(heap[l], heap[m]) { m = l }
            if r < heap.count, Self.before(heap[r], heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return top
    }
}
