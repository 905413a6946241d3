import BluetoothCore

/// The ATT server: answers every request of Core Vol 3 Part F 3.4 from the database, with the error
/// the spec asks for when the request is malformed or not allowed.
extension HostStack {
    func serverReceive(handle conn: UInt16, _ bytes: [UInt8]) {
        let pdu: ATTPDU
        do {
            pdu = try ATTPDU(parsing: bytes)
        } catch {
            let op = error.opcode
            // Commands (bit 6) and anything that is not a request get no answer (3.4.1.1, 3.3).
            if ATTOpcode.isRequest(op) {
                sendATT(conn, .errorResponse(requestOpcode: op, handle: 0, error: ATTErrorCode.invalidPDU))
            } else if error.unknownOpcode && op & 0x40 == 0 && op != ATTOpcode.handleValueConfirmation {
                sendATT(conn, .errorResponse(requestOpcode: op, handle: 0, error: ATTErrorCode.requestNotSupported))
            }
            log.debug("ATT from 0x\(String(conn, radix: 16)): \(error)")
            return
        }
        switch pdu {
        // Client-side PDUs (responses, notifications, indications) go to the client.
        case .errorResponse, .exchangeMTUResponse, .findInformationResponse, .findByTypeValueResponse,
             .readByTypeResponse, .readResponse, .readBlobResponse, .readMultipleResponse, .readByGroupTypeResponse,
             .writeResponse, .prepareWriteResponse, .executeWriteResponse, .readMultipleVariableResponse,
             .handleValueNotification, .handleValueIndication, .multipleHandleValueNotification:
            clientReceive(conn, pdu)
        case .handleValueConfirmation:
            indicationConfirmed(conn)
        case let .exchangeMTURequest(clientMTU):
            let ours = config.mtu
            sendATT(conn, .exchangeMTUResponse(mtu: UInt16(ours)))
            let mtu = max(23, min(Int(clientMTU), ours))
            connections[conn]?.att.mtu = mtu
            connections[conn]?.att.mtuExchanged = true
            emit(.mtuExchanged(connHandle: conn, mtu: mtu))
        case let .findInformationRequest(start, end):
            guard validRange(conn, ATTOpcode.findInformationRequest, start, end) else { return }
            findInformation(conn, start, end)
        case let .findByTypeValueRequest(start, end, type, value):
            guard validRange(conn, ATTOpcode.findByTypeValueRequest, start, end) else { return }
            findByTypeValue(conn, start, end, type, value)
        case let .readByTypeRequest(start, end, type):
            guard validRange(conn, ATTOpcode.readByTypeRequest, start, end) else { return }
            readByType(conn, start, end, type)
        case let .readByGroupTypeRequest(start, end, type):
            guard validRange(conn, ATTOpcode.readByGroupTypeRequest, start, end) else { return }
            readByGroupType(conn, start, end, type)
        case let .readRequest(h):
            switch readValue(conn, h, offset: 0, blob: false) {
            case .success(let v): sendATT(conn, .readResponse(value: Array(v.prefix(mtu(conn) - 1))))
            case .failure(let e): sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.readRequest, handle: h, error: e.code))
            }
        case let .readBlobRequest(h, offset):
            switch readValue(conn, h, offset: Int(offset), blob: true) {
            case .success(let v): sendATT(conn, .readBlobResponse(value: Array(v.prefix(mtu(conn) - 1))))
            case .failure(let e):
                sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.readBlobRequest, handle: h, error: e.code))
            }
        case let .readMultipleRequest(handles):
            var out: [UInt8] = []
            for h in handles {
                switch readValue(conn, h, offset: 0, blob: false) {
                case .success(let v): out += v
                case .failure(let e):
                    return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.readMultipleRequest, handle: h, error: e.code))
                }
            }
            sendATT(conn, .readMultipleResponse(values: Array(out.prefix(mtu(conn) - 1))))
        case let .readMultipleVariableRequest(handles):
            var values: [[UInt8]] = []
            var room = mtu(conn) - 1
            for h in handles {
                switch readValue(conn, h, offset: 0, blob: false) {
                case .success(let v):
                    // Length-prefixed; the last value is cut to what fits (3.4.4.12).
                    let fit = Array(v.prefix(max(0, room - 2)))
                    if room >= 2 { values.append(fit) }
                    room -= 2 + fit.count
                case .failure(let e):
                    return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.readMultipleVariableRequest, handle: h,
                                                        error: e.code))
                }
            }
            sendATT(conn, .readMultipleVariableResponse(values: values))
        case let .writeRequest(h, value):
            switch writeValue(conn, h, value, offset: 0) {
            case .success: sendATT(conn, .writeResponse)
            case .failure(let e): sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.writeRequest, handle: h, error: e.code))
            }
            finishWrite(conn, h)
        case let .writeCommand(h, value):
            if case .success = writeValue(conn, h, value, offset: 0) { finishWrite(conn, h) }
        case .signedWriteCommand:
            // No signing keys yet (the security issue): a command gets no answer and is dropped
            // (Vol 3 Part F 3.4.5.4).
            log.info("dropped a Signed Write Command: no signing key")
        case let .prepareWriteRequest(h, offset, value):
            prepareWrite(conn, h, Int(offset), value)
        case let .executeWriteRequest(flags):
            executeWrite(conn, flags)
        }
    }

    struct ATTFailure: Error {
        let code: UInt8
    }

    func mtu(_ conn: UInt16) -> Int { connections[conn]?.att.mtu ?? 23 }

    /// Sends a reply, request, confirmation or indication: never refused (the protocol allows one
    /// of each in flight); on a link that is gone there is no one to send it to.
    func sendATT(_ conn: UInt16, _ pdu: ATTPDU) {
        sendL2CAP(handle: conn, cid: FixedChannel.att, payload: pdu.encode())
    }

    /// Offers a PDU of an opcode, a handle and a value (Handle Value Notification, Write Command:
    /// Vol 3 Part F 3.4.7.1, 3.4.5.3), written straight into the outgoing buffer. Throws
    /// `.noMemory` when the link's queue is full (and owes the app an `l2capSendReady` on CID 4),
    /// `.notConnected` when the link is gone.
    func offerATT(_ conn: UInt16, opcode: UInt8, handle: UInt16, value: ArraySlice<UInt8>) throws {
        try offered(conn, l2capPDU(handle: conn, cid: FixedChannel.att, length: 3 + value.count, bounded: true) { w in
            w.u8(opcode)
            w.u16(handle)
            w.append(value)
        })
    }

    private func offered(_ conn: UInt16, _ result: ACLOutbound.SendResult) throws {
        switch result {
        case .queued: return
        case .full:
            connections[conn]?.attStalled = true
            throw BLEError.noMemory
        case .unknownLink: throw BLEError.notConnected
        case .tooLong: throw BLEError.tooBig
        }
    }

    /// Handle 0 and a start above the end are Invalid Handle (3.4.3.1 and friends).
    private func validRange(_ conn: UInt16, _ op: UInt8, _ start: UInt16, _ end: UInt16) -> Bool {
        if start == 0 || start > end {
            sendATT(conn, .errorResponse(requestOpcode: op, handle: start, error: ATTErrorCode.invalidHandle))
            return false
        }
        return true
    }

    private func notFound(_ conn: UInt16, _ op: UInt8, _ start: UInt16) {
        sendATT(conn, .errorResponse(requestOpcode: op, handle: start, error: ATTErrorCode.attributeNotFound))
    }

    private func findInformation(_ conn: UInt16, _ start: UInt16, _ end: UInt16) {
        var items: [(handle: UInt16, uuid: BluetoothUUID)] = []
        var width = 0
        let limit = mtu(conn) - 2
        for a in database.attributes where a.handle >= start && a.handle <= end {
            let w = a.type.attBytes.count
            if width == 0 { width = w }
            if w != width || (items.count + 1) * (2 + w) > limit { break }
            items.append((a.handle, a.type))
        }
        if items.isEmpty { return notFound(conn, ATTOpcode.findInformationRequest, start) }
        sendATT(conn, .findInformationResponse(items))
    }

    private func findByTypeValue(_ conn: UInt16, _ start: UInt16, _ end: UInt16, _ type: UInt16, _ value: [UInt8]) {
        var items: [(found: UInt16, groupEnd: UInt16)] = []
        let limit = (mtu(conn) - 1) / 4
        let t = BluetoothUUID(type)
        for a in database.attributes where a.handle >= start && a.handle <= end && a.type == t {
            guard case .success(let v) = readValue(conn, a.handle, offset: 0, blob: false, raiseEvent: false) else { continue }
            // Service UUIDs compare by meaning: a 16-bit UUID sent as 128 bits still matches.
            let matches: Bool
            if (t == GATTType.primaryService || t == GATTType.secondaryService),
               let mine = try? BluetoothUUID(bytes: v), let theirs = try? BluetoothUUID(bytes: value) {
                matches = mine == theirs
            } else {
                matches = v == value
            }
            guard matches else { continue }
            items.append((a.handle, a.groupEnd == 0 ? a.handle : a.groupEnd))
            if items.count == limit { break }
        }
        if items.isEmpty { return notFound(conn, ATTOpcode.findByTypeValueRequest, start) }
        sendATT(conn, .findByTypeValueResponse(items))
    }

    private func readByType(_ conn: UInt16, _ start: UInt16, _ end: UInt16, _ type: BluetoothUUID) {
        var items: [ATTHandleValue] = []
        var length = -1
        let room = mtu(conn) - 2
        for a in database.attributes where a.handle >= start && a.handle <= end && a.type == type {
            let result = readValue(conn, a.handle, offset: 0, blob: false)
            guard case .success(let full) = result else {
                // The first attribute's error is the answer; a later one ends the list (3.4.4.1).
                if items.isEmpty, case .failure(let e) = result {
                    return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.readByTypeRequest, handle: a.handle,
                                                        error: e.code))
                }
                break
            }
            let v = Array(full.prefix(min(253, room - 2)))
            if length == -1 { length = v.count }
            // One response carries values of one length, as many as fit (3.4.4.2).
            guard v.count == length, (items.count + 1) * (2 + length) <= room else { break }
            items.append(ATTHandleValue(handle: a.handle, value: v))
        }
        if items.isEmpty { return notFound(conn, ATTOpcode.readByTypeRequest, start) }
        sendATT(conn, .readByTypeResponse(items))
    }

    private func readByGroupType(_ conn: UInt16, _ start: UInt16, _ end: UInt16, _ type: BluetoothUUID) {
        guard type == GATTType.primaryService || type == GATTType.secondaryService else {
            return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.readByGroupTypeRequest, handle: start,
                                                error: ATTErrorCode.unsupportedGroupType))
        }
        var items: [ATTGroupValue] = []
        var length = -1
        let room = mtu(conn) - 2
        for a in database.attributes where a.handle >= start && a.handle <= end && a.type == type {
            if length == -1 { length = a.value.count }
            if a.value.count != length || (items.count + 1) * (4 + length) > room { break }
            items.append(ATTGroupValue(handle: a.handle, endGroupHandle: a.groupEnd, value: a.value))
        }
        if items.isEmpty { return notFound(conn, ATTOpcode.readByGroupTypeRequest, start) }
        sendATT(conn, .readByGroupTypeResponse(items))
    }

    /// The value of an attribute as this connection may read it, from `offset`.
    func readValue(_ conn: UInt16, _ handle: UInt16, offset: Int, blob: Bool, raiseEvent: Bool = true)
        -> Result<[UInt8], ATTFailure>
    {
        guard let a = database.attribute(handle) else { return .failure(ATTFailure(code: ATTErrorCode.invalidHandle)) }
        var value: [UInt8]
        switch a.kind {
        case .declaration:
            value = a.value
            // Declarations have a fixed length that always fits: nothing to read in blobs (3.4.4.5).
            if blob && offset > 0 { return .failure(ATTFailure(code: ATTErrorCode.attributeNotLong)) }
        case .deviceName:
            value = Array(config.gapName.utf8)
        case .cccd:
            let bits = connections[conn]?.att.cccd[handle] ?? 0
            value = [UInt8(bits & 0xFF), UInt8(bits >> 8)]
        case .value(let flags):
            guard flags.contains(.read) else { return .failure(ATTFailure(code: ATTErrorCode.readNotPermitted)) }
            if let code = securityError(flags, read: true) { return .failure(ATTFailure(code: code)) }
            if raiseEvent, offset == 0 {
                // The app may refresh the value with gattsWrite, or deny the read (API.md).
                if case .status(let code)? = raiseNow(.gattsReadRequest(connHandle: conn, attrHandle: handle)), code != 0 {
                    return .failure(ATTFailure(code: UInt8(truncatingIfNeeded: code)))
                }
            }
            value = database.attribute(handle)?.value ?? []
        }
        guard offset <= value.count else { return .failure(ATTFailure(code: ATTErrorCode.invalidOffset)) }
        return .success(Array(value[offset...]))
    }

    /// The link has no encryption until the security issue lands: encrypted, authenticated and
    /// authorized access are refused with the matching error (Vol 3 Part F 4.5).
    private func securityError(_ flags: BLEFlags, read: Bool) -> UInt8? {
        if read {
            if flags.contains(.readAuthenticated) { return ATTErrorCode.insufficientAuthentication }
            if flags.contains(.readEncrypted) { return ATTErrorCode.insufficientEncryption }
            if flags.contains(.readAuthorized) { return ATTErrorCode.insufficientAuthorization }
        } else {
            if flags.contains(.writeAuthenticated) { return ATTErrorCode.insufficientAuthentication }
            if flags.contains(.writeEncrypted) { return ATTErrorCode.insufficientEncryption }
            if flags.contains(.writeAuthorized) { return ATTErrorCode.insufficientAuthorization }
        }
        return nil
    }

    /// Checks a remote write and stores it. The `gattsWrite` event is raised by `finishWrite`.
    func writeValue(_ conn: UInt16, _ handle: UInt16, _ data: [UInt8], offset: Int) -> Result<Void, ATTFailure> {
        guard let a = database.attribute(handle) else { return .failure(ATTFailure(code: ATTErrorCode.invalidHandle)) }
        switch a.kind {
        case .declaration, .deviceName:
            return .failure(ATTFailure(code: ATTErrorCode.writeNotPermitted))
        case .cccd:
            guard offset == 0, data.count == 2 else {
                return .failure(ATTFailure(code: ATTErrorCode.invalidAttributeValueLength))
            }
            connections[conn]?.att.cccd[handle] = UInt16(data[0]) | UInt16(data[1]) << 8
            return .success(())
        case .value(let flags):
            guard flags.contains(.write) || flags.contains(.writeNoResponse) else {
                return .failure(ATTFailure(code: ATTErrorCode.writeNotPermitted))
            }
            if let code = securityError(flags, read: false) { return .failure(ATTFailure(code: code)) }
            database.update(handle) { attr in
                if attr.append {
                    let room = max(0, attr.capacity - attr.value.count)
                    attr.value += data.prefix(room)
                } else {
                    attr.value = Array(data.prefix(attr.capacity))
                }
            }
            pendingWriteEvent = handle
            return .success(())
        }
    }

    /// Raises `gattsWrite` for the value a remote write just stored (CCCD writes raise nothing).
    func finishWrite(_ conn: UInt16, _ handle: UInt16) {
        guard pendingWriteEvent == handle else { return }
        pendingWriteEvent = nil
        raiseNow(.gattsWrite(connHandle: conn, attrHandle: handle))
    }

    private func prepareWrite(_ conn: UInt16, _ h: UInt16, _ offset: Int, _ value: [UInt8]) {
        guard let a = database.attribute(h) else {
            return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.prepareWriteRequest, handle: h,
                                                error: ATTErrorCode.invalidHandle))
        }
        // Permissions are checked now; lengths and offsets at execution (3.4.6.1).
        var allowed = false
        switch a.kind {
        case .value(let flags):
            allowed = flags.contains(.write)
            if allowed, let code = securityError(flags, read: false) {
                return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.prepareWriteRequest, handle: h, error: code))
            }
        case .cccd: allowed = true
        case .declaration, .deviceName: allowed = false
        }
        guard allowed else {
            return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.prepareWriteRequest, handle: h,
                                                error: ATTErrorCode.writeNotPermitted))
        }
        guard let c = connections[conn] else { return }
        guard c.att.prepareQueue.count < ATTLink.maxPreparedWrites, c.att.preparedBytes + value.count <= 4096 else {
            return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.prepareWriteRequest, handle: h,
                                                error: ATTErrorCode.prepareQueueFull))
        }
        c.att.prepareQueue.append((h, offset, value))
        c.att.preparedBytes += value.count
        sendATT(conn, .prepareWriteResponse(handle: h, offset: UInt16(offset), value: value))
    }

    private func executeWrite(_ conn: UInt16, _ flags: UInt8) {
        guard let c = connections[conn] else { return }
        let queue = c.att.prepareQueue
        c.att.prepareQueue.removeAll()
        c.att.preparedBytes = 0
        guard flags == 0x01 else {
            if flags != 0x00 {
                return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.executeWriteRequest, handle: 0,
                                                    error: ATTErrorCode.invalidPDU))
            }
            return sendATT(conn, .executeWriteResponse)
        }
        // Assemble each handle's value from its parts, in order; every offset must continue the
        // bytes before it.
        var order: [UInt16] = []
        var assembled: [UInt16: [UInt8]] = [:]
        for item in queue {
            var current = assembled[item.handle] ?? []
            guard item.offset <= current.count else {
                return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.executeWriteRequest, handle: item.handle,
                                                    error: ATTErrorCode.invalidOffset))
            }
            current.replaceSubrange(item.offset..<min(current.count, item.offset + item.value.count), with: item.value)
            if assembled[item.handle] == nil { order.append(item.handle) }
            assembled[item.handle] = current
        }
        for h in order {
            if case .failure(let e) = writeValue(conn, h, assembled[h] ?? [], offset: 0) {
                return sendATT(conn, .errorResponse(requestOpcode: ATTOpcode.executeWriteRequest, handle: h, error: e.code))
            }
            pendingWriteEvent = nil
        }
        sendATT(conn, .executeWriteResponse)
        // One gattsWrite per value written (API.md), after the response.
        for h in order where database.attribute(h).map({ $0.kind != .cccd }) ?? false {
            raiseNow(.gattsWrite(connHandle: conn, attrHandle: h))
        }
    }
}
