import BluetoothCore

/// Controller-to-host ACL reassembly: whatever fragment sizes the controller picks (smaller or
/// larger than its own buffer size; Bumble's stock controller sends whole PDUs), fragments are
/// joined back into L2CAP PDUs by the basic header's length (Core Vol 3 Part A 7.2).
struct ACLReassembler {
    enum Outcome: Equatable {
        /// A complete L2CAP PDU: its channel and its payload (the basic header read and dropped).
        case pdu(cid: UInt16, payload: [UInt8])
        case incomplete
        /// The fragment was dropped; the string says why (for the log).
        case dropped(String)
    }

    private var partial: [UInt16: [UInt8]] = [:]
    /// Links whose current PDU is being thrown away (it declared more than the limit): their
    /// continuation fragments are dropped until the next start.
    private var discarding: Set<UInt16> = []

    mutating func reset() {
        partial.removeAll()
        discarding.removeAll()
    }

    mutating func removeLink(_ handle: UInt16) {
        partial[handle] = nil
        discarding.remove(handle)
    }

    /// Bytes held for incomplete PDUs, over every link (bounded by the links times the limit).
    var bufferedBytes: Int { partial.values.reduce(0) { $0 + $1.count } }

    /// Bytes held for an incomplete PDU on one link (at most 4 + the limit).
    func bufferedBytes(_ handle: UInt16) -> Int { partial[handle]?.count ?? 0 }

    /// Feeds one ACL packet (header included); see `receive(header:packet:maxPayload:)`.
    mutating func receive(_ packet: [UInt8], maxPayload: Int = 0xFFFF) -> (handle: UInt16, outcome: Outcome, discarded: String?) {
        let header: ACLHeader
        do {
            header = try ACLHeader(parsing: packet)
        } catch {
            return (0, .dropped("ACL packet shorter than its header"), nil)
        }
        return receive(header: header, packet: packet, maxPayload: maxPayload)
    }

    /// Feeds one ACL packet whose header was parsed already. A PDU whose basic header declares a
    /// payload longer than `maxPayload` (the largest the host accepts on this link) is dropped as
    /// soon as its length is known, with the rest of its fragments, so memory stays bounded per
    /// link whatever the controller sends. `discarded` explains an earlier partial PDU thrown
    /// away because a new one started (for the log).
    mutating func receive(header: ACLHeader, packet: [UInt8], maxPayload: Int)
        -> (handle: UInt16, outcome: Outcome, discarded: String?)
    {
        let payloadCount = packet.count - ACLHeader.size
        guard Int(header.length) == payloadCount else {
            return (header.handle, .dropped("ACL length field \(header.length) but \(payloadCount) payload bytes"), nil)
        }
        let payload = packet[ACLHeader.size...]
        var note: String?
        var buffer: [UInt8]
        switch header.boundary {
        case .firstFlushable, .firstNonFlushable, .complete:
            if partial[header.handle] != nil { note = "a new PDU started before the previous one was complete" }
            discarding.remove(header.handle)
            // The common case, a whole PDU in one packet: its payload is copied out once.
            if partial[header.handle] != nil { partial[header.handle] = nil }
            if payload.count >= 4 {
                let declared = Int(payload[payload.startIndex]) | Int(payload[payload.startIndex + 1]) << 8
                if declared <= maxPayload && payload.count == 4 + declared {
                    let cid = UInt16(payload[payload.startIndex + 2]) | UInt16(payload[payload.startIndex + 3]) << 8
                    return (header.handle, .pdu(cid: cid, payload: Array(packet[(ACLHeader.size + 4)...])), note)
                }
            }
            buffer = Array(payload)
        case .continuing:
            if discarding.contains(header.handle) {
                return (header.handle, .dropped("continuation of a PDU over the size limit"), nil)
            }
            guard var existing = partial.removeValue(forKey: header.handle) else {
                return (header.handle, .dropped("continuation fragment without a start"), nil)
            }
            existing.append(contentsOf: payload)
            buffer = existing
        }
        if buffer.count < 4 {
            partial[header.handle] = buffer
            return (header.handle, .incomplete, note)
        }
        let declared = Int(buffer[0]) | Int(buffer[1]) << 8
        guard declared <= maxPayload else {
            partial[header.handle] = nil
            discarding.insert(header.handle)
            return (header.handle, .dropped("an L2CAP PDU of \(declared) bytes is over the \(maxPayload)-byte limit"), note)
        }
        let expected = 4 + declared
        if buffer.count == expected {
            partial[header.handle] = nil
            let cid = UInt16(buffer[2]) | UInt16(buffer[3]) << 8
            return (header.handle, .pdu(cid: cid, payload: Array(buffer[4...])), note)
        }
        if buffer.count > expected {
            partial[header.handle] = nil
            return (header.handle, .dropped("fragments carry \(buffer.count) bytes for a \(expected)-byte L2CAP PDU"), note)
        }
        partial[header.handle] = buffer
        return (header.handle, .incomplete, note)
    }
}
