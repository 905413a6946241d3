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
        var pending: Int { fragments.count - head }
    }

    private(set) var maxLength: Int
    private(set) var totalBuffers: Int
    private(set) var freeBuffers: Int
    private var links: [UInt16: Link] = [:]
    private var order: [UInt16] = []
    private var cursor = 0
    private let transmit: (HCIPacket) -> Void
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

    /// Queues one L2CAP PDU (basic header included). Returns false if the link is unknown.
    @discardableResult
    func send(handle: UInt16, pdu: [UInt8]) -> Bool {
        guard links[handle] != nil else {
            anomalies += 1
            return false
        }
        var offset = 0
        var first = true
        repeat {
            let n = min(maxLength, pdu.count - offset)
            let packet = ACLHeader.packet(handle: handle, boundary: first ? .firstNonFlushable : .continuing,
                                          payload: pdu[offset..<offset + n])
            links[handle]?.fragments.append(packet)
            offset += n
            first = false
        } while offset < pdu.count
        pump()
        return true
    }

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
        while freeBuffers > 0, !order.isEmpty, idleRounds < order.count {
            if cursor >= order.count { cursor = 0 }
            let handle = order[cursor]
            cursor += 1
            guard var link = links[handle], link.pending > 0 else {
                idleRounds += 1
                continue
            }
            idleRounds = 0
            let packet = link.fragments[link.head]
            link.head += 1
            link.inFlight += 1
            if link.head == link.fragments.count {
                link.fragments.removeAll(keepingCapacity: true)
                link.head = 0
            }
            links[handle] = link
            freeBuffers -= 1
            fragmentsSent += 1
            transmit(HCIPacket(.acl, packet))
        }
    }
}
