import BluetoothCore

/// One GATT client procedure (Core Vol 3 Part G 4) and where it stands.
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

/// A connection's client procedures, run one at a time in the order they were asked for.
struct GATTClientQueue {
    var procedures: [GATTProcedure] = []
    var running = false
    var timer: DeviceTimer?
}

extension HostStack {
    // MARK: API (gattc_* of API.md)

    /// Checks that a procedure can be queued on `conn`: the radio is on, the link is up and its
    /// queue has room.
    private func clientLink(_ conn: UInt16, queueing: Bool = true) throws {
        guard power == .on else { throw BLEError.notActive }
        guard let link = connections[conn]?.att else { throw BLEError.notConnected }
        guard !queueing || link.client.procedures.count < config.maxClientProcedures else { throw BLEError.noMemory }
    }

    package func gattcDiscoverServices(_ conn: UInt16, _ uuid: BluetoothUUID?) throws {
        try clientLink(conn)
        enqueue(conn, .discoverServices(uuid: uuid, next: 1))
    }

    package func gattcDiscoverCharacteristics(_ conn: UInt16, _ start: UInt16, _ end: UInt16, _ uuid: BluetoothUUID?) throws {
        try clientLink(conn)
        guard start >= 1, start <= end else { throw BLEError.invalidArgument("handle range \(start)...\(end) is empty") }
        enqueue(conn, .discoverCharacteristics(start: start, end: end, uuid: uuid, next: start, held: nil))
    }

    /// Reports every attribute in (start, end], as NimBLE does.
    package func gattcDiscoverDescriptors(_ conn: UInt16, _ start: UInt16, _ end: UInt16) throws {
        try clientLink(conn)
        guard start <= end else { throw BLEError.invalidArgument("handle range \(start)...\(end) is empty") }
        enqueue(conn, .discoverDescriptors(end: end, next: start &+ 1))
    }

    package func gattcRead(_ conn: UInt16, _ handle: UInt16) throws {
        try clientLink(conn)
        enqueue(conn, .read(handle: handle, value: []))
    }

    package func gattcWrite(_ conn: UInt16, _ handle: UInt16, _ data: [UInt8], _ mode: BLEWriteMode) throws {
        try clientLink(conn, queueing: mode == .withResponse)
        let mtu = self.mtu(conn)
        switch mode {
        case .noResponse:
            guard data.count <= mtu - 3 else {
                throw BLEError.invalidArgument("a write without response carries at most MTU-3 = \(mtu - 3) bytes, got \(data.count)")
            }
            // Commands need no response and do not wait behind requests (Vol 3 Part F 3.3).
            try offerATT(conn, .writeCommand(handle: handle, value: data))
        case .withResponse:
            guard data.count <= 512 else { throw BLEError.invalidArgument("an attribute value is at most 512 bytes") }
            if data.count <= mtu - 3 {
                enqueue(conn, .write(handle: handle, data: data))
            } else {
                enqueue(conn, .longWrite(handle: handle, data: data, offset: 0, sent: 0, executing: false))
            }
        }
    }

    package func gattcExchangeMtu(_ conn: UInt16) throws {
        try clientLink(conn)
        enqueue(conn, .exchangeMTU)
    }

    // MARK: Queue

    private func enqueue(_ conn: UInt16, _ p: GATTProcedure) {
        connections[conn]?.att.client.procedures.append(p)
        startNext(conn)
    }

    /// Starts the head procedure unless one is already running (an event handler may have queued
    /// and started one while the previous procedure was reporting its end).
    private func startNext(_ conn: UInt16) {
        guard let c = connections[conn], !c.att.client.running, !c.att.client.procedures.isEmpty, !c.att.dead else { return }
        c.att.client.running = true
        sendRequest(conn)
    }

