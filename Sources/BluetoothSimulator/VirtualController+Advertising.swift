import BluetoothCore

// Legacy and extended advertising (Core Vol 4 Part E 7.8.5-7.8.9, 7.8.52-7.8.60; Vol 6 Part B 4.4.2).

extension VirtualController {
    static let highDutyEventSpacing: UInt64 = 3_750_000      // ≤ 3.75 ms between events
    static let highDutyDuration: UInt64 = 1_280_000_000      // 1.28 s
    static let maxAdvDelay: UInt64 = 10_000_000              // advDelay 0...10 ms
    static let legacyDataLimit = 31

    /// Advertising_Event_Properties of a legacy Advertising_Type.
    static func legacyProperties(_ type: UInt8) -> HCI.AdvertisingEventProperties? {
        switch type {
        case 0x00: return .legacyAdvInd
        case 0x01: return HCI.AdvertisingEventProperties(rawValue: 0x1D) // ADV_DIRECT_IND, high duty
        case 0x02: return .legacyAdvScanInd
        case 0x03: return .legacyAdvNonconnInd
        case 0x04: return HCI.AdvertisingEventProperties(rawValue: 0x15) // ADV_DIRECT_IND, low duty
        default: return nil
        }
    }

    // MARK: Legacy commands

    func leSetAdvertisingParameters(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetAdvertisingParameters.self, c) else { return }
        guard !legacySet.enabled else { return complete(c.opcode, status: .commandDisallowed) }
        guard let properties = Self.legacyProperties(cmd.type) else {
            return complete(c.opcode, status: .invalidParameters)
        }
        let highDuty = cmd.type == 0x01
        let intervalsValid = cmd.intervalMin >= 0x0020 && cmd.intervalMax <= 0x4000 && cmd.intervalMin <= cmd.intervalMax
        guard highDuty || intervalsValid, cmd.ownAddressType <= 3, cmd.peerAddressType <= 1,
              cmd.channelMap & 0x07 != 0, cmd.channelMap <= 0x07, cmd.filterPolicy <= 3 else {
            return complete(c.opcode, status: .invalidParameters)
        }
        let set = legacySet
        set.properties = properties
        set.intervalMin = UInt32(cmd.intervalMin)
        set.intervalMax = UInt32(cmd.intervalMax)
        set.ownAddressType = cmd.ownAddressType
        set.peerAddressType = cmd.peerAddressType
        set.peerAddress = cmd.peerAddress
        set.channelMap = cmd.channelMap
        set.filterPolicy = cmd.filterPolicy
        complete(c.opcode, status: .success)
    }

    func leReadAdvertisingTxPower(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.LEReadAdvertisingPhysicalChannelTxPower.Return(txPower: 0))
    }

    func leSetAdvertisingData(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetAdvertisingData.self, c) else { return }
        legacySet.advertisingData = cmd.data
        complete(c.opcode, status: .success)
    }

    func leSetScanResponseData(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetScanResponseData.self, c) else { return }
        legacySet.scanResponseData = cmd.data
        complete(c.opcode, status: .success)
    }

    func leSetAdvertisingEnable(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetAdvertisingEnable.self, c) else { return }
        guard isBoolean(c, at: 0) else { return complete(c.opcode, status: .invalidParameters) }
        let set = legacySet
        if cmd.enable {
            if set.enabled { return complete(c.opcode, status: .success) }
            guard let air = airAddress(ownAddressType: set.ownAddressType) else {
                return complete(c.opcode, status: .invalidParameters)
            }
            guard !set.isConnectable || links.count < configuration.maxConnections else {
                return complete(c.opcode, status: .commandDisallowed)
            }
            startAdvertising(set, air: air, duration: set.isHighDutyDirected ? Self.highDutyDuration : 0, maxEvents: 0)
        } else {
            stopAdvertising(set)
        }
        complete(c.opcode, status: .success)
    }

    // MARK: Extended commands

    private func existingSet(_ c: HCI.CommandPacket, _ handle: UInt8) -> AdvertisingSet? {
        guard handle <= 0xEF else {
            complete(c.opcode, status: .invalidParameters)
            return nil
        }
        guard let set = extendedSets[handle] else {
            complete(c.opcode, status: .unknownAdvertisingIdentifier)
            return nil
        }
        return set
    }

    func leSetAdvertisingSetRandomAddress(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetAdvertisingSetRandomAddress.self, c) else { return }
        guard let set = existingSet(c, cmd.handle) else { return }
        guard !set.enabled else { return complete(c.opcode, status: .commandDisallowed) }
        set.randomAddress = cmd.address
        complete(c.opcode, status: .success)
    }

    /// Whether `p` is a valid Advertising_Event_Properties value this controller supports.
    private static func validExtendedProperties(_ p: HCI.AdvertisingEventProperties) -> Bool {
        if p.rawValue & ~0x7F != 0 { return false }
        if p.contains(.legacy) {
            // Table 7.2: only the five legacy PDU types.
            return [0x13, 0x15, 0x1D, 0x12, 0x10].contains(p.rawValue)
        }
        if p.contains(.connectable) && p.contains(.scannable) { return false }
        if p.contains(.highDutyDirected) { return false }
        if p.contains(.anonymous) && p.contains(.connectable) { return false }
        return true
    }

    func leSetExtendedAdvertisingParameters(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetExtendedAdvertisingParameters.self, c) else { return }
        guard cmd.handle <= 0xEF else { return complete(c.opcode, status: .invalidParameters) }
        let existing = extendedSets[cmd.handle]
        if let s = existing, s.enabled { return complete(c.opcode, status: .commandDisallowed) }
        let p = cmd.properties
        guard Self.validExtendedProperties(p) else { return complete(c.opcode, status: .invalidParameters) }
        let highDuty = p.contains(.legacy) && p.contains(.highDutyDirected)
        let intervalsValid = cmd.intervalMin >= 0x20 && cmd.intervalMin <= cmd.intervalMax
        guard highDuty || intervalsValid, cmd.channelMap & 0x07 != 0, cmd.channelMap <= 0x07,
              cmd.ownAddressType <= 3, cmd.peerAddressType <= 1, cmd.filterPolicy <= 3, cmd.sid <= 0x0F,
              cmd.primaryPHY == 1 || cmd.primaryPHY == 3, (1...3).contains(cmd.secondaryPHY) else {
            return complete(c.opcode, status: .invalidParameters)
        }
        if p.contains(.legacy) {
            guard cmd.primaryPHY == 1 else { return complete(c.opcode, status: .invalidParameters) }
            if let s = existing, s.advertisingData.count > Self.legacyDataLimit
                || s.scanResponseData.count > Self.legacyDataLimit {
                return complete(c.opcode, status: .invalidParameters)
            }
        } else {
            // Only the LE 1M PHY is on this radio.
            guard cmd.primaryPHY == 1, cmd.secondaryPHY == 1 else {
                return complete(c.opcode, status: .unsupportedFeature)
            }
        }
        guard existing != nil || extendedSets.count < Int(configuration.numberOfAdvertisingSets) else {
            return complete(c.opcode, status: .memoryCapacityExceeded)
        }
        let set = existing ?? AdvertisingSet(handle: cmd.handle)
        set.properties = p
        set.intervalMin = cmd.intervalMin
        set.intervalMax = cmd.intervalMax
        set.channelMap = cmd.channelMap
        set.ownAddressType = cmd.ownAddressType
        set.peerAddressType = cmd.peerAddressType
        set.peerAddress = cmd.peerAddress
        set.filterPolicy = cmd.filterPolicy
        set.txPower = cmd.txPower == 0x7F ? 0 : min(max(cmd.txPower, -20), 10)
        set.primaryPHY = cmd.primaryPHY
        set.secondaryPHY = cmd.secondaryPHY
        set.sid = cmd.sid
        extendedSets[cmd.handle] = set
        complete(c.opcode, HCI.LESetExtendedAdvertisingParameters.Return(selectedTxPower: set.txPower))
    }

    /// LE Set Extended Advertising Data and LE Set Extended Scan Response Data (same layout).
    func leSetExtendedAdvertisingData(_ c: HCI.CommandPacket, scanResponse: Bool) {
        guard let cmd = decode(HCI.LESetExtendedAdvertisingData.self, c) else { return }
        guard let set = existingSet(c, cmd.handle) else { return }
        let op = cmd.operation
        guard op <= 4, cmd.fragmentPreference <= 1, cmd.data.count <= 251 else {
            return complete(c.opcode, status: .invalidParameters)
        }
        if set.isLegacy {
            // Legacy PDUs take their data whole, in one command (7.8.54).
            guard op == 3, cmd.data.count <= Self.legacyDataLimit else {
                return complete(c.opcode, status: .invalidParameters)
            }
        }
        // Which PDUs carry this data at all.
        if scanResponse {
            guard set.isScannable || cmd.data.isEmpty else { return complete(c.opcode, status: .invalidParameters) }
        } else {
            let carriesData = !set.isDirected || !set.isLegacy
            guard (carriesData && !(set.isScannable && !set.isLegacy)) || cmd.data.isEmpty else {
                return complete(c.opcode, status: .invalidParameters)
            }
        }
        if set.enabled && op <= 2 { return complete(c.opcode, status: .commandDisallowed) }
        let limit = Int(configuration.maxAdvertisingDataLength)
        var fragments = scanResponse ? set.scanResponseFragments : set.advertisingFragments
        var finished: [UInt8]?
        switch op {
        case 0, 2: // intermediate, last
            guard var partial = fragments else { return complete(c.opcode, status: .commandDisallowed) }
            partial += cmd.data
            guard partial.count <= limit else {
                fragments = nil
                store(fragments, scanResponse, set)
                return complete(c.opcode, status: .memoryCapacityExceeded)
            }
            if op == 2 {
                finished = partial
                fragments = nil
            } else {
                fragments = partial
            }
        case 1: // first
            fragments = cmd.data
        case 3: // complete
            fragments = nil
            finished = cmd.data
        default: // 4: unchanged data, new DID
            guard cmd.data.isEmpty, set.enabled, !scanResponse else {
                return complete(c.opcode, status: .invalidParameters)
            }
        }
        store(fragments, scanResponse, set)
        if let data = finished {
            if scanResponse { set.scanResponseData = data } else { set.advertisingData = data }
        }
        complete(c.opcode, status: .success)
    }

    private func store(_ fragments: [UInt8]?, _ scanResponse: Bool, _ set: AdvertisingSet) {
        if scanResponse { set.scanResponseFragments = fragments } else { set.advertisingFragments = fragments }
    }

    func leSetExtendedAdvertisingEnable(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetExtendedAdvertisingEnable.self, c) else { return }
        guard isBoolean(c, at: 0) else { return complete(c.opcode, status: .invalidParameters) }
        if !cmd.enable && cmd.sets.isEmpty {
            for (_, set) in extendedSets { stopAdvertising(set) }
            return complete(c.opcode, status: .success)
        }
        guard !cmd.sets.isEmpty, Set(cmd.sets.map(\.handle)).count == cmd.sets.count else {
            return complete(c.opcode, status: .invalidParameters)
        }
        var plan: [(AdvertisingSet, HCI.LESetExtendedAdvertisingEnable.Set, (BluetoothAddress, UInt8))] = []
        for s in cmd.sets {
            guard s.handle <= 0xEF else { return complete(c.opcode, status: .invalidParameters) }
            guard let set = extendedSets[s.handle] else {
                return complete(c.opcode, status: .unknownAdvertisingIdentifier)
            }
            guard cmd.enable else { continue }
            guard let air = airAddress(ownAddressType: set.ownAddressType, setRandom: set.randomAddress) else {
                return complete(c.opcode, status: .invalidParameters)
            }
            if set.isHighDutyDirected {
                guard s.duration != 0, s.duration <= 128 else { return complete(c.opcode, status: .invalidParameters) }
            }
            if set.isScannable && !set.isLegacy && set.scanResponseData.isEmpty {
                return complete(c.opcode, status: .invalidParameters)
            }
            if set.isConnectable && !set.enabled && links.count >= configuration.maxConnections {
                return complete(c.opcode, status: .commandDisallowed)
            }
            plan.append((set, s, air))
        }
        if cmd.enable {
            for (set, s, air) in plan {
                startAdvertising(set, air: air, duration: UInt64(s.duration) * 10_000_000, maxEvents: Int(s.maxEvents))
            }
        } else {
            for s in cmd.sets { if let set = extendedSets[s.handle] { stopAdvertising(set) } }
        }
        complete(c.opcode, status: .success)
    }

    func leReadMaximumAdvertisingDataLength(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.LEReadMaximumAdvertisingDataLength.Return(
            maxLength: configuration.maxAdvertisingDataLength))
    }

    func leReadNumberOfSupportedAdvertisingSets(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.LEReadNumberOfSupportedAdvertisingSets.Return(
            count: configuration.numberOfAdvertisingSets))
    }

    func leRemoveAdvertisingSet(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LERemoveAdvertisingSet.self, c) else { return }
        guard let set = existingSet(c, cmd.handle) else { return }
        guard !set.enabled else { return complete(c.opcode, status: .commandDisallowed) }
        extendedSets[cmd.handle] = nil
        complete(c.opcode, status: .success)
    }

    func leClearAdvertisingSets(_ c: HCI.CommandPacket) {
        guard !extendedSets.values.contains(where: \.enabled) else {
            return complete(c.opcode, status: .commandDisallowed)
        }
        extendedSets.removeAll()
        complete(c.opcode, status: .success)
    }

    // MARK: Advertising events

    /// Starts (or restarts) advertising `set`: the first event after a random advDelay, then one
    /// every interval (plus advDelay), until disabled, connected, timed out or out of events.
    /// `duration` in nanoseconds, 0 = unlimited; `maxEvents` 0 = unlimited.
    func startAdvertising(_ set: AdvertisingSet, air: (BluetoothAddress, UInt8), duration: UInt64, maxEvents: Int) {
        let wasEnabled = set.enabled
        set.durationTimer?.cancel()
        set.durationTimer = nil
        set.enabled = true
        set.airAddress = air.0
        set.airAddressType = air.1
        set.completedEvents = 0
        set.maxEvents = maxEvents
        if !wasEnabled {
            let first = set.isHighDutyDirected ? 0 : core.rng.next() % (Self.maxAdvDelay + 1)
            set.eventTimer = core.scheduler.schedule(afterNanoseconds: first) { [unowned self] in
                self.advertisingEvent(set)
            }
        }
        if duration > 0 {
            set.durationTimer = core.scheduler.schedule(afterNanoseconds: duration) { [unowned self] in
                self.advertisingDurationElapsed(set)
            }
        }
    }

    func stopAdvertising(_ set: AdvertisingSet) {
        set.enabled = false
        set.eventTimer?.cancel()
        set.eventTimer = nil
        set.durationTimer?.cancel()
        set.durationTimer = nil
    }

    private func advertisingEvent(_ set: AdvertisingSet) {
        set.eventTimer = nil
        guard powered, set.enabled else { return }
        set.completedEvents += 1
        core.transmit(from: self, set: set, at: core.now)
        guard set.enabled else { return } // a connection was made
        if set.maxEvents > 0 && set.completedEvents >= set.maxEvents {
            stopAdvertising(set)
            emit(HCI.LEAdvertisingSetTerminated(status: HCIStatus(0x43), advertisingHandle: set.handle,
                                                connectionHandle: 0, completedEvents: completedEventCount(set)))
            return
        }
        let next: UInt64
        if set.isHighDutyDirected {
            next = Self.highDutyEventSpacing
        } else {
            next = UInt64(set.intervalMin) * 625_000 + core.rng.next() % (Self.maxAdvDelay + 1)
        }
        set.eventTimer = core.scheduler.schedule(afterNanoseconds: next) { [unowned self] in
            self.advertisingEvent(set)
        }
    }

    private func completedEventCount(_ set: AdvertisingSet) -> UInt8 {
        UInt8(clamping: set.completedEvents)
    }

    private func advertisingDurationElapsed(_ set: AdvertisingSet) {
        set.durationTimer = nil
        guard powered, set.enabled else { return }
        stopAdvertising(set)
        let isExtended = set !== legacySet
        if set.isHighDutyDirected {
            // No connection within the high duty cycle window (7.8.9, 7.8.56).
            emitConnectionComplete(status: .advertisingTimeout, handle: 0, role: 1,
                                   peerAddressType: set.peerAddressType, peerAddress: set.peerAddress,
                                   interval: 0, latency: 0, supervisionTimeout: 0)
        }
        if isExtended {
            emit(HCI.LEAdvertisingSetTerminated(status: .advertisingTimeout, advertisingHandle: set.handle,
                                                connectionHandle: 0, completedEvents: completedEventCount(set)))
        }
    }

    /// LE Enhanced Connection Complete when the host unmasked it, else LE Connection Complete.
    func emitConnectionComplete(status: HCIStatus, handle: UInt16, role: UInt8, peerAddressType: UInt8,
                                peerAddress: BluetoothAddress, interval: UInt16, latency: UInt16,
                                supervisionTimeout: UInt16) {
        if leSubeventEnabled(0x0A) {
            emit(HCI.LEEnhancedConnectionComplete(status: status, handle: handle, role: role,
                                                  peerAddressType: peerAddressType, peerAddress: peerAddress,
                                                  interval: interval, latency: latency,
                                                  supervisionTimeout: supervisionTimeout))
        } else {
            emit(HCI.LEConnectionComplete(status: status, handle: handle, role: role, peerAddressType: peerAddressType,
                                          peerAddress: peerAddress, interval: interval, latency: latency,
                                          supervisionTimeout: supervisionTimeout))
        }
    }
}
