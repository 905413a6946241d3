import BluetoothCore

/// Host-to-controller ACL flow control (Core Vol 4 Part E 4.1.1): L2CAP PDUs are cut into
/// fragments of at most the controller's buffer length, and a fragment is sent only while the
/// controller has a free buffer; Number Of Completed Packets returns buffers. Links are served
/// round-robin so one busy link cannot starve the others. Confined to the device's queue.
final class ACLOutbound {
    private struct Link {
        var fragments: [[UInt8]] = []
        var head = 0
        var inFlight = 0
        /// PDUs with a fragment still waiting for a controller buffer, and their bytes.
        var queuedPDUs = 0
        var queuedBytes = 0
        /// Parallel to `fragments`: for the last fragment of a PDU, the PDU's length; -1 for others.
        var pduLengths: [Int] = []
        /// A bounded send was refused: `onRoom` is owed when the queue goes under the bound.
        var stalled = false
        var pending: Int { fragments.count - head }
    }

    /// What `send` did with a PDU.
    enum SendResult: Equatable {
        case queued
        /// The link's queue holds `maxQueuedBytes` already (a bounded send only).
        case full
        case unknownLink
        /// Longer than an L2CAP basic header can count (65 535 octets).
        case tooLong
    }

    private(set) var maxLength: Int
    private(set) var totalBuffers: Int
    private(set) var freeBuffers: Int
    private var links: [UInt16: Link] = [:]
    private var order: [UInt16] = []
    private var cursor = 0
    private let transmit: (HCIPacket) -> Void
    /// The most L2CAP bytes a link may have waiting when a send is bounded (notifications, writes
    /// without response: what an application can produce faster than the air takes it). Replies,
    /// requests and signalling are never refused: the protocols bound them.
    var maxQueuedBytes = 131_072
    /// Called with a link's handle when a refused (`.full`) link has drained to half its bound.
    var onRoom: ((UInt16) -> Void)?
    /// Packets the host refused to send because the link was unknown, and NOCP counts that did
    /// not match anything in flight (both indicate a confused controller or peer).
    private(set) var anomalies = 0
    /// Total fragments handed to the controller.
    private(set) var fragmentsSent = 0

    init(maxLength: Int = 27, totalBuffers: Int = 1, transmit: @escaping (HCIPacket) -> Void) {
        self.maxLength = max(maxLength, 1)
        self.totalBuffers = max(totalBuffers, 1)
        self.freeBuffers = max(totalBuffers, 1)
        self.transmit = transmit
    }

    func configure(maxLength: Int, totalBuffers: Int) {
        self.maxLength = max(maxLength, 1)
        self.totalBuffers = max(totalBuffers, 1)
        freeBuffers = self.totalBuffers
    }

    func addLink(_ handle: UInt16) {
        if links[handle] == nil {
            links[handle] = Link()
            order.append(handle)
        }
    }

    /// Forgets a link: its queued fragments are dropped and its buffers in the controller count
    /// as free again (the controller flushes them on disconnection, Vol 4 Part E 4.3).
    func removeLink(_ handle: UInt16) {
        guard let link = links.removeValue(forKey: handle) else { return }
        freeBuffers = min(totalBuffers, freeBuffers + link.inFlight)
        if let i = order.firstIndex(of: handle) {
            order.remove(at: i)
            if cursor > i { cursor -= 1 }
            if cursor >= order.count { cursor = 0 }
        }
        pump()
    }

    func reset() {
        links.removeAll()
        order.removeAll()
        cursor = 0
        freeBuffers = totalBuffers
    }

    func hasLink(_ handle: UInt16) -> Bool { links[handle] != nil }

    /// Fragments still waiting for a controller buffer on `handle`.
    func queuedFragments(_ handle: UInt16) -> Int { links[handle]?.pending ?? 0 }

    /// Queues one L2CAP PDU (basic header included). A bounded send is refused with `.full` when
    /// it would take the link's waiting bytes past `maxQueuedBytes` (one PDU always fits an empty
    /// queue); `onRoom` follows when the queue has drained to half.
    @discardableResult
    func send(handle: UInt16, pdu: [UInt8], bounded: Bool = false) -> SendResult {
        // Mutated in place through the index, so the link's arrays are never copied.
        guard let i = links.index(forKey: handle) else {
            anomalies += 1
            return .unknownLink
        }
        if bounded && links.values[i].queuedBytes > 0 && links.values[i].queuedBytes + pdu.count > maxQueuedBytes {
            links.values[i].stalled = true
            return .full
        }
        var offset = 0
        var first = true
        repeat {
            let n = min(maxLength, pdu.count - offset)
            let packet = ACLHeader.packet(handle: handle, boundary: first ? .firstNonFlushable : .continuing,
                                          payload: pdu[offset..<offset + n])
            offset += n
            links.values[i].fragments.append(packet)
            links.values[i].pduLengths.append(offset >= pdu.count ? pdu.count : -1)
            first = false
        } while offset < pdu.count
        links.values[i].queuedPDUs += 1
        links.values[i].queuedBytes += pdu.count
        pump()
        return .queued
    }

