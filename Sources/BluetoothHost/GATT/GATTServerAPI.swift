import BluetoothCore

/// The gatts_* calls of API.md.
extension HostStack {
    /// Replaces the whole database (GAP and GATT services first). Returns the value handles of
    /// each service's characteristics and descriptors, in definition order. While connected, peers
    /// subscribed to Service Changed are told (Vol 3 Part G 7.1).
    package func gattsRegisterServices(_ services: [BLEService]) throws -> [[UInt16]] {
        guard power == .on else { throw BLEError.notActive }
        if advertising { throw BLEError.busy }
        let db = try GATTDatabase(services: services)
        database = db
        for conn in connections.keys.sorted() {
            // CCCD state is tied to handles that may have moved; keep only Service Changed's.
            let scCCCD = db.attribute(db.serviceChangedHandle)?.cccdHandle
            let keep = scCCCD.flatMap { connections[conn]?.att.cccd[$0] }
            connections[conn]?.att.cccd = [:]
            if let scCCCD, let keep { connections[conn]?.att.cccd[scCCCD] = keep }
            if let bits = keep, bits & 0x0002 != 0 {
                // A full indication queue is the app's doing; Service Changed waits its turn (the
                // spec bounds nothing here), so it goes in regardless.
                if let c = connections[conn] {
                    carryOut(conn, c.att.indications.offer(handle: db.serviceChangedHandle, value: [0x01, 0x00, 0xFF, 0xFF]))
                }
            }
        }
        return db.handlesPerService
    }

    /// The local value; `[]` for an unknown handle. In append mode, returns and clears.
    package func gattsRead(_ handle: UInt16) -> [UInt8] {
        guard power == .on, let a = database.attribute(handle) else { return [] }
        switch a.kind {
        case .deviceName: return Array(config.gapName.utf8)
        case .cccd, .declaration: return []  // not a value the app stores
        case .value:
            if a.append { database.update(handle) { $0.value = [] } }
            return a.value
        }
    }

    package func gattsWrite(_ handle: UInt16, _ data: [UInt8], sendUpdate: Bool) throws {
        guard power == .on else { throw BLEError.notActive }
        guard let a = database.attribute(handle), case .value = a.kind else {
            if database.attribute(handle)?.kind == .deviceName {
                config.gapName = String(decoding: data, as: UTF8.self)
                return
            }
            throw BLEError.invalidArgument("no characteristic or descriptor value at handle \(handle)")
        }
        database.update(handle) { attr in
            attr.value = data
            attr.capacity = max(attr.capacity, data.count)
        }
        guard sendUpdate, let cccd = a.cccdHandle else { return }
        // Every subscribed peer is tried; if one has no room, the others still get the update and
        // the call then throws `.noMemory` (the value is stored either way).
        var full = false
        for conn in connections.keys.sorted() {
            let bits = connections[conn]?.att.cccd[cccd] ?? 0
            do {
                if bits & 0x0001 != 0 {
                    try offerATT(conn, opcode: ATTOpcode.handleValueNotification, handle: handle,
                                 value: data.prefix(mtu(conn) - 3))
                } else if bits & 0x0002 != 0 {
                    try queueIndication(conn, handle, data)
                }
            } catch BLEError.noMemory {
                full = true
            }
        }
        if full { throw BLEError.noMemory }
    }

    package func gattsNotify(_ conn: UInt16, _ handle: UInt16, _ data: [UInt8]?) throws {
        guard power == .on else { throw BLEError.notActive }
        guard connections[conn] != nil else { throw BLEError.notConnected }
        guard let a = database.attribute(handle) else { throw BLEError.invalidArgument("no attribute at handle \(handle)") }
        let value = data ?? a.value
        try offerATT(conn, opcode: ATTOpcode.handleValueNotification, handle: handle, value: value.prefix(mtu(conn) - 3))
    }

    package func gattsIndicate(_ conn: UInt16, _ handle: UInt16, _ data: [UInt8]?) throws {
        guard power == .on else { throw BLEError.notActive }
        guard connections[conn] != nil else { throw BLEError.notConnected }
        guard let a = database.attribute(handle) else { throw BLEError.invalidArgument("no attribute at handle \(handle)") }
        try queueIndication(conn, handle, data ?? a.value)
    }

    package func gattsSetBuffer(_ handle: UInt16, _ len: Int, append: Bool) throws {
        guard power == .on else { throw BLEError.notActive }
        guard len >= 0, len <= 512 else { throw BLEError.invalidArgument("buffer length must be 0...512") }
        guard let a = database.attribute(handle), case .value = a.kind else {
            throw BLEError.invalidArgument("no characteristic or descriptor value at handle \(handle)")
        }
        database.update(handle) { attr in
            attr.capacity = len
            attr.append = append
            attr.value = []
        }
    }

    // MARK: Indications: one in flight per connection, 30 s each (Vol 3 Part F 3.3.3)

    /// Queues an indication; throws `.noMemory` when `maxQueuedIndications` wait already (the app is told
    /// by `l2capSendReady` on CID 4 when one is confirmed).
    func queueIndication(_ conn: UInt16, _ handle: UInt16, _ value: [UInt8]) throws {
        guard let c = connections[conn] else { return }
        guard c.att.indications.waitingCount < config.maxQueuedIndications else {
            c.indicationsStalled = true
            throw BLEError.noMemory
        }
        carryOut(conn, c.att.indications.offer(handle: handle, value: Array(value.prefix(mtu(conn) - 3))))
    }

    func indicationConfirmed(_ conn: UInt16) {
        guard let c = connections[conn] else { return }
        carryOut(conn, c.att.indications.confirmed())
        if c.indicationsStalled && c.att.indications.waitingCount < config.maxQueuedIndications {
            c.indicationsStalled = false
            emit(.l2capSendReady(connHandle: conn, cid: FixedChannel.att, status: 0))
        }
    }

    private func indicationTimedOut(_ conn: UInt16) {
        guard let c = connections[conn] else { return }
        carryOut(conn, c.att.indications.timedOut())
    }

    /// Does what the indication machine asked, in order.
    func carryOut(_ conn: UInt16, _ actions: [GATTIndicationAction]) {
        for action in actions {
            switch action {
            case let .indicate(handle, value):
                guard let c = connections[conn] else { return }
                c.att.indicationTimer?.cancel()
                c.att.indicationTimer = schedule(afterNanoseconds: DeviceQueue.nanoseconds(seconds: config.attTimeoutSeconds)) {
                    $0.indicationTimedOut(conn)
                }
                sendATT(conn, .handleValueIndication(handle: handle, value: value))
            case .stopTimer:
                connections[conn]?.att.indicationTimer?.cancel()
                connections[conn]?.att.indicationTimer = nil
            case .emit(let event):
                emit(event)
            case .closeBearer:
                attTransactionTimedOut(conn)
            }
        }
    }

    /// A transaction that timed out ends the bearer: nothing more may be sent on it, so the link
    /// is closed (Vol 3 Part F 3.3.3).
    func attTransactionTimedOut(_ conn: UInt16) {
        guard connections[conn] != nil, connections[conn]?.att.dead == false else { return }
        connections[conn]?.att.dead = true
        log.warning("ATT transaction timed out on 0x\(String(conn, radix: 16)); disconnecting")
        send(HCI.Disconnect(handle: conn, reason: .remoteUserTerminated))
    }
}
