import BluetoothCore

/// Where a GATT client procedure (Core Vol 3 Part G 4) stands.
enum GATTProcedure {
    case exchangeMTU
    /// All primary services (Read By Group Type) or those with one UUID (Find By Type Value).
    case discoverServices(uuid: BluetoothUUID?, next: UInt16)
    /// Read By Type on characteristic declarations; a result is held back until the next
    /// declaration (or the end) gives its end handle.
    case discoverCharacteristics(start: UInt16, end: UInt16, uuid: BluetoothUUID?, next: UInt16,
                                 held: (valueHandle: UInt16, properties: UInt8, uuid: BluetoothUUID)?)
    case discoverDescriptors(end: UInt16, next: UInt16)
    /// Read, continued with Read Blob while responses fill the MTU.
    case read(handle: UInt16, value: [UInt8])
    case write(handle: UInt16, data: [UInt8])
    /// Prepare Write of `data` from `offset`, then Execute Write. `sent` is the length of the part
    /// in flight: each part is cut to the MTU of the moment it is sent, and its echo is checked
    /// against what was sent, so an MTU exchange in the middle does not break the write.
    case longWrite(handle: UInt16, data: [UInt8], offset: Int, sent: Int, executing: Bool)
}

/// What a client procedure asks its driver to do, in order.
enum GATTClientAction: Equatable {
    /// Send a request; the driver (re)arms the 30 s transaction timer (Vol 3 Part F 3.3.3).
    case request(ATTPDU)
    /// Send a PDU that expects no answer (the Execute Write that cancels a long write).
    case send(ATTPDU)
    /// The MTU the exchange settled on, for the bearer (before the event that reports it).
    case mtu(Int)
    case emit(BLEEvent)
    /// A line for the log: a server that broke the protocol, a failed exchange.
    case log(String)
    /// The procedure is over; its last event came before this.
    case done
}

/// One GATT client procedure as a value: the server's responses (or a timeout, or the link's
/// end) go in, what to send and raise comes out. No I/O, no timers, no host: the driver in
/// `GATTClient.swift` carries the actions out, and tests feed PDUs and check the actions.
struct GATTClientProcedure {
    let conn: UInt16
    private(set) var step: GATTProcedure
    /// Our configured ATT MTU, offered in the exchange.
    let ourMTU: Int

    init(conn: UInt16, _ step: GATTProcedure, ourMTU: Int) {
        self.conn = conn
        self.step = step
        self.ourMTU = ourMTU
    }

    /// The first request (the end at once for descriptors of an empty range).
    mutating func start(mtu: Int) -> [GATTClientAction] {
        request(mtu: mtu)
    }

    /// The request the procedure needs now.
    private mutating func request(mtu: Int) -> [GATTClientAction] {
        switch step {
        case .exchangeMTU:
            return [.request(.exchangeMTURequest(mtu: UInt16(clamping: ourMTU)))]
        case let .discoverServices(uuid, next):
            if let uuid {
                return [.request(.findByTypeValueRequest(start: next, end: 0xFFFF, type: 0x2800,
                                                         value: uuid.attBytes))]
            }
            return [.request(.readByGroupTypeRequest(start: next, end: 0xFFFF, type: GATTType.primaryService))]
        case let .discoverCharacteristics(_, end, _, next, _):
            return [.request(.readByTypeRequest(start: next, end: end, type: GATTType.characteristic))]
        case let .discoverDescriptors(end, next):
            // An empty range (a characteristic without descriptors) needs no request.
            if next > end || next == 0 { return finish(status: 0) }
            return [.request(.findInformationRequest(start: next, end: end))]
        case let .read(handle, value):
            return [.request(value.isEmpty ? .readRequest(handle: handle)
                : .readBlobRequest(handle: handle, offset: UInt16(truncatingIfNeeded: value.count)))]
        case let .write(handle, data):
            return [.request(.writeRequest(handle: handle, value: data))]
        case let .longWrite(handle, data, offset, _, executing):
            if executing || offset >= data.count { return [.request(.executeWriteRequest(flags: 0x01))] }
            let chunk = Array(data[offset..<min(data.count, offset + max(1, mtu - 5))])
            step = .longWrite(handle: handle, data: data, offset: offset, sent: chunk.count, executing: false)
            return [.request(.prepareWriteRequest(handle: handle, offset: UInt16(truncatingIfNeeded: offset), value: chunk))]
        }
    }

    /// Moves on to `next` and asks for what it needs.
    private mutating func advance(to next: GATTProcedure, mtu: Int) -> [GATTClientAction] {
        step = next
        return request(mtu: mtu)
    }

