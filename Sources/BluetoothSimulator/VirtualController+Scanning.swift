import BluetoothCore

// Legacy and extended scanning, and how a listening controller receives an advertising event
// (Core Vol 4 Part E 7.8.10-7.8.11, 7.8.64-7.8.65, 7.7.65.2, 7.7.65.13).

extension VirtualController {
    /// Most data one LE Extended Advertising Report can carry (255 - 2 - 24 header octets).
    static let extendedReportDataLimit = 229

    func updateListening() {
        core.setListening(self, scan != nil || initiator != nil)
    }

    // MARK: Legacy

    func leSetScanParameters(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetScanParameters.self, c) else { return }
        guard scan == nil else { return complete(c.opcode, status: .commandDisallowed) }
        guard isBoolean(c, at: 0), (0x0004...0x4000).contains(cmd.interval), (0x0004...0x4000).contains(cmd.window),
              cmd.window <= cmd.interval, cmd.ownAddressType <= 3, cmd.filterPolicy <= 3 else {
            return complete(c.opcode, status: .invalidParameters)
        }
        legacyScanParameters = LegacyScanParameters(active: cmd.active, interval: cmd.interval, window: cmd.window,
                                                    ownAddressType: cmd.ownAddressType, filterPolicy: cmd.filterPolicy)
        complete(c.opcode, status: .success)
    }

    func leSetScanEnable(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetScanEnable.self, c) else { return }
        guard isBoolean(c, at: 0), isBoolean(c, at: 1) else { return complete(c.opcode, status: .invalidParameters) }
        if cmd.enable {
            if let s = scan {
                s.filterDuplicates = cmd.filterDuplicates ? 1 : 0
                return complete(c.opcode, status: .success)
            }
            let p = legacyScanParameters
            guard let air = airAddress(ownAddressType: p.ownAddressType) else {
                return complete(c.opcode, status: .invalidParameters)
            }
            scan = ScanState(extended: false, active: p.active, interval: UInt64(p.interval) * 625_000,
                             window: UInt64(p.window) * 625_000, start: core.now, filterPolicy: p.filterPolicy,
                             filterDuplicates: cmd.filterDuplicates ? 1 : 0, airAddress: air.0, airAddressType: air.1)
            updateListening()
        } else {
            stopScanning()
        }
        complete(c.opcode, status: .success)
    }

    func stopScanning() {
        scan?.cancelTimers()
        scan = nil
        updateListening()
    }

    // MARK: Extended

    func leSetExtendedScanParameters(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetExtendedScanParameters.self, c) else { return }
        guard scan == nil else { return complete(c.opcode, status: .commandDisallowed) }
        guard cmd.phys != 0, cmd.ownAddressType <= 3, cmd.filterPolicy <= 3 else {
            return complete(c.opcode, status: .invalidParameters)
        }
        // Only the LE 1M PHY (bit 0); Coded and reserved bits are not supported.
        guard cmd.phys == 0x01, let p = cmd.parameters.first else {
            return complete(c.opcode, status: .unsupportedFeature)
        }
        guard isBoolean(c, at: 3), p.interval >= 4, p.window >= 4, p.window <= p.interval else {
            return complete(c.opcode, status: .invalidParameters)
        }
        extendedScanParameters = ExtendedScanParameters(active: p.active, interval: p.interval, window: p.window,
                                                        ownAddressType: cmd.ownAddressType,
                                                        filterPolicy: cmd.filterPolicy)
        complete(c.opcode, status: .success)
    }

    func leSetExtendedScanEnable(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetExtendedScanEnable.self, c) else { return }
        guard isBoolean(c, at: 0), cmd.filterDuplicates <= 2 else {
            return complete(c.opcode, status: .invalidParameters)
        }
        guard cmd.enable else {
            stopScanning()
            return complete(c.opcode, status: .success)
        }
        if cmd.period != 0 {
            guard cmd.duration != 0, Int(cmd.duration) < Int(cmd.period) * 128 else {
                return complete(c.opcode, status: .invalidParameters)
            }
        }
        let p = extendedScanParameters
        guard let air = airAddress(ownAddressType: p.ownAddressType) else {
            return complete(c.opcode, status: .invalidParameters)
        }
        // Enabling again restarts duration, period and the duplicate filter.
        scan?.cancelTimers()
        let s = ScanState(extended: true, active: p.active, interval: UInt64(p.interval) * 625_000,
                          window: UInt64(p.window) * 625_000, start: core.now, filterPolicy: p.filterPolicy,
                          filterDuplicates: cmd.filterDuplicates, airAddress: air.0, airAddressType: air.1)
        scan = s
        updateListening()
        complete(c.opcode, status: .success)
        if cmd.duration != 0 {
            scheduleScanPeriod(s, duration: UInt64(cmd.duration) * 10_000_000,
                               period: UInt64(cmd.period) * 1_280_000_000)
        }
    }

    /// Ends the scan (period 0: LE Scan Timeout) or pauses it until the next period.
    private func scheduleScanPeriod(_ s: ScanState, duration: UInt64, period: UInt64) {
        s.durationTimer = core.scheduler.schedule(afterNanoseconds: duration) { [unowned self] in
            s.durationTimer = nil
            guard self.scan === s else { return }
            if period == 0 {
                self.stopScanning()
                self.emit(HCI.LEScanTimeout())
            } else {
                s.paused = true
            }
        }
        if period > 0 {
            s.periodTimer = core.scheduler.schedule(afterNanoseconds: period) { [unowned self] in
                s.periodTimer = nil
                guard self.scan === s else { return }
                s.paused = false
                if s.filterDuplicates == 2 { s.reported.removeAll() }
                self.scheduleScanPeriod(s, duration: duration, period: period)
            }
        }
    }

    // MARK: Reception

    /// An advertising event of `set` (on `advertiser`) reaches this controller at `time`.
    func receive(from advertiser: VirtualController, set: AdvertisingSet, at time: UInt64) {
        if let s = scan, s.listens(at: time) {
            scanReceive(from: advertiser, set: set, scan: s)
        }
        if let i = initiator, i.listens(at: time) {
            initiatorReceive(from: advertiser, set: set, initiator: i)
        }
    }

    private func duplicateKey(_ set: AdvertisingSet, scanResponse: Bool) -> UInt64 {
        set.airAddress.value | UInt64(set.airAddressType & 1) << 48 | (scanResponse ? 1 << 56 : 0)
    }

    /// False when duplicate filtering is on and this report was already given.
    private func firstReport(_ s: ScanState, _ key: UInt64) -> Bool {
        guard s.filterDuplicates != 0 else { return true }
        return s.reported.insert(key).inserted
    }

    private func scanReceive(from advertiser: VirtualController, set: AdvertisingSet, scan s: ScanState) {
        // Legacy scanning hears only legacy PDUs.
        guard s.extended || set.isLegacy else { return }
        // Directed PDUs are for their target only.
        if set.isDirected && (set.peerAddress != s.airAddress || set.peerAddressType != s.airAddressType) { return }
        if s.filterPolicy & 1 == 1 && !acceptListContains(type: set.airAddressType, address: set.airAddress) { return }
        let rssi = core.rssi(self, advertiser)
        let advKey = duplicateKey(set, scanResponse: false)
        if firstReport(s, advKey) {
            report(set, scanResponse: false, rssi: rssi, extended: s.extended)
        }
        // Active scanning: SCAN_REQ / SCAN_RSP for scannable PDUs, if the advertiser's filter
        // policy lets this scanner ask.
        guard s.active, set.isScannable else { return }
        if set.filterPolicy & 1 == 1 && !advertiser.acceptListContains(type: s.airAddressType, address: s.airAddress) {
            return
        }
        if firstReport(s, duplicateKey(set, scanResponse: true)) {
            report(set, scanResponse: true, rssi: rssi, extended: s.extended)
        }
    }

    private func report(_ set: AdvertisingSet, scanResponse: Bool, rssi: Int8, extended: Bool) {
        if !extended {
            guard leSubeventEnabled(0x02) else { return }
            let data = scanResponse ? set.scanResponseData : (set.isDirected ? [] : set.advertisingData)
            let r = HCI.LEAdvertisingReport.Report(eventType: scanResponse ? 4 : set.legacyReportType,
                                                   addressType: set.airAddressType, address: set.airAddress,
                                                   data: Array(data.prefix(Self.legacyDataLimit)), rssi: rssi)
            emit(HCI.LEAdvertisingReport(reports: [r]))
            return
        }
        guard leSubeventEnabled(0x0D) else { return }
        var type = set.extendedReportType
        if scanResponse { type |= 0x08 }
        let data: [UInt8]
        if scanResponse {
            data = set.scanResponseData
        } else if set.isLegacy ? set.isDirected : set.isScannable {
            data = [] // no data in ADV_DIRECT_IND, and a scannable extended PDU has none either
        } else {
            data = set.advertisingData
        }
        let legacy = set.isLegacy
        // Anonymous advertising omits the advertiser's address (type 0xFF, 7.7.65.13).
        let anonymous = set.properties.contains(.anonymous)
        let txPower: Int8 = set.properties.contains(.includeTxPower) ? set.txPower : 0x7F
        // Long data goes in several reports: 01 = more to come, 00 = complete.
        var offset = 0
        repeat {
            let end = min(offset + Self.extendedReportDataLimit, data.count)
            let more = end < data.count
            let status: UInt16 = more ? 0x20 : 0x00
            let r = HCI.LEExtendedAdvertisingReport.Report(
                eventType: HCI.LEExtendedAdvertisingReport.EventType(rawValue: type | status),
                addressType: anonymous ? 0xFF : set.airAddressType, address: anonymous ? .zero : set.airAddress,
                primaryPHY: 1,
                secondaryPHY: legacy ? 0 : set.secondaryPHY, sid: legacy ? 0xFF : set.sid, txPower: txPower, rssi: rssi,
                periodicInterval: 0, directAddressType: set.isDirected ? set.peerAddressType : 0,
                directAddress: set.isDirected ? set.peerAddress : .zero, data: Array(data[offset..<end]))
            emit(HCI.LEExtendedAdvertisingReport(reports: [r]))
            offset = end
        } while offset < data.count
    }

    private func initiatorReceive(from advertiser: VirtualController, set: AdvertisingSet, initiator i: InitiatorState) {
        guard set.isConnectable, i.extended || set.isLegacy else { return }
        if set.isDirected && (set.peerAddress != i.airAddress || set.peerAddressType != i.airAddressType) { return }
        if i.filterPolicy == 0 {
            guard set.airAddress == i.peerAddress, set.airAddressType == i.peerAddressType & 1 else { return }
        } else {
            guard acceptListContains(type: set.airAddressType, address: set.airAddress) else { return }
        }
        // The advertiser may accept connection requests only from its Filter Accept List.
        if set.filterPolicy >= 2 && !advertiser.acceptListContains(type: i.airAddressType, address: i.airAddress) {
            return
        }
        guard links.count < configuration.maxConnections,
              advertiser.links.count < advertiser.configuration.maxConnections else { return }
        establishConnection(peripheral: advertiser, set: set, initiator: i)
    }
}
