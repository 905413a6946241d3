import BluetoothCore

/// HCI command flow control (Core Vol 4 Part E 4.4): commands wait until the controller grants a
/// credit (Num_HCI_Command_Packets of Command Complete/Status). Nothing waits unbounded: a command
/// in flight has one timeout for its answer, and when commands wait for a credit and a whole
/// timeout passes without progress (no answer, no credit: a controller that sent
/// Num_HCI_Command_Packets = 0 and nothing since), every waiting command fails. A controller that
/// stops answering ends in a clear error instead of a hang.
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
        let timer: DeviceTimer
        let serial: UInt64
    }

    private var credits = 1
    private var waiting: [Pending] = []
    private var waitingHead = 0
    private var inFlight: [InFlight] = []
    private var serial: UInt64 = 0
    /// Runs while commands wait for a credit; restarted by every sign of progress.
    private var creditTimer: DeviceTimer?
    /// Arms a timer on the device's queue (the host's, so that what a timeout triggers runs as a turn).
    private let schedule: (UInt64, @escaping @Sendable () -> Void) -> DeviceTimer
    private let timeoutNanoseconds: UInt64
    private let transmit: (HCIPacket) -> Void
    /// Called when a command times out, waiting for a credit or for its answer (for logging).
    var onTimeout: ((HCIError) -> Void)?

    init(schedule: @escaping (UInt64, @escaping @Sendable () -> Void) -> DeviceTimer, timeoutNanoseconds: UInt64,
         transmit: @escaping (HCIPacket) -> Void) {
        self.schedule = schedule
        self.timeoutNanoseconds = timeoutNanoseconds
        self.transmit = transmit
    }

    var isIdle: Bool { inFlight.isEmpty && waitingHead == waiting.count }

    /// Queues a command; `completion` gets the return parameters of Command Complete (status byte
    /// first) or, for commands answered by Command Status, an empty array on success.
    func enqueue(opcode: HCIOpcode, packet: HCIPacket, completion: @escaping Completion) {
        waiting.append(Pending(opcode: opcode, packet: packet, completion: completion))
        pump()
    }

    private func pump() {
        var sent = false
        while credits > 0, waitingHead < waiting.count {
            sent = true
            let p = waiting[waitingHead]
            waitingHead += 1
            credits -= 1
            serial &+= 1
            let mySerial = serial
            let timer = schedule(timeoutNanoseconds) { [weak self] in
                self?.timedOut(serial: mySerial)
            }
            inFlight.append(InFlight(opcode: p.opcode, completion: p.completion, timer: timer, serial: mySerial))
            transmit(p.packet)
        }
        if waitingHead == waiting.count, waitingHead > 0 {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        } else if waitingHead >= 256 && waitingHead * 2 >= waiting.count {
            waiting.removeFirst(waitingHead)  // a queue that never empties: drop what was sent
            waitingHead = 0
        }
        if waitingHead == waiting.count {
            creditTimer?.cancel()
            creditTimer = nil
        } else if sent || creditTimer == nil {
            armCreditTimer()
        }
    }

    private func armCreditTimer() {
        creditTimer?.cancel()
        creditTimer = schedule(timeoutNanoseconds) { [weak self] in
            self?.creditWaitExpired()
        }
    }

    /// A whole timeout passed with commands waiting and no credit: they all fail. With nothing in
    /// flight the controller owes no answer and has granted nothing; assume it can take one
    /// command again (it may have sent Num_HCI_Command_Packets = 0 by mistake), as after a
    /// command timeout, so later calls are tried rather than failed unseen.
    private func creditWaitExpired() {
        creditTimer = nil
        let expired = waiting[waitingHead...]
        waiting.removeAll()
        waitingHead = 0
        guard let first = expired.first else { return }
        let seconds = Double(timeoutNanoseconds) / 1e9
        onTimeout?(.noCredit(first.opcode, seconds: seconds))
        if inFlight.isEmpty { credits = max(credits, 1) }
        for p in expired { p.completion(.failure(.noCredit(p.opcode, seconds: seconds))) }
        pump()
    }

    private func timedOut(serial: UInt64) {
        guard let i = inFlight.firstIndex(where: { $0.serial == serial }) else { return }
        let entry = inFlight.remove(at: i)
        let error = HCIError.timeout(entry.opcode, seconds: Double(timeoutNanoseconds) / 1e9)
        onTimeout?(error)
        // The controller lost this command: assume it can take the next one, or nothing would
        // ever be sent again.
        credits = max(credits, 1)
        entry.completion(.failure(error))
        pump()
    }

    private func take(_ opcode: HCIOpcode) -> InFlight? {
        guard let i = inFlight.firstIndex(where: { $0.opcode == opcode }) else { return nil }
        let e = inFlight.remove(at: i)
        e.timer.cancel()
        return e
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
        creditTimer?.cancel()
        creditTimer = nil
    }

    /// Fails every queued and in-flight command (transport closed, deactivation).
    func abortAll(reason: String) {
        let flying = inFlight
        inFlight.removeAll()
        let queued = waiting[waitingHead...]
        waiting.removeAll()
        waitingHead = 0
        credits = 1
        creditTimer?.cancel()
        creditTimer = nil
        for e in flying {
            e.timer.cancel()
            e.completion(.failure(.aborted(e.opcode, reason)))
        }
        for p in queued { p.completion(.failure(.aborted(p.opcode, reason))) }
    }
}