    /// The transaction timed out (-110) or the link is gone (-107): the procedure's end.
    func end(status: Int) -> [GATTClientAction] {
        finish(status: status)
    }

    /// The done event(s) with `status` (and what a successful end still owes), then `.done`.
    private func finish(status: Int) -> [GATTClientAction] {
        var out: [GATTClientAction] = []
        switch step {
        case .exchangeMTU:
            if status != 0 { out.append(.log("MTU exchange on 0x\(String(conn, radix: 16)) failed: \(status)")) }
        case .discoverServices:
            out.append(.emit(.gattcServiceDone(connHandle: conn, status: status)))
        case let .discoverCharacteristics(_, end, _, _, held):
            // The last characteristic ends where the range ends.
            if let held, status == 0 {
                out.append(.emit(.gattcCharacteristicResult(connHandle: conn, endHandle: end, valueHandle: held.valueHandle,
                                                            properties: held.properties, uuid: held.uuid)))
            }
            out.append(.emit(.gattcCharacteristicDone(connHandle: conn, status: status)))
        case .discoverDescriptors:
            out.append(.emit(.gattcDescriptorDone(connHandle: conn, status: status)))
        case let .read(handle, value):
            if status == 0 { out.append(.emit(.gattcReadResult(connHandle: conn, valueHandle: handle, charData: value))) }
            out.append(.emit(.gattcReadDone(connHandle: conn, valueHandle: handle, status: status)))
        case let .write(handle, _), let .longWrite(handle, _, _, _, _):
            out.append(.emit(.gattcWriteDone(connHandle: conn, valueHandle: handle, status: status)))
        }
        out.append(.done)
        return out
    }