    /// Sends the request the head procedure needs now, with its 30 s transaction timer.
    private func sendRequest(_ conn: UInt16) {
        guard let head = connections[conn]?.att.client.procedures.first else { return }
        let pdu: ATTPDU
        switch head {
        case .exchangeMTU:
            pdu = .exchangeMTURequest(mtu: UInt16(config.mtu))
        case let .discoverServices(uuid, next):
            if let uuid {
                pdu = .findByTypeValueRequest(start: next, end: 0xFFFF, type: 0x2800, value: uuid.attBytes)
            } else {
                pdu = .readByGroupTypeRequest(start: next, end: 0xFFFF, type: GATTType.primaryService)
            }
        case let .discoverCharacteristics(_, end, _, next, _):
            pdu = .readByTypeRequest(start: next, end: end, type: GATTType.characteristic)
        case let .discoverDescriptors(end, next):
            // An empty range (a characteristic without descriptors) needs no request.
            if next > end || next == 0 { return finishHead(conn, status: 0) }
            pdu = .findInformationRequest(start: next, end: end)
        case let .read(handle, value):
            pdu = value.isEmpty ? .readRequest(handle: handle)
                : .readBlobRequest(handle: handle, offset: UInt16(truncatingIfNeeded: value.count))
        case let .write(handle, data):
            pdu = .writeRequest(handle: handle, value: data)
        case let .longWrite(handle, data, offset, _, executing):
            if executing || offset >= data.count {
                pdu = .executeWriteRequest(flags: 0x01)
            } else {
                let chunk = Array(data[offset..<min(data.count, offset + mtu(conn) - 5)])
                connections[conn]?.att.client.procedures[0] = .longWrite(handle: handle, data: data, offset: offset,
                                                               sent: chunk.count, executing: false)
                pdu = .prepareWriteRequest(handle: handle, offset: UInt16(offset), value: chunk)
            }
        }
        connections[conn]?.att.client.timer?.cancel()
        connections[conn]?.att.client.timer = schedule(afterNanoseconds: DeviceQueue.nanoseconds(seconds: config.attTimeoutSeconds)) {
            $0.clientTimedOut(conn)
        }
        sendATT(conn, pdu)
    }

    private func clientTimedOut(_ conn: UInt16) {
        guard connections[conn]?.att.client.running == true else { return }
        finishHead(conn, status: BLEStatus.timedOut)
        attTransactionTimedOut(conn)
    }

    /// Ends the head procedure with its done event, and starts the next one.
    private func finishHead(_ conn: UInt16, status: Int) {
        guard let c = connections[conn], !c.att.client.procedures.isEmpty else { return }
        let head = c.att.client.procedures.removeFirst()
        c.att.client.timer?.cancel()
        c.att.client.timer = nil
        c.att.client.running = false
        emitDone(conn, head, status: status)
        startNext(conn)
    }

    private func emitDone(_ conn: UInt16, _ p: GATTProcedure, status: Int) {
        switch p {
        case .exchangeMTU:
            if status != 0 { log.info("MTU exchange on 0x\(String(conn, radix: 16)) failed: \(status)") }
        case .discoverServices: emit(.gattcServiceDone(connHandle: conn, status: status))
        case let .discoverCharacteristics(_, end, _, _, held):
            // The last characteristic ends where the range ends.
            if let held, status == 0 {
                emit(.gattcCharacteristicResult(connHandle: conn, endHandle: end, valueHandle: held.valueHandle,
                                                properties: held.properties, uuid: held.uuid))
            }
            emit(.gattcCharacteristicDone(connHandle: conn, status: status))
        case .discoverDescriptors: emit(.gattcDescriptorDone(connHandle: conn, status: status))
        case let .read(handle, value):
            if status == 0 { emit(.gattcReadResult(connHandle: conn, valueHandle: handle, charData: value)) }
            emit(.gattcReadDone(connHandle: conn, valueHandle: handle, status: status))
        case let .write(handle, _):
            emit(.gattcWriteDone(connHandle: conn, valueHandle: handle, status: status))
        case let .longWrite(handle, _, _, _, _):
            emit(.gattcWriteDone(connHandle: conn, valueHandle: handle, status: status))
        }
    }

    /// Ends every procedure of a connection that went away with status -107 (API.md).
    func clientDisconnected(_ conn: UInt16, _ link: ATTLink) {
        link.client.timer?.cancel()
        for p in link.client.procedures { emitDone(conn, p, status: BLEStatus.notConnected) }
    }

    private func replaceHead(_ conn: UInt16, _ p: GATTProcedure) {
        guard connections[conn]?.att.client.procedures.isEmpty == false else { return }
        connections[conn]?.att.client.procedures[0] = p
        sendRequest(conn)
    }

