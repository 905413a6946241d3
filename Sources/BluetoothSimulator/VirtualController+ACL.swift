import BluetoothCore

// ACL data with real buffer accounting (Core Vol 4 Part E 4.1, 5.4.2, 7.7.19).

extension VirtualController {
    /// One ACL packet from the host: checked against the buffers, delivered to the peer's host with
    /// its boundary kept, and counted for the next Number Of Completed Packets.
    func handleACL(_ bytes: [UInt8]) {
        guard bytes.count >= 4 else {
            return violation("ACL packet of \(bytes.count) byte(s), shorter than its header")
        }
        let hf = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        let handle = hf & 0x0FFF
        let boundary = (hf >> 12) & 0x3
        let broadcast = hf >> 14
        let length = Int(UInt16(bytes[2]) | UInt16(bytes[3]) << 8)
        guard length == bytes.count - 4 else {
            return violation("ACL handle 0x\(String(handle, radix: 16)): length field \(length), "
                             + "\(bytes.count - 4) payload byte(s)")
        }
        guard length <= Int(configuration.aclDataPacketLength) else {
            return violation("ACL handle 0x\(String(handle, radix: 16)): \(length) bytes exceed the buffer "
                             + "size \(configuration.aclDataPacketLength)")
        }
        guard aclBuffersInUse < Int(configuration.totalNumACLDataPackets) else {
            return violation("ACL handle 0x\(String(handle, radix: 16)): all \(configuration.totalNumACLDataPackets) "
                             + "buffers in use (host ignored flow control)")
        }
        guard broadcast == 0, boundary != 0b11 else {
            return violation("ACL handle 0x\(String(handle, radix: 16)): packet boundary \(boundary) / broadcast "
                             + "\(broadcast) not allowed on LE")
        }
        guard let link = links[handle], let peer = link.peer(of: self) else {
            return violation("ACL for unknown handle 0x\(String(handle, radix: 16))")
        }
        aclBuffersInUse += 1

        // To the peer's host: its handle, first fragments as 0b10 (first automatically flushable),
        // continuations stay 0b01. It waits on the air until the peer has a receive buffer.
        var out = bytes
        let peerFlags = link.peerHandle(of: self) | (boundary == 0b01 ? 0b01 : 0b10) << 12
        out[0] = UInt8(truncatingIfNeeded: peerFlags)
        out[1] = UInt8(truncatingIfNeeded: peerFlags >> 8)
        if link.central === self { link.fromCentral.append(HCIPacket(.acl, out)) } else { link.fromPeripheral.append(HCIPacket(.acl, out)) }
        moveAir(link, to: peer)
    }

    /// Moves `link`'s packets toward `receiver` while it has free receive buffers (one per
    /// packet its host has not taken yet). Each packet that crosses frees the sender's buffer,
    /// reported by the next Number Of Completed Packets.
    func moveAir(_ link: Link, to receiver: VirtualController) {
        guard !link.lost else { return }
        let sender = link.peer(of: receiver)
        while receiver.toHostACL < receiver.receiveBuffers {
            let popped = link.central === receiver ? link.fromPeripheral.pop() : link.fromCentral.pop()
            guard let packet = popped else { return }
            receiver.toHostACL += 1
            if let sender {
                let h = link.handle(of: sender)
                if sender.completedPackets.isEmpty { core.noteCompletedPackets(sender) }
                sender.completedPackets[h, default: 0] &+= 1
            }
            core.enqueue(packet, to: receiver)
        }
        if link.airCount(from: sender ?? receiver) > 0 { receiver.inboundBlocked = true }
    }

    /// Receive buffers freed (the host took ACL packets): links waiting on them move again.
    func receiveBuffersFreed() {
        guard inboundBlocked else { return }
        inboundBlocked = false
        for handle in links.keys.sorted() {
            guard let link = links[handle], let peer = link.peer(of: self), link.airCount(from: peer) > 0 else { continue }
            moveAir(link, to: self)
            if toHostACL >= receiveBuffers { return }
        }
    }

    /// Number Of Completed Packets for everything accepted since the last report; frees the buffers.
    func reportCompletedPackets() {
        guard !completedPackets.isEmpty else { return }
        var entries: [HCI.NumberOfCompletedPackets.Entry] = []
        entries.reserveCapacity(completedPackets.count)
        for (handle, count) in completedPackets {
            entries.append(.init(handle: handle, count: count))
            aclBuffersInUse -= Int(count)
        }
        aclBuffersInUse = max(0, aclBuffersInUse)
        completedPackets.removeAll(keepingCapacity: true)
        entries.sort { $0.handle < $1.handle }
        // At most 63 handles fit in one event (1 + 4 * 63 = 253 parameter bytes).
        var start = 0
        while start < entries.count {
            let end = min(start + 63, entries.count)
            emit(HCI.NumberOfCompletedPackets(entries: Array(entries[start..<end])))
            start = end
        }
    }
}