    /// A response (or Error Response) from the server to this procedure's request. `mtu` is the
    /// bearer's MTU now.
    mutating func receive(_ pdu: ATTPDU, mtu: Int) -> [GATTClientAction] {
        if case let .errorResponse(_, _, error) = pdu { return failed(error, mtu: mtu) }
        switch (step, pdu) {
        case (.exchangeMTU, .exchangeMTUResponse(let serverMTU)):
            let settled = max(23, min(Int(serverMTU), ourMTU))
            return [.mtu(settled), .emit(.mtuExchanged(connHandle: conn, mtu: settled))] + finish(status: 0)

        // Discovery responses must move forward: every result lies at or past the handle the
        // request started from, inside the range asked for, and past the one before it. A server
        // that repeats or goes back (a group at handle 1 in every response) would otherwise loop
        // the procedure forever; such a response ends it with `protocolError`, and its results
        // from the first bad one on are not raised (NimBLE checks the same, `att_handle <= prev`).
        case let (.discoverServices(nil, next), .readByGroupTypeResponse(items)):
            var out: [GATTClientAction] = []
            var floor = Int(next)
            for i in items {
                guard Int(i.handle) >= floor, i.endGroupHandle >= i.handle else { return out + wentBack(pdu) }
                if let uuid = try? BluetoothUUID(bytes: i.value) {
                    out.append(.emit(.gattcServiceResult(connHandle: conn, startHandle: i.handle, endHandle: i.endGroupHandle,
                                                         uuid: uuid)))
                }
                floor = Int(i.endGroupHandle) + 1
            }
            return out + continueOrFinish(items.isEmpty, from: floor, through: 0xFFFF, mtu: mtu) {
                .discoverServices(uuid: nil, next: $0)
            }

        case let (.discoverServices(uuid?, next), .findByTypeValueResponse(items)):
            var out: [GATTClientAction] = []
            var floor = Int(next)
            for i in items {
                guard Int(i.found) >= floor, i.groupEnd >= i.found else { return out + wentBack(pdu) }
                out.append(.emit(.gattcServiceResult(connHandle: conn, startHandle: i.found, endHandle: i.groupEnd, uuid: uuid)))
                floor = Int(i.groupEnd) + 1
            }
            return out + continueOrFinish(items.isEmpty, from: floor, through: 0xFFFF, mtu: mtu) {
                .discoverServices(uuid: uuid, next: $0)
            }

        case let (.discoverCharacteristics(start, end, filter, next, held), .readByTypeResponse(items)):
            var out: [GATTClientAction] = []
            var held = held
            var floor = Int(next)
            for i in items {
                guard Int(i.handle) >= floor, i.handle <= end else { return out + wentBack(pdu) }
                floor = Int(i.handle) + 1
                guard i.value.count == 5 || i.value.count == 19,
                      let uuid = try? BluetoothUUID(bytes: Array(i.value[3...])) else { continue }
                let valueHandle = UInt16(i.value[1]) | UInt16(i.value[2]) << 8
                if let h = held, filter == nil || filter == h.uuid {
                    out.append(.emit(.gattcCharacteristicResult(connHandle: conn, endHandle: i.handle &- 1,
                                                                valueHandle: h.valueHandle, properties: h.properties,
                                                                uuid: h.uuid)))
                }
                held = filter == nil || filter == uuid ? (valueHandle, i.value[0], uuid) : nil
            }
            // The held characteristic stays either way: the last one ends at `end`.
            step = .discoverCharacteristics(start: start, end: end, uuid: filter, next: next, held: held)
            return out + continueOrFinish(items.isEmpty, from: floor, through: Int(end), mtu: mtu) {
                .discoverCharacteristics(start: start, end: end, uuid: filter, next: $0, held: held)
            }

        case let (.discoverDescriptors(end, next), .findInformationResponse(items)):
            var out: [GATTClientAction] = []
            var floor = Int(next)
            for i in items {
                guard Int(i.handle) >= floor, i.handle <= end else { return out + wentBack(pdu) }
                out.append(.emit(.gattcDescriptorResult(connHandle: conn, dscHandle: i.handle, uuid: i.uuid)))
                floor = Int(i.handle) + 1
            }
            return out + continueOrFinish(items.isEmpty, from: floor, through: Int(end), mtu: mtu) {
                .discoverDescriptors(end: end, next: $0)
            }

        case let (.read(handle, value), .readResponse(chunk)), let (.read(handle, value), .readBlobResponse(chunk)):
            let all = value + chunk
            // A response that fills the MTU may have more behind it (Vol 3 Part G 4.8.3). Values
            // are at most 512 bytes by the spec, but some servers (Bumble) serve longer ones: read
            // on while the 16-bit offset can go.
            step = .read(handle: handle, value: all)
            if chunk.count == mtu - 1, all.count < 0xFFFF { return request(mtu: mtu) }
            return finish(status: 0)

        case (.write, .writeResponse):
            return finish(status: 0)

        case let (.longWrite(handle, data, offset, sent, false), .prepareWriteResponse(_, rOffset, echoed)):
            let end = min(data.count, offset + sent)
            guard Int(rOffset) == offset, echoed == Array(data[offset..<end]) else {
                // The server changed what we sent: cancel it all (Vol 3 Part G 4.9.5).
                return [.log("the server echoed a Prepare Write changed; cancelling the long write"),
                        .send(.executeWriteRequest(flags: 0x00))] + finish(status: BLEStatus.protocolError)
            }
            return advance(to: .longWrite(handle: handle, data: data, offset: end, sent: 0, executing: end >= data.count),
                           mtu: mtu)

        case (.longWrite, .executeWriteResponse):
            return finish(status: 0)

        default:
            return [.log("ATT response 0x\(String(pdu.opcode, radix: 16)) does not answer the pending request")]
                + finish(status: BLEStatus.protocolError)
        }
    }

    /// Asks for the rest of a discovery from `floor`, or ends it when the range is covered or the
    /// server returned nothing.
    private mutating func continueOrFinish(_ empty: Bool, from floor: Int, through end: Int, mtu: Int,
                                           _ make: (UInt16) -> GATTProcedure) -> [GATTClientAction] {
        if empty || floor > end { return finish(status: 0) }
        return advance(to: make(UInt16(truncatingIfNeeded: floor)), mtu: mtu)
    }

    private func wentBack(_ pdu: ATTPDU) -> [GATTClientAction] {
        [.log("discovery on 0x\(String(conn, radix: 16)): the server's response (opcode 0x\(String(pdu.opcode, radix: 16))) does not advance; ending it")]
            + finish(status: BLEStatus.protocolError)
    }

    /// An Error Response to this procedure's request.
    private mutating func failed(_ error: UInt8, mtu: Int) -> [GATTClientAction] {
        switch step {
        case .discoverServices, .discoverCharacteristics, .discoverDescriptors:
            // Attribute Not Found ends a discovery normally (Vol 3 Part G 4.4-4.7).
            return finish(status: error == ATTErrorCode.attributeNotFound ? 0 : Int(error))
        case let .read(_, value) where !value.isEmpty && error == ATTErrorCode.attributeNotLong:
            // The value was exactly MTU-1 long.
            return finish(status: 0)
        case .exchangeMTU:
            // A server that does not support the exchange keeps the MTU as it is.
            return [.emit(.mtuExchanged(connHandle: conn, mtu: mtu))] + finish(status: Int(error))
        default:
            return finish(status: Int(error))
        }
    }
}
