import BluetoothCore

/// What the indication machine asks its driver to do, in order.
enum GATTIndicationAction: Equatable {
    /// Send this Handle Value Indication and arm the 30 s transaction timer (Vol 3 Part F 3.3.3).
    case indicate(handle: UInt16, value: [UInt8])
    /// The transaction ended: stop its timer.
    case stopTimer
    case emit(BLEEvent)
    /// The transaction timed out: the bearer is finished (no more ATT on it; the link closes).
    case closeBearer
}

/// The server's indications on one bearer (Core Vol 3 Part F 3.4.7.2) as a value: one in flight
/// until its confirmation, the rest waiting in order. Offers, confirmations, the timeout and the
/// link's end go in; what to send and raise comes out. No I/O, no timers.
struct GATTIndications {
    let conn: UInt16
    /// Waiting to be sent, in order (the head is `waiting[head]`).
    private var waiting: [(handle: UInt16, value: [UInt8])] = []
    private var head = 0
    /// The value handle of the indication awaiting its confirmation.
    private(set) var inFlight: UInt16?

    init(conn: UInt16) { self.conn = conn }

    /// Indications waiting behind the one in flight.
    var waitingCount: Int { waiting.count - head }

    /// Queues an indication (already cut to MTU-3) and sends it if none is in flight.
    mutating func offer(handle: UInt16, value: [UInt8]) -> [GATTIndicationAction] {
        waiting.append((handle, value))
        return sendNext()
    }

    /// The peer confirmed (Handle Value Confirmation): the done event, then the next one. A
    /// confirmation with nothing in flight is ignored.
    mutating func confirmed() -> [GATTIndicationAction] {
        guard let h = inFlight else { return [] }
        inFlight = nil
        return [.stopTimer, .emit(.gattsIndicateDone(connHandle: conn, valueHandle: h, status: 0))] + sendNext()
    }

    /// No confirmation within 30 s: done with -110, and the bearer is finished. What waits stays
    /// queued until the link's end reports it.
    mutating func timedOut() -> [GATTIndicationAction] {
        guard let h = inFlight else { return [] }
        inFlight = nil
        return [.emit(.gattsIndicateDone(connHandle: conn, valueHandle: h, status: BLEStatus.timedOut)), .closeBearer]
    }

    /// The link is gone: every indication in flight or waiting ends with -107 (API.md).
    func linkLost() -> [GATTIndicationAction] {
        var out: [GATTIndicationAction] = [.stopTimer]
        if let h = inFlight {
            out.append(.emit(.gattsIndicateDone(connHandle: conn, valueHandle: h, status: BLEStatus.notConnected)))
        }
        for i in waiting[head...] {
            out.append(.emit(.gattsIndicateDone(connHandle: conn, valueHandle: i.handle, status: BLEStatus.notConnected)))
        }
        return out
    }

    private mutating func sendNext() -> [GATTIndicationAction] {
        guard inFlight == nil, head < waiting.count else { return [] }
        let next = waiting[head]
        head += 1
        if head == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            head = 0
        }
        inFlight = next.handle
        return [.indicate(handle: next.handle, value: next.value)]
    }
}
