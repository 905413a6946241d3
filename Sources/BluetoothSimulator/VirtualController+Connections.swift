import BluetoothCore

// Connection creation, parameters, disconnection, remote information, encryption and data length
// (Core Vol 4 Part E 7.1.6, 7.8.12-7.8.13, 7.8.18, 7.8.21, 7.8.24-7.8.26, 7.8.31-7.8.35, 7.8.66).

extension VirtualController {
    static let maxHandle: UInt16 = 0x0EFF

    /// Connection parameter ranges of Core Vol 4 Part E 7.8.12 (units: 1.25 ms, events, 10 ms).
    static func validConnectionParameters(_ p: HCI.ConnectionParameters) -> Bool {
        validConnectionParameters(intervalMin: p.intervalMin, intervalMax: p.intervalMax, latency: p.maxLatency,
                                  timeout: p.supervisionTimeout) && p.minCELength <= p.maxCELength
    }

    static func validConnectionParameters(intervalMin: UInt16, intervalMax: UInt16, latency: UInt16,
                                          timeout: UInt16) -> Bool {
        guard (6...3200).contains(intervalMin), (6...3200).contains(intervalMax), intervalMin <= intervalMax,
              latency <= 499, (10...3200).contains(timeout) else { return false }
        // Supervision timeout (ms) > (1 + latency) * interval (ms) * 2, in integer units.
        return Int(timeout) * 4 > (1 + Int(latency)) * Int(intervalMax)
    }

    /// A free connection handle in 0x0001...0x0EFF, or nil when all are taken.
    func allocateHandle() -> UInt16? {
        guard links.count < Int(Self.maxHandle) else { return nil }
        var h = lastHandle
        for _ in 0..<Int(Self.maxHandle) {
            h = h >= Self.maxHandle ? 1 : h + 1
            if links[h] == nil {
                lastHandle = h
                return h
            }
        }
        return nil
    }

    // MARK: Creating connections