    /// Queues one L2CAP PDU written after `ACLHeader.size` reserved bytes (`buffer[4...]` is the
    /// PDU, basic header included). A PDU that fits one fragment becomes that fragment in place,
    /// with no copy; a longer one is cut as `send` does.
    @discardableResult
    func send(handle: UInt16, reserved buffer: consuming [UInt8], bounded: Bool) -> SendResult {
        let length = buffer.count - ACLHeader.size
        guard length >= 0, length <= maxLength else {
            return send(handle: handle, pdu: Array(buffer.dropFirst(ACLHeader.size)), bounded: bounded)
        }
        guard let i = links.index(forKey: handle) else {
            anomalies += 1
            return .unknownLink
        }
        if bounded && links.values[i].queuedBytes > 0 && links.values[i].queuedBytes + length > maxQueuedBytes {
            links.values[i].stalled = true
            return .full
        }
        var packet = consume buffer  // the only reference: the header is written in place
        let flags = (handle & 0x0FFF) | UInt16(ACLHeader.Boundary.firstNonFlushable.rawValue) << 12
        packet[0] = UInt8(truncatingIfNeeded: flags)
        packet[1] = UInt8(truncatingIfNeeded: flags >> 8)
        packet[2] = UInt8(truncatingIfNeeded: length)
        packet[3] = UInt8(truncatingIfNeeded: length >> 8)
        links.values[i].fragments.append(packet)
        links.values[i].pduLengths.append(length)
        links.values[i].queuedPDUs += 1
        links.values[i].queuedBytes += length
        pump()
        return .queued
    }

    /// PDUs and bytes waiting on `handle` (for tests and diagnostics).
    func queuedPDUs(_ handle: UInt16) -> Int { links[handle]?.queuedPDUs ?? 0 }
    func queuedBytes(_ handle: UInt16) -> Int { links[handle]?.queuedBytes ?? 0 }

    /// Number Of Completed Packets for one handle.
    func completed(handle: UInt16, count: Int) {
        guard var link = links[handle] else {
            // Completions for a link already gone were credited on its removal.
            return
        }
        let n = min(count, link.inFlight)
        if n < count { anomalies += 1 }
        link.inFlight -= n
        links[handle] = link
        freeBuffers = min(totalBuffers, freeBuffers + n)
    }

    /// Sends fragments while the controller has buffers, one link after another.
    func pump() {
        var idleRounds = 0
        var roomed: [UInt16] = []
        while freeBuffers > 0, !order.isEmpty, idleRounds < order.count {
            if cursor >= order.count { cursor = 0 }
            let handle = order[cursor]
            cursor += 1
            guard let i = links.index(forKey: handle), links.values[i].pending > 0 else {
                idleRounds += 1
                continue
            }
            idleRounds = 0
            let head = links.values[i].head
            let packet = links.values[i].fragments[head]
            let ended = links.values[i].pduLengths[head]
            if ended >= 0 {
                links.values[i].queuedPDUs -= 1
                links.values[i].queuedBytes -= ended
                // Room is signalled once half the queue has drained, so a sender that outruns the
                // link wakes once per half queue, not once per PDU.
                if links.values[i].stalled && links.values[i].queuedBytes <= maxQueuedBytes / 2 {
                    links.values[i].stalled = false
                    roomed.append(handle)
                }
            }
            links.values[i].inFlight += 1
            if head + 1 == links.values[i].fragments.count {
                links.values[i].fragments.removeAll(keepingCapacity: true)
                links.values[i].pduLengths.removeAll(keepingCapacity: true)
                links.values[i].head = 0
            } else if head + 1 >= 1024 && (head + 1) * 2 >= links.values[i].fragments.count {
                // A queue that never empties: drop the sent prefix now and then, or it grows forever.
                links.values[i].fragments.removeFirst(head + 1)
                links.values[i].pduLengths.removeFirst(head + 1)
                links.values[i].head = 0
            } else {
                links.values[i].head = head + 1
            }
            freeBuffers -= 1
            fragmentsSent += 1
            transmit(HCIPacket(.acl, packet))
        }
        for h in roomed { onRoom?(h) }
    }
}
