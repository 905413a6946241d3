import BluetoothCore

/// HCI command flow control (Core Vol 4 Part E 4.4): commands wait until the controller grants a
/// credit (Num_HCI_Command_Packets of Command Complete/Status). Nothing waits unbounded: a command
/// in flight has one timeout for its answer, and when commands wait for a credit and a whole
/// timeout passes without progress (no answer, no credit: a controller that sent
/// Num_HCI_Command_Packets = 0 and nothing since), every waiting command fails. A controller that
/// stops answering ends in a clear error instead of a hang. One watchdog timer serves them all
/// (armed for the earliest deadline, re-armed when it fires), not one timer per command.
/// Confined to the device's queue.
final class CommandQueue: @unchecked Sendable {
    // Safe: created, used and timed out only on the device queue it was given.
    typealias Completion = (Result<[UInt8], HCIError>) -> Void

    private struct Pending {
        let opcode: HCIOpcode
        let packet: HCIPacket
        let completion: Completion
    }

    private struct InFlight {
        let opcode: HCIOpcode
        let completion: Completion
        /// When the controller's answer is overdue (the queue's clock, nanoseconds).
        let deadline: UInt64
    }

    private var credits = 1
    private var waiting: [Pending] = []
    private var waitingHead = 0
    private var inFlight: [InFlight] = []
    /// When the current wait for a credit started, or the controller last answered a command.
    private var lastProgress: UInt64 = 0
    private var watchdog: DeviceTimer?
    private var watchdogDeadline: UInt64 = .max
    /// Arms a timer on the device's queue (the host's, so that what a timeout triggers runs as a turn).
    private let schedule: (UInt64, @escaping @Sendable () -> Void) -> DeviceTimer
    /// The device queue's clock (virtual in virtual time).
    private let now: () -> UInt64
    private let timeoutNanoseconds: UInt64
    private let transmit: (HCIPacket) -> Void
    /// Called when a command times out, waiting for a credit or for its answer (for logging).
    var onTimeout: ((HCIError) -> Void)?

    init(schedule: @escaping (UInt64, @escaping @Sendable () -> Void) -> DeviceTimer, now: @escaping () -> UInt64,
         timeoutNanoseconds: UInt64, transmit: @escaping (HCIPacket) -> Void) {
        self.schedule = schedule
        self.now = now
        self.timeoutNanoseconds = timeoutNanoseconds
        self.transmit = transmit
    }

    var isIdle: Bool { inFlight.isEmpty && waitingHead == waiting.count }

    private var seconds: Double { Double(timeoutNanoseconds) / 1e9 }

    private func later(_ t: UInt64) -> UInt64 {
        let (sum, overflow) = t.addingReportingOverflow(timeoutNanoseconds)
        return overflow ? .max : sum
    }

    /// Queues a command; `completion` gets the return parameters of Command Complete (status byte
    /// first) or, for commands answered by Command Status, an empty array on success.
    func enqueue(opcode: HCIOpcode, packet: HCIPacket, completion: @escaping Completion) {
        if waitingHead == waiting.count { lastProgress = now() }  // a wait for a credit may start
        waiting.append(Pending(opcode: opcode, packet: packet, completion: completion))
        pump()
    }

    private func pump() {
        while credits > 0, waitingHead < waiting.count {
            let p = waiting[waitingHead]
            waitingHead += 1
            credits -= 1
            let t = now()
            lastProgress = t
            inFlight.append(InFlight(opcode: p.opcode, completion: p.completion, deadline: later(t)))
            transmit(p.packet)
        }
        if waitingHead == waiting.count, waitingHead > 0 {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        } else if waitingHead >= 256 && waitingHead * 2 >= waiting.count {
            waiting.removeFirst(waitingHead)  // a queue that never empties: drop what was sent
            waitingHead = 0
        }
        armWatchdog()
    }

    /// Keeps the watchdog armed for the earliest deadline: an answer overdue, or a whole timeout
    /// of waiting for a credit. An earlier watchdog is kept (it re-arms when it fires).
    private func armWatchdog() {
        var next = inFlight.reduce(UInt64.max) { min($0, $1.deadline) }
        if waitingHead < waiting.count { next = min(next, later(lastProgress)) }
        guard next != .max else {
            watchdog?.cancel()
            watchdog = nil
            watchdogDeadline = .max
            return
        }
        if watchdog != nil && watchdogDeadline <= next { return }
        watchdog?.cancel()
        watchdogDeadline = next
        let t = now()
        watchdog = schedule(next > t ? next - t : 0) { [weak self] in self?.watchdogFired() }
    }

    private func watchdogFired() {
        watchdog = nil
        watchdogDeadline = .max
        let t = now()
        // Answers overdue: the controller lost those commands. Assume it can take the next one,
        // or nothing would ever be sent again.
        let overdue = inFlight.filter { $0.deadline <= t }
        if !overdue.isEmpty {
            inFlight.removeAll { $0.deadline <= t }
            credits = max(credits, 1)
            for e in overdue {
                let error = HCIError.timeout(e.opcode, seconds: seconds)
                onTimeout?(error)
                e.completion(.failure(error))
            }
        }
        // A whole timeout with commands waiting and no credit: they all fail. With nothing in
        // flight the controller owes no answer and has granted nothing; assume it can take one
        // command again (it may have sent Num_HCI_Command_Packets = 0 by mistake), so later calls
        // are tried rather than failed unseen.
        if waitingHead < waiting.count && credits == 0 && later(lastProgress) <= t {
            let expired = waiting[waitingHead...]
            waiting.removeAll()
            waitingHead = 0
            if let first = expired.first { onTimeout?(.noCredit(first.opcode, seconds: seconds)) }
            if inFlight.isEmpty { credits = max(credits, 1) }
            for p in expired { p.completion(.failure(.noCredit(p.opcode, seconds: seconds))) }
        }
        pump()
    }

    private func take(_ opcode: HCIOpcode) -> InFlight? {
        guard let i = inFlight.firstIndex(where: { $0.opcode == opcode }) else { return nil }
        return inFlight.remove(at: i)
    }

    func commandComplete(_ event: HCI.CommandComplete) {
        credits = Int(event.numHCICommandPackets)
        if event.opcode.rawValue != 0, let e = take(event.opcode) {
            progress()
            e.completion(.success(event.returnParameters))
        }
        pump()
    }

    func commandStatus(_ event: HCI.CommandStatus) {
        credits = Int(event.numHCICommandPackets)
        if event.opcode.rawValue != 0, let e = take(event.opcode) {
            progress()
            if event.status.isSuccess {
                e.completion(.success([]))
            } else {
                e.completion(.failure(.status(event.status, event.opcode)))
            }
        }
        pump()
    }

    /// The controller answered a command: the credit wait starts again. (Answers to commands never
    /// sent are not progress: a controller repeating them with no credit must not stall the host.)
    private func progress() {
        lastProgress = now()
    }

    /// Fails every queued and in-flight command (transport closed, deactivation).
    func abortAll(reason: String) {
        let flying = inFlight
        inFlight.removeAll()
        let queued = waiting[waitingHead...]
        waiting.removeAll()
        waitingHead = 0
        credits = 1
        watchdog?.cancel()
        watchdog = nil
        watchdogDeadline = .max
        for e in flying { e.completion(.failure(.aborted(e.opcode, reason))) }
        for p in queued { p.completion(.failure(.aborted(p.opcode, reason))) }
    }
}
