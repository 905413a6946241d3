import BluetoothCore

/// A connection's client procedures, run one at a time in the order they were asked for.
struct GATTClientQueue {
    var procedures: [GATTClientProcedure] = []
    var running = false
    /// The transaction timer of the request in flight.
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
            try offerATT(conn, opcode: ATTOpcode.writeCommand, handle: handle, value: data[...])
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

    // MARK: The driver: carries out what the procedures ask

    private func enqueue(_ conn: UInt16, _ p: GATTProcedure) {
        connections[conn]?.att.client.procedures.append(GATTClientProcedure(conn: conn, p, ourMTU: config.mtu))
        startNext(conn)
    }

    /// Starts the head procedure unless one is already running (an event handler may have queued
    /// and started one while the previous procedure was reporting its end).
    private func startNext(_ conn: UInt16) {
        guard let c = connections[conn], !c.att.client.running, !c.att.client.procedures.isEmpty, !c.att.dead else { return }
        c.att.client.running = true
        let actions = c.att.client.procedures[0].start(mtu: c.att.mtu)
        carryOut(conn, actions)
    }

    /// Does what the head procedure asked, in order.
    private func carryOut(_ conn: UInt16, _ actions: [GATTClientAction]) {
        for action in actions {
            guard let c = connections[conn] else { return }
            switch action {
            case .request(let pdu):
                c.att.client.timer?.cancel()
                c.att.client.timer = schedule(afterNanoseconds: DeviceQueue.nanoseconds(seconds: config.attTimeoutSeconds)) {
                    $0.clientTimedOut(conn)
                }
                sendATT(conn, pdu)
            case .send(let pdu):
                sendATT(conn, pdu)
            case .mtu(let mtu):
                c.att.mtu = mtu
                c.att.mtuExchanged = true
            case .emit(let event):
                emit(event)
            case .log(let text):
                log.warning("\(text)")
            case .done:
                if !c.att.client.procedures.isEmpty { c.att.client.procedures.removeFirst() }
                c.att.client.timer?.cancel()
                c.att.client.timer = nil
                c.att.client.running = false
                startNext(conn)
            }
        }
    }

    private func clientTimedOut(_ conn: UInt16) {
        guard let c = connections[conn], c.att.client.running, let head = c.att.client.procedures.first else { return }
        carryOut(conn, head.end(status: BLEStatus.timedOut))
        attTransactionTimedOut(conn)
    }

    /// Ends every procedure of a connection that went away with status -107 (API.md).
    func clientDisconnected(_ conn: UInt16, _ link: ATTLink) {
        link.client.timer?.cancel()
        for p in link.client.procedures {
            for case .emit(let event) in p.end(status: BLEStatus.notConnected) { emit(event) }
        }
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
        guard let c = connections[conn], c.att.client.running, !c.att.client.procedures.isEmpty else {
            log.debug("unexpected ATT response on 0x\(String(conn, radix: 16))")
            return
        }
        let actions = c.att.client.procedures[0].receive(pdu, mtu: c.att.mtu)
        carryOut(conn, actions)
    }
}
