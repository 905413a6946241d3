import BluetoothCore

extension HostStack {
    func handleConnectionComplete(status: HCIStatus, handle: UInt16, role: UInt8, peerAddressType: UInt8,
                                  peerAddress: BluetoothAddress, interval: UInt16, latency: UInt16, timeout: UInt16) {
        let asCentral = role == HCI.Role.central.rawValue
        guard status.isSuccess else {
            if asCentral || pendingConnect != nil {
                connectFailed()
            } else if status == .advertisingTimeout {
                advertising = false
            }
            return
        }
        guard connections[handle] == nil else {
            log.warning("controller reused live connection handle 0x\(String(handle, radix: 16)); ignored")
            return
        }
        let state = Connection(handle: handle, role: asCentral ? .central : .peripheral,
                               peerAddressType: AddressType(hci: peerAddressType), peerAddress: peerAddress,
                               interval: interval, latency: latency, supervisionTimeout: timeout)
        connections[handle] = state
        acl.addLink(handle)
        if asCentral {
            if let pending = pendingConnect {
                pending.timer?.cancel()
                pendingConnect = nil
            } else if unwantedConnectTargets.remove(peerAddress) != nil {
                // The app was told this attempt failed: do not leave a link it does not know about.
                log.warning("a cancelled connection to \(peerAddress) completed anyway; disconnecting it")
                state.silent = true
                send(HCI.Disconnect(handle: handle, reason: .remoteUserTerminated))
                return
            }
            emit(.peripheralConnect(connHandle: handle, addrType: state.peerAddressType, addr: peerAddress))
        } else {
            // Connectable advertising stops when a central connects (Vol 6 Part B 4.4.2).
            advertising = false
            emit(.centralConnect(connHandle: handle, addrType: state.peerAddressType, addr: peerAddress))
        }
    }

    func handleDisconnectionComplete(_ e: HCI.DisconnectionComplete) {
        guard e.status.isSuccess else {
            log.warning("disconnection of 0x\(String(e.handle, radix: 16)) failed: \(e.status)")
            return
        }
        guard let c = connections.removeValue(forKey: e.handle) else { return }
        log.info("disconnected 0x\(String(e.handle, radix: 16)): \(e.reason)")
        endConnection(c, raiseEvents: true)
    }

    /// The one way a connection ends (the controller reported its disconnection, or the session
    /// ended): its data paths are dropped, its timers stopped, and, unless the app never knew of
    /// it or the app asked for silence (`active(false)`), every procedure it held ends with its
    /// event (status -107), then the disconnect event. The caller has removed it from `connections`.
    func endConnection(_ c: Connection, raiseEvents: Bool) {
        acl?.removeLink(c.handle)
        reassembler.removeLink(c.handle)
        c.att.indicationTimer?.cancel()
        c.att.client.timer?.cancel()
        c.attStalled = false
        c.indicationsStalled = false
        guard raiseEvents, !c.silent else { return }
        attLinkClosed(c.handle, c.att)
        emitDisconnect(c)
    }

    func emitDisconnect(_ c: Connection) {
        switch c.role {
        case .central: emit(.peripheralDisconnect(connHandle: c.handle, addrType: c.peerAddressType, addr: c.peerAddress))
        case .peripheral: emit(.centralDisconnect(connHandle: c.handle, addrType: c.peerAddressType, addr: c.peerAddress))
        }
    }

    /// `gap_disconnect`: false when the handle is not connected.
    package func gapDisconnect(_ handle: UInt16) throws -> Bool {
        guard power == .on else { throw BLEError.notActive }
        guard connections[handle] != nil else { return false }
        // Unknown Connection Identifier: the link went down meanwhile (the peer left, or the
        // controller lost it); its Disconnection Complete is on the way, so this is not an error.
        send(HCI.Disconnect(handle: handle, reason: .remoteUserTerminated), tolerating: [.unknownConnectionIdentifier])
        return true
    }

    func handleConnectionUpdate(_ e: HCI.LEConnectionUpdateComplete) {
        if e.status.isSuccess, let c = connections[e.handle] {
            c.interval = e.interval
            c.latency = e.latency
            c.supervisionTimeout = e.supervisionTimeout
        }
        guard connections[e.handle] != nil else { return }
        emit(.connectionUpdate(connHandle: e.handle, connInterval: Int(e.interval), connLatency: Int(e.latency),
                               supervisionTimeout: Int(e.supervisionTimeout), status: Int(e.status.rawValue)))
    }

    /// Asks for new connection parameters: directly as central, through the controller's
    /// connection parameters request procedure as peripheral (Vol 6 Part B 5.1.7).
    func updateConnection(_ handle: UInt16, intervalMinUnits: UInt16, intervalMaxUnits: UInt16, latency: UInt16,
                          timeoutUnits: UInt16) throws {
        guard power == .on else { throw BLEError.notActive }
        guard connections[handle] != nil else { throw BLEError.notConnected }
        send(HCI.LEConnectionUpdate(handle: handle, connection: .init(
            intervalMin: intervalMinUnits, intervalMax: intervalMaxUnits, maxLatency: latency,
            supervisionTimeout: timeoutUnits)))
    }
}

extension HostStack {
    /// Every GATT procedure and indication of a closed link ends with status -107 (API.md).
    func attLinkClosed(_ conn: UInt16, _ link: ATTLink) {
        link.indicationTimer?.cancel()
        for case .emit(let event) in link.indications.linkLost() { emit(event) }
        clientDisconnected(conn, link)
    }
}