    // MARK: Responses

    func clientReceive(_ conn: UInt16, _ pdu: ATTPDU) {
        switch pdu {
        case let .handleValueNotification(handle, value):
            emit(.gattcNotify(connHandle: conn, valueHandle: handle, notifyData: value))
            return
        case let .multipleHandleValueNotification(values):
            // One gattcNotify per value, in order (Vol 3 Part F 3.4.7.4).
            for v in values { emit(.gattcNotify(connHandle: conn, valueHandle: v.handle, notifyData: v.value)) }
            return
        case let .handleValueIndication(handle, value):
            emit(.gattcIndicate(connHandle: conn, valueHandle: handle, notifyData: value))
            sendATT(conn, .handleValueConfirmation)
            return
        default:
            break
        }
        guard let link = connections[conn]?.att, link.client.running, let head = link.client.procedures.first else {
            log.debug("unexpected ATT response on 0x\(String(conn, radix: 16))")
            return
        }
        if case let .errorResponse(_, _, error) = pdu {
            return handleError(conn, head, error)
        }
        switch (head, pdu) {
        case (.exchangeMTU, .exchangeMTUResponse(let serverMTU)):
            let mtu = max(23, min(Int(serverMTU), config.mtu))
            connections[conn]?.att.mtu = mtu
            connections[conn]?.att.mtuExchanged = true
            emit(.mtuExchanged(connHandle: conn, mtu: mtu))
            finishHead(conn, status: 0)

        // Discovery responses must move forward: every result lies at or past the handle the
        // request started from, inside the range asked for, and past the one before it. A server
        // that repeats or goes back (a group at handle 1 in every response) would otherwise loop
        // the procedure forever; such a response ends it with `protocolError`, and its results
        // from the first bad one on are not raised (NimBLE checks the same, `att_handle <= prev`).
        case let (.discoverServices(nil, next), .readByGroupTypeResponse(items)):
            var floor = Int(next)
            for i in items {
                guard Int(i.handle) >= floor, i.endGroupHandle >= i.handle else { return discoveryWentBack(conn, pdu) }
                if let uuid = try? BluetoothUUID(bytes: i.value) {
                    emit(.gattcServiceResult(connHandle: conn, startHandle: i.handle, endHandle: i.endGroupHandle, uuid: uuid))
                }
                floor = Int(i.endGroupHandle) + 1
            }
            continueOrFinish(conn, items.isEmpty, from: floor, through: 0xFFFF) { .discoverServices(uuid: nil, next: $0) }

        case let (.discoverServices(uuid?, next), .findByTypeValueResponse(items)):
            var floor = Int(next)
            for i in items {
                guard Int(i.found) >= floor, i.groupEnd >= i.found else { return discoveryWentBack(conn, pdu) }
                emit(.gattcServiceResult(connHandle: conn, startHandle: i.found, endHandle: i.groupEnd, uuid: uuid))
                floor = Int(i.groupEnd) + 1
            }
            continueOrFinish(conn, items.isEmpty, from: floor, through: 0xFFFF) { .discoverServices(uuid: uuid, next: $0) }

        case let (.discoverCharacteristics(start, end, filter, next, held), .readByTypeResponse(items)):
            var held = held
            var floor = Int(next)
            for i in items {
                guard Int(i.handle) >= floor, i.handle <= end else { return discoveryWentBack(conn, pdu) }
                floor = Int(i.handle) + 1
                guard i.value.count == 5 || i.value.count == 19,
                      let uuid = try? BluetoothUUID(bytes: Array(i.value[3...])) else { continue }
                let valueHandle = UInt16(i.value[1]) | UInt16(i.value[2]) << 8
                if let h = held, filter == nil || filter == h.uuid {
                    emit(.gattcCharacteristicResult(connHandle: conn, endHandle: i.handle &- 1, valueHandle: h.valueHandle,
                                                    properties: h.properties, uuid: h.uuid))
                }
                held = filter == nil || filter == uuid ? (valueHandle, i.value[0], uuid) : nil
            }
            // The procedure keeps the held characteristic either way: the last one ends at `end`.
            connections[conn]?.att.client.procedures[0] = .discoverCharacteristics(start: start, end: end, uuid: filter,
                                                                          next: next, held: held)
            continueOrFinish(conn, items.isEmpty, from: floor, through: Int(end)) {
                .discoverCharacteristics(start: start, end: end, uuid: filter, next: $0, held: held)
            }

        case let (.discoverDescriptors(end, next), .findInformationResponse(items)):
            var floor = Int(next)
            for i in items {
                guard Int(i.handle) >= floor, i.handle <= end else { return discoveryWentBack(conn, pdu) }
                emit(.gattcDescriptorResult(connHandle: conn, dscHandle: i.handle, uuid: i.uuid))
                floor = Int(i.handle) + 1
            }
            continueOrFinish(conn, items.isEmpty, from: floor, through: Int(end)) { .discoverDescriptors(end: end, next: $0) }

        case let (.read(handle, value), .readResponse(chunk)), let (.read(handle, value), .readBlobResponse(chunk)):
            let all = value + chunk
            // A response that fills the MTU may have more behind it (Vol 3 Part G 4.8.3). Values
            // are at most 512 bytes by the spec, but some servers (Bumble) serve longer ones: read
            // on while the 16-bit offset can go.
            if chunk.count == mtu(conn) - 1, all.count < 0xFFFF {
                replaceHead(conn, .read(handle: handle, value: all))
            } else {
                connections[conn]?.att.client.procedures[0] = .read(handle: handle, value: all)
                finishHead(conn, status: 0)
            }

        case (.write, .writeResponse):
            finishHead(conn, status: 0)

        case let (.longWrite(handle, data, offset, sent, false), .prepareWriteResponse(_, rOffset, echoed)):
            let end = min(data.count, offset + sent)
            guard Int(rOffset) == offset, echoed == Array(data[offset..<end]) else {
                // The server changed what we sent: cancel it all (Vol 3 Part G 4.9.5).
                sendATT(conn, .executeWriteRequest(flags: 0x00))
                finishHead(conn, status: BLEStatus.protocolError)
                return
            }
            replaceHead(conn, .longWrite(handle: handle, data: data, offset: end, sent: 0, executing: end >= data.count))

        case (.longWrite, .executeWriteResponse):
            finishHead(conn, status: 0)

        default:
            log.warning("ATT response \(String(pdu.opcode, radix: 16)) does not answer the pending request")
            finishHead(conn, status: BLEStatus.protocolError)
        }
    }

