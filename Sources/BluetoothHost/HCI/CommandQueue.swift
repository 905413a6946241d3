import BluetoothCore

/// HCI command flow control (Core Vol 4 Part E 4.4): commands wait until the controller grants a
/// credit (Num_HCI_Command_Packets of Command Complete/Status); each command in flight has its
/// own timeout, so a controller that never answers ends in a clear error instead of a hang.
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
    private let queue: DeviceQueue
    private let timeoutNanoseconds: UInt64
    private let transmit: (HCIPacket) -> Void
    /// Called when a command times out (for logging).
    var onTimeout: ((HCIOpcode) -> Void)?

    init(queue: DeviceQueue, timeoutNanoseconds: UInt64, transmit: @escaping (HCIPacket) -> Void) {
        self.queue = queue
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
        while credits > 0, waitingHead < waiting.count {
            let p = waiting[waitingHead]
            waitingHead += 1
            credits -= 1
            serial &+= 1
            let mySerial = serial
            let timer = queue.schedule(afterNanoseconds: timeoutNanoseconds) { [weak self] in
                self?.timedOut(serial: mySerial)
            }
            inFlight.append(InFlight(opcode: p.opcode, completion: p.completion, timer: timer, serial: mySerial))
            transmit(p.packet)
        }
        if waitingHead == waiting.count, waitingHead > 0 {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        }
    }

    private func timedOut(serial: UInt64) {
        guard let i = inFlight.firstIndex(where: { $0.serial == serial }) else { return }
        let entry = inFlight.remove(at: i)
        onTimeout?(entry.opcode)
        // The controller lost this command: assume it can take the next one, or nothing would
        // ever be sent again.
        credits = max(credits, 1)
        entry.completion(.failure(.timeout(entry.opcode, seconds: Double(timeoutNanoseconds) / 1e9)))
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
            e.completion(.success(event.returnParameters))
        }
        pump()
    }

    func commandStatus(_ event: HCI.CommandStatus) {
        credits = Int(event.numHCICommandPackets)
        if event.opcode.rawValue != 0, let e = take(event.opcode) {
            if event.status.isSuccess {
                e.completion(.success([]))
            } else {
                e.completion(.failure(.status(event.status, event.opcode)))
            }
        }
        pump()
    }

    /// Fails every queued and in-flight command (transport closed, deactivation).
    func abortAll(reason: String) {
        let flying = inFlight
        inFlight.removeAll()
        let queued = waiting[waitingHead...]
        waiting.removeAll()
        waitingHead = 0
        credits = 1
        for e in flying {
            e.timer.cancel()
            e.completion(.failure(.aborted(e.opcode, reason)))
        }
        for p in queued { p.completion(.failure(.aborted(p.opcode, reason))) }
    }
}
