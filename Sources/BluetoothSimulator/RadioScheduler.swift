import BluetoothCore

/// One scheduled action of a radio's scheduler. Cancelling it releases the action at once; a
/// cancelled or fired timer never runs again.
final class RadioTimer {
    fileprivate(set) var isActive = true
    fileprivate var action: (() -> Void)?

    fileprivate init(_ action: @escaping () -> Void) { self.action = action }

    func cancel() {
        isActive = false
        action = nil
    }
}

/// The timer wheel of one virtual radio: a min-heap of (deadline, sequence, action) with a single
/// pending `DeviceQueue` timer for the earliest deadline, however many advertisers, scanners and
/// timeouts are waiting. Time comes from an injectable clock (monotonic nanoseconds), so virtual
/// time can replace real time later.
final class RadioScheduler: @unchecked Sendable {
    // Safe: every stored property is read and written only on `queue` (the radio's queue): the
    // scheduler is called from radio-queue code only, and its DeviceQueue timer fires there.
    private struct Entry {
        var deadline: UInt64
        var sequence: UInt64
        var timer: RadioTimer
    }

    private var heap: [Entry] = []
    private var sequence: UInt64 = 0
    private var armed: DeviceTimer?
    private var armedDeadline: UInt64 = .max
    private var firing = false
    private let queue: DeviceQueue
    /// How late an action may run so that nearby deadlines share one wake-up (nanoseconds).
    let coalescingWindow: UInt64
    let clock: @Sendable () -> UInt64
    /// Runs after each batch of due actions (the radio flushes the events they produced).
    var afterFire: (() -> Void)?

    init(queue: DeviceQueue, clock: @escaping @Sendable () -> UInt64, coalescingWindow: UInt64 = 500_000) {
        self.queue = queue
        self.clock = clock
        self.coalescingWindow = coalescingWindow
    }

    var now: UInt64 { clock() }

    /// Number of entries in the heap, cancelled ones included (for tests and diagnostics).
    var pendingCount: Int { heap.count }

    @discardableResult
    func schedule(afterNanoseconds delay: UInt64, _ action: @escaping () -> Void) -> RadioTimer {
        let (sum, overflow) = clock().addingReportingOverflow(delay)
        return schedule(at: overflow ? .max : sum, action)
    }

    @discardableResult
    func schedule(at deadline: UInt64, _ action: @escaping () -> Void) -> RadioTimer {
        let timer = RadioTimer(action)
        sequence &+= 1
        push(Entry(deadline: deadline, sequence: sequence, timer: timer))
        if !firing && deadline < armedDeadline { arm() }
        return timer
    }

    /// Drops every entry (radio teardown).
    func removeAll() {
        for e in heap { e.timer.cancel() }
        heap.removeAll()
        armed?.cancel()
        armed = nil
        armedDeadline = .max
    }

    private func arm() {
        armed?.cancel()
        armed = nil
        armedDeadline = .max
        // Drop cancelled entries at the top so they do not wake the queue for nothing.
        while let top = heap.first, !top.timer.isActive { popTop() }
        guard let top = heap.first else { return }
        let now = clock()
        // Wake up a little after the deadline so that actions due within the coalescing window run
        // in one turn: one Dispatch timer per window instead of one per advertising event.
        let delta = (top.deadline > now ? top.deadline - now : 0) &+ coalescingWindow
        armedDeadline = top.deadline
        armed = queue.schedule(afterNanoseconds: delta) { [weak self] in self?.fire() }
    }

    private func fire() {
        armed = nil
        armedDeadline = .max
        firing = true
        let now = clock()
        // Entries added while firing wait for the next turn, so a zero-delay reschedule can never
        // starve the queue.
        let lastSequence = sequence
        while let top = heap.first, top.deadline <= now, top.sequence <= lastSequence {
            popTop()
            let timer = top.timer
            guard timer.isActive, let action = timer.action else { continue }
            timer.isActive = false
            timer.action = nil
            action()
        }
        firing = false
        afterFire?()
        arm()
    }

    // MARK: Binary heap ordered by (deadline, sequence)

    private static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }

    private func push(_ e: Entry) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if Self.less(heap[i], heap[parent]) {
                heap.swapAt(i, parent)
                i = parent
            } else {
                break
            }
        }
    }

    private func popTop() {
        guard !heap.isEmpty else { return }
        let last = heap.count - 1
        heap.swapAt(0, last)
        heap.removeLast()
        var i = 0
        let n = heap.count
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < n && Self.less(heap[l], heap[m]) { m = l }
            if r < n && Self.less(heap[r], heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
    }
}

/// SplitMix64: a small, fast pseudo-random generator for advertising delays and default values.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