    /// Asks for the rest of a discovery from `floor`, or ends it when the range is covered or the
    /// server returned nothing.
    private func continueOrFinish(_ conn: UInt16, _ empty: Bool, from floor: Int, through end: Int,
                                  _ make: (UInt16) -> GATTProcedure) {
        if empty || floor > end {
            finishHead(conn, status: 0)
        } else {
            replaceHead(conn, make(UInt16(truncatingIfNeeded: floor)))
        }
    }

    private func discoveryWentBack(_ conn: UInt16, _ pdu: ATTPDU) {
        log.warning("discovery on 0x\(String(conn, radix: 16)): the server's response (opcode 0x\(String(pdu.opcode, radix: 16))) does not advance; ending it")
        finishHead(conn, status: BLEStatus.protocolError)
    }

    private func handleError(_ conn: UInt16, _ head: GATTProcedure, _ error: UInt8) {
        switch head {
        case .discoverServices, .discoverCharacteristics, .discoverDescriptors:
            // Attribute Not Found ends a discovery normally (Vol 3 Part G 4.4-4.7).
            finishHead(conn, status: error == ATTErrorCode.attributeNotFound ? 0 : Int(error))
        case let .read(handle, value) where !value.isEmpty && error == ATTErrorCode.attributeNotLong:
            // The value was exactly MTU-1 long.
            connections[conn]?.att.client.procedures[0] = .read(handle: handle, value: value)
            finishHead(conn, status: 0)
        case .exchangeMTU:
            // A server that does not support the exchange keeps the default MTU.
            emit(.mtuExchanged(connHandle: conn, mtu: mtu(conn)))
            finishHead(conn, status: Int(error))
        default:
            finishHead(conn, status: Int(error))
        }
    }
}