    func leCreateConnection(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LECreateConnection.self, c) else { return }
        guard initiator == nil else { return commandStatus(c.opcode, .commandDisallowed) }
        guard (0x0004...0x4000).contains(cmd.scanInterval), (0x0004...0x4000).contains(cmd.scanWindow),
              cmd.scanWindow <= cmd.scanInterval, cmd.filterPolicy <= 1, cmd.peerAddressType <= 3,
              cmd.ownAddressType <= 3, Self.validConnectionParameters(cmd.connection),
              let air = airAddress(ownAddressType: cmd.ownAddressType) else {
            return commandStatus(c.opcode, .invalidParameters)
        }
        startInitiating(c.opcode, extended: false, scanInterval: cmd.scanInterval, scanWindow: cmd.scanWindow,
                        filterPolicy: cmd.filterPolicy, peerAddressType: cmd.peerAddressType,
                        peerAddress: cmd.peerAddress, air: air, connection: cmd.connection)
    }

    func leExtendedCreateConnection(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LEExtendedCreateConnection.self, c) else { return }
        guard initiator == nil else { return commandStatus(c.opcode, .commandDisallowed) }
        guard cmd.phys != 0, cmd.phys & ~0x07 == 0 else { return commandStatus(c.opcode, .invalidParameters) }
        // Only the LE 1M PHY is on this radio.
        guard cmd.phys == 0x01, let p = cmd.parameters.first else {
            return commandStatus(c.opcode, .unsupportedFeature)
        }
        guard cmd.filterPolicy <= 1, cmd.peerAddressType <= 3, cmd.ownAddressType <= 3,
              p.scanInterval >= 4, p.scanWindow >= 4, p.scanWindow <= p.scanInterval,
              Self.validConnectionParameters(p.connection),
              let air = airAddress(ownAddressType: cmd.ownAddressType) else {
            return commandStatus(c.opcode, .invalidParameters)
        }
        startInitiating(c.opcode, extended: true, scanInterval: p.scanInterval, scanWindow: p.scanWindow,
                        filterPolicy: cmd.filterPolicy, peerAddressType: cmd.peerAddressType,
                        peerAddress: cmd.peerAddress, air: air, connection: p.connection)
    }

    private func startInitiating(_ opcode: HCIOpcode, extended: Bool, scanInterval: UInt16, scanWindow: UInt16,
                                 filterPolicy: UInt8, peerAddressType: UInt8, peerAddress: BluetoothAddress,
                                 air: (BluetoothAddress, UInt8), connection: HCI.ConnectionParameters) {
        if filterPolicy == 0, links.values.contains(where: { link in
            let peerAddr = link.isCentral(self) ? link.peripheralAddress : link.centralAddress
            let peerType = link.isCentral(self) ? link.peripheralAddressType : link.centralAddressType
            return peerAddr == peerAddress && peerType == peerAddressType & 1
        }) {
            return commandStatus(opcode, .connectionAlreadyExists)
        }
        guard links.count < configuration.maxConnections else {
            return commandStatus(opcode, .connectionLimitExceeded)
        }
        commandStatus(opcode, .success)
        initiator = InitiatorState(extended: extended, interval: UInt64(scanInterval) * 625_000,
                                   window: UInt64(scanWindow) * 625_000, start: core.now, filterPolicy: filterPolicy,
                                   peerAddressType: peerAddressType, peerAddress: peerAddress, airAddress: air.0,
                                   airAddressType: air.1, connection: connection)
        updateListening()
    }

    func cancelInitiator() {
        initiator = nil
        updateListening()
    }

    func leCreateConnectionCancel(_ c: HCI.CommandPacket) {
        guard let i = initiator else { return complete(c.opcode, status: .commandDisallowed) }
        cancelInitiator()
        complete(c.opcode, status: .success)
        emitConnectionComplete(status: .unknownConnectionIdentifier, handle: 0, role: 0,
                               peerAddressType: i.peerAddressType, peerAddress: i.peerAddress, interval: 0,
                               latency: 0, supervisionTimeout: 0)
    }

    /// The initiator (self) heard a connectable advertising event of `set` from `peripheral`:
    /// CONNECT_IND goes out and both sides are connected.
    func establishConnection(peripheral: VirtualController, set: AdvertisingSet, initiator i: InitiatorState) {
        guard let ch = allocateHandle(), let ph = peripheral.allocateHandle() else { return }
        let p = i.connection
        let link = Link(central: self, peripheral: peripheral, centralHandle: ch, peripheralHandle: ph,
                        centralAddress: i.airAddress, centralAddressType: i.airAddressType,
                        peripheralAddress: set.airAddress, peripheralAddressType: set.airAddressType,
                        interval: p.intervalMin, latency: p.maxLatency, supervisionTimeout: p.supervisionTimeout)
        links[ch] = link
        peripheral.links[ph] = link
        cancelInitiator()
        peripheral.stopAdvertising(set)
        emitConnectionComplete(status: .success, handle: ch, role: 0, peerAddressType: set.airAddressType,
                               peerAddress: set.airAddress, interval: link.interval, latency: link.latency,
                               supervisionTimeout: link.supervisionTimeout)
        peripheral.emitConnectionComplete(status: .success, handle: ph, role: 1, peerAddressType: i.airAddressType,
                                          peerAddress: i.airAddress, interval: link.interval, latency: link.latency,
                                          supervisionTimeout: link.supervisionTimeout)
        if set !== peripheral.legacySet {
            peripheral.emit(HCI.LEAdvertisingSetTerminated(status: .success, advertisingHandle: set.handle,
                                                           connectionHandle: ph,
                                                           completedEvents: UInt8(clamping: set.completedEvents)))
        }
        // Suggested default data lengths are negotiated right after connecting.
        if suggestedMaxTxOctets != 27 || suggestedMaxTxTime != 328 {
            changeDataLength(link, from: self, octets: suggestedMaxTxOctets, time: suggestedMaxTxTime)
        }
        if peripheral.suggestedMaxTxOctets != 27 || peripheral.suggestedMaxTxTime != 328 {
            changeDataLength(link, from: peripheral, octets: peripheral.suggestedMaxTxOctets,
                             time: peripheral.suggestedMaxTxTime)
        }
    }

    // MARK: Ending connections

    static let validDisconnectReasons: Set<UInt8> = [0x05, 0x13, 0x14, 0x15, 0x1A, 0x29, 0x3B]

    func disconnect(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.Disconnect.self, c) else { return }
        guard let link = links[cmd.handle & 0x0FFF] else {
            return commandStatus(c.opcode, .unknownConnectionIdentifier)
        }
        guard Self.validDisconnectReasons.contains(cmd.reason.rawValue) else {
            return commandStatus(c.opcode, .invalidParameters)
        }
        commandStatus(c.opcode, .success)
        terminate(link, localReason: .localHostTerminated, peerReason: cmd.reason)
    }

    /// Ends `link`: this side's host hears `localReason`, the peer's host `peerReason`.
    func terminate(_ link: Link, localReason: HCIStatus, peerReason: HCIStatus) {
        let peer = link.peer(of: self)
        dropLink(link)
        emit(HCI.DisconnectionComplete(status: .success, handle: link.handle(of: self), reason: localReason))
        peer?.linkLost(link, reason: peerReason)
    }

    /// The other side of `link` is gone: this side drops it and tells its host.
    func linkLost(_ link: Link, reason: HCIStatus) {
        guard links[link.handle(of: self)] === link else { return }
        dropLink(link)
        emit(HCI.DisconnectionComplete(status: .success, handle: link.handle(of: self), reason: reason))
    }

    /// Forgets `link` on this side; its outstanding ACL buffers are freed without a Number Of
    /// Completed Packets (Core Vol 4 Part E 4.3).
    private func dropLink(_ link: Link) {
        let h = link.handle(of: self)
        links[h] = nil
        if let n = completedPackets.removeValue(forKey: h) {
            aclBuffersInUse = max(0, aclBuffersInUse - Int(n))
        }
        // This side's packets still on the air are flushed with their buffers.
        aclBuffersInUse = max(0, aclBuffersInUse - link.airCount(from: self))
        if link.central === self { link.fromCentral.clear() } else { link.fromPeripheral.clear() }
    }

    // MARK: Connection parameters

    func leConnectionUpdate(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LEConnectionUpdate.self, c) else { return }
        guard let link = links[cmd.handle & 0x0FFF] else {
            return commandStatus(c.opcode, .unknownConnectionIdentifier)
        }
        guard Self.validConnectionParameters(cmd.connection) else {
            return commandStatus(c.opcode, .invalidParameters)
        }
        guard link.pendingParameterRequest == nil else { return commandStatus(c.opcode, .commandDisallowed) }
        commandStatus(c.opcode, .success)
        let p = cmd.connection
        if link.isCentral(self) || !link.central.leSubeventEnabled(0x06) {
            // The central decides; a peripheral's request is accepted by a central whose host does not
            // want to be asked.
            applyParameters(link, interval: p.intervalMin, latency: p.maxLatency, timeout: p.supervisionTimeout)
        } else {
            // Connection Parameters Request procedure: the central's host answers.
            link.pendingParameterRequest = p
            link.central.emit(HCI.LERemoteConnectionParameterRequest(
                handle: link.centralHandle, intervalMin: p.intervalMin, intervalMax: p.intervalMax,
                maxLatency: p.maxLatency, supervisionTimeout: p.supervisionTimeout))
        }
    }

    private func applyParameters(_ link: Link, interval: UInt16, latency: UInt16, timeout: UInt16) {
        link.interval = interval
        link.latency = latency
        link.supervisionTimeout = timeout
        for side in [link.central, link.peripheral] {
            side.emit(HCI.LEConnectionUpdateComplete(status: .success, handle: link.handle(of: side),
                                                     interval: interval, latency: latency,
                                                     supervisionTimeout: timeout))
        }
    }

    func leRemoteConnectionParameterRequestReply(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LERemoteConnectionParameterRequestReply.self, c) else { return }
        let h = cmd.handle & 0x0FFF
        guard let link = links[h] else { return complete(c.opcode, status: .unknownConnectionIdentifier, handle: h) }
        guard link.isCentral(self), link.pendingParameterRequest != nil else {
            return complete(c.opcode, status: .commandDisallowed, handle: h)
        }
        guard Self.validConnectionParameters(intervalMin: cmd.intervalMin, intervalMax: cmd.intervalMax,
                                             latency: cmd.maxLatency, timeout: cmd.supervisionTimeout),
              cmd.minCELength <= cmd.maxCELength else {
            return complete(c.opcode, status: .invalidParameters, handle: h)
        }
        link.pendingParameterRequest = nil
        complete(c.opcode, status: .success, handle: h)
        applyParameters(link, interval: cmd.intervalMin, latency: cmd.maxLatency, timeout: cmd.supervisionTimeout)
    }

    func leRemoteConnectionParameterRequestNegativeReply(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LERemoteConnectionParameterRequestNegativeReply.self, c) else { return }
        let h = cmd.handle & 0x0FFF
        guard let link = links[h] else { return complete(c.opcode, status: .unknownConnectionIdentifier, handle: h) }
        guard link.isCentral(self), link.pendingParameterRequest != nil else {
            return complete(c.opcode, status: .commandDisallowed, handle: h)
        }
        link.pendingParameterRequest = nil
        complete(c.opcode, status: .success, handle: h)
        // The peripheral's host learns its request was rejected, with the central host's reason.
        let reason = cmd.reason.isSuccess ? HCIStatus.unacceptableConnectionParameters : cmd.reason
        link.peripheral.emit(HCI.LEConnectionUpdateComplete(status: reason, handle: link.peripheralHandle,
                                                            interval: link.interval, latency: link.latency,
                                                            supervisionTimeout: link.supervisionTimeout))
    }

    // MARK: Link information

    func readRSSI(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.ReadRSSI.self, c) else { return }
        let h = cmd.handle & 0x0FFF
        guard let link = links[h], let peer = link.peer(of: self) else {
            var w = ByteWriter(capacity: 4)
            w.u8(HCIStatus.unknownConnectionIdentifier.rawValue)
            w.u16(h)
            w.i8(127) // RSSI not available
            return complete(c.opcode, w.bytes)
        }
        complete(c.opcode, HCI.ReadRSSI.Return(handle: h, rssi: core.rssi(self, peer)))
    }

    func leReadRemoteFeatures(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LEReadRemoteFeatures.self, c) else { return }
        let h = cmd.handle & 0x0FFF
        guard let link = links[h], let peer = link.peer(of: self) else {
            return commandStatus(c.opcode, .unknownConnectionIdentifier)
        }
        commandStatus(c.opcode, .success)
        emit(HCI.LEReadRemoteFeaturesComplete(status: .success, handle: h, features: peer.leFeatures))
    }

    func readRemoteVersion(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.ReadRemoteVersionInformation.self, c) else { return }
        let h = cmd.handle & 0x0FFF
        guard let link = links[h], let peer = link.peer(of: self) else {
            return commandStatus(c.opcode, .unknownConnectionIdentifier)
        }
        commandStatus(c.opcode, .success)
        emit(HCI.ReadRemoteVersionInformationComplete(
            status: .success, handle: h, version: peer.configuration.lmpVersion,
            manufacturer: peer.configuration.manufacturer, subversion: peer.configuration.lmpSubversion))
    }

    // MARK: Encryption

    func leEnableEncryption(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LEEnableEncryption.self, c) else { return }
        let h = cmd.handle & 0x0FFF
        guard let link = links[h] else { return commandStatus(c.opcode, .unknownConnectionIdentifier) }
        guard link.isCentral(self), link.pendingEncryption == nil else {
            return commandStatus(c.opcode, .commandDisallowed)
        }
        commandStatus(c.opcode, .success)
        let refresh = link.encrypted
        let peripheral = link.peripheral
        if peripheral.leSubeventEnabled(0x05) {
            link.pendingEncryption = Link.PendingEncryption(ltk: cmd.ltk, refresh: refresh)
            peripheral.emit(HCI.LELongTermKeyRequest(handle: link.peripheralHandle, random: cmd.random,
                                                         ediv: cmd.ediv))
        } else {
            // The peripheral's host cannot be asked: no key.
            encryptionRejected(link, refresh: refresh)
        }
    }

    func leLongTermKeyRequestReply(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LELongTermKeyRequestReply.self, c) else { return }
        let h = cmd.handle & 0x0FFF
        guard let link = links[h] else { return complete(c.opcode, status: .unknownConnectionIdentifier, handle: h) }
        guard !link.isCentral(self), let pending = link.pendingEncryption else {
            return complete(c.opcode, status: .commandDisallowed, handle: h)
        }
        link.pendingEncryption = nil
        complete(c.opcode, status: .success, handle: h)
        guard pending.ltk == cmd.ltk else {
            // Different keys: the central's LL_START_ENC_RSP fails its MIC check.
            link.central.terminate(link, localReason: .micFailure, peerReason: .micFailure)
            return
        }
        link.encrypted = true
        for side in [link.central, link.peripheral] {
            if pending.refresh {
                side.emit(HCI.EncryptionKeyRefreshComplete(status: .success, handle: link.handle(of: side)))
            } else {
                side.emit(HCI.EncryptionChange(status: .success, handle: link.handle(of: side), enabled: 0x01))
            }
        }
    }

    func leLongTermKeyRequestNegativeReply(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LELongTermKeyRequestNegativeReply.self, c) else { return }
        let h = cmd.handle & 0x0FFF
        guard let link = links[h] else { return complete(c.opcode, status: .unknownConnectionIdentifier, handle: h) }
        guard !link.isCentral(self), let pending = link.pendingEncryption else {
            return complete(c.opcode, status: .commandDisallowed, handle: h)
        }
        link.pendingEncryption = nil
        complete(c.opcode, status: .success, handle: h)
        encryptionRejected(link, refresh: pending.refresh)
    }

    /// The peripheral has no key: the central's host gets PIN or Key Missing. A refresh cannot fall
    /// back to an unencrypted link, so the link ends.
    private func encryptionRejected(_ link: Link, refresh: Bool) {
        if refresh {
            link.central.terminate(link, localReason: .pinOrKeyMissing, peerReason: .pinOrKeyMissing)
        } else {
            link.central.emit(HCI.EncryptionChange(status: .pinOrKeyMissing, handle: link.centralHandle, enabled: 0))
        }
    }

    // MARK: Data length

    static let maxDataOctets: UInt16 = 251
    static let maxDataTime: UInt16 = 2120 // 251 octets on the LE 1M PHY

    private static func validDataLength(octets: UInt16, time: UInt16) -> Bool {
        (0x001B...0x00FB).contains(octets) && (0x0148...0x4290).contains(time)
    }

    func leSetDataLength(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetDataLength.self, c) else { return }
        let h = cmd.handle & 0x0FFF
        guard let link = links[h] else { return complete(c.opcode, status: .unknownConnectionIdentifier, handle: h) }
        guard Self.validDataLength(octets: cmd.txOctets, time: cmd.txTime) else {
            return complete(c.opcode, status: .invalidParameters, handle: h)
        }
        complete(c.opcode, status: .success, handle: h)
        changeDataLength(link, from: self, octets: cmd.txOctets, time: cmd.txTime)
    }

    /// `side` wants to send up to `octets`/`time`; both hosts hear of a change.
    func changeDataLength(_ link: Link, from side: VirtualController, octets: UInt16, time: UInt16) {
        let o = min(octets, Self.maxDataOctets)
        let t = min(time, Self.maxDataTime)
        let central = link.isCentral(side)
        let old = central ? (link.maxTxOctets, link.maxTxTime) : (link.maxRxOctets, link.maxRxTime)
        guard old != (o, t) else { return }
        // maxTx/maxRx are from the central's point of view.
        if central {
            link.maxTxOctets = o
            link.maxTxTime = t
        } else {
            link.maxRxOctets = o
            link.maxRxTime = t
        }
        link.central.emit(HCI.LEDataLengthChange(handle: link.centralHandle, maxTxOctets: link.maxTxOctets,
                                                     maxTxTime: link.maxTxTime, maxRxOctets: link.maxRxOctets,
                                                     maxRxTime: link.maxRxTime))
        link.peripheral.emit(HCI.LEDataLengthChange(handle: link.peripheralHandle, maxTxOctets: link.maxRxOctets,
                                                        maxTxTime: link.maxRxTime, maxRxOctets: link.maxTxOctets,
                                                        maxRxTime: link.maxTxTime))
    }

    func leReadSuggestedDefaultDataLength(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.LEReadSuggestedDefaultDataLength.Return(maxTxOctets: suggestedMaxTxOctets,
                                                                           maxTxTime: suggestedMaxTxTime))
    }

    func leWriteSuggestedDefaultDataLength(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LEWriteSuggestedDefaultDataLength.self, c) else { return }
        guard Self.validDataLength(octets: cmd.maxTxOctets, time: cmd.maxTxTime) else {
            return complete(c.opcode, status: .invalidParameters)
        }
        suggestedMaxTxOctets = cmd.maxTxOctets
        suggestedMaxTxTime = cmd.maxTxTime
        complete(c.opcode, status: .success)
    }

    func leReadMaximumDataLength(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.LEReadMaximumDataLength.Return(maxTxOctets: Self.maxDataOctets,
                                                                  maxTxTime: Self.maxDataTime,
                                                                  maxRxOctets: Self.maxDataOctets,
                                                                  maxRxTime: Self.maxDataTime))
    }
}
