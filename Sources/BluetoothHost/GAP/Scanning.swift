import BluetoothCore

/// Extended advertising data arrives in several reports; they are joined per advertiser and set.
struct ExtendedReportKey: Hashable {
    let address: BluetoothAddress
    let addressType: UInt8
    let sid: UInt8
}

extension HostStack {
    /// `gap_scan`: duration 0 scans forever, nil stops (raising scanDone).
    package func gapScan(durationMs: Int?, intervalUs: Int, windowUs: Int, active: Bool) throws {
        guard power == .on else { throw BLEError.notActive }
        guard let durationMs else {
            if scanning { stopScan(raiseDone: true) }
            return
        }
        if scanning { throw BLEError.alreadyInProgress }
        guard durationMs >= 0 else { throw BLEError.invalidArgument("scan duration must be >= 0 ms") }
        let interval = intervalUs / 625, window = windowUs / 625
        guard (4...0x4000).contains(interval), (4...0x4000).contains(window) else {
            throw BLEError.invalidArgument("scan interval and window must be 2_500...10_240_000 µs")
        }
        guard window <= interval else {
            throw BLEError.invalidArgument("scan window (\(windowUs) µs) is longer than the interval (\(intervalUs) µs)")
        }
        if pendingConnect != nil { throw BLEError.busy }
        scanning = true
        extendedFragments.removeAll()
        let fail: (Result<HCI.NoReturn, HCIError>) -> Void = { [weak self] r in
            if case .failure = r, let self, self.scanning {
                self.scanning = false
                self.scanTimer?.cancel()
                self.scanTimer = nil
                self.emit(.scanDone)
            }
        }
        if controller.useExtended {
            send(HCI.LESetExtendedScanParameters(ownAddressType: ownAddressType, parameters: [
                .init(active: active, interval: UInt16(interval), window: UInt16(window)),
            ]), fail)
            send(HCI.LESetExtendedScanEnable(enable: true), fail)
        } else {
            send(HCI.LESetScanParameters(active: active, interval: UInt16(interval), window: UInt16(window),
                                         ownAddressType: ownAddressType), fail)
            send(HCI.LESetScanEnable(enable: true), fail)
        }
        if durationMs > 0 {
            scanTimer = schedule(afterMilliseconds: durationMs) { host in
                guard host.scanning else { return }
                host.stopScan(raiseDone: true)
            }
        }
    }

    func stopScan(raiseDone: Bool) {
        guard scanning else { return }
        scanning = false
        scanTimer?.cancel()
        scanTimer = nil
        extendedFragments.removeAll()
        stopScanCommands(completion: nil)
        if raiseDone { emit(.scanDone) }
    }

    func stopScanCommands(completion: Completion?, bestEffort: Bool = false) {
        if controller.useExtended {
            send(HCI.LESetExtendedScanEnable(enable: false), completion: completion, bestEffort: bestEffort)
        } else {
            send(HCI.LESetScanEnable(enable: false), completion: completion, bestEffort: bestEffort)
        }
    }

    func handleAdvertisingReport(_ e: HCI.LEAdvertisingReport) {
        guard scanning else { return }
        for r in e.reports {
            let type = AdvType(rawValue: r.eventType) ?? .advInd
            emit(.scanResult(addrType: AddressType(hci: r.addressType), addr: r.address, advType: type,
                             rssi: Int(r.rssi), advData: r.data))
        }
    }

    func handleExtendedAdvertisingReport(_ e: HCI.LEExtendedAdvertisingReport) {
        guard scanning else { return }
        for r in e.reports {
            var data = r.data
            let key = ExtendedReportKey(address: r.address, addressType: r.addressType, sid: r.sid)
            if let head = extendedFragments.removeValue(forKey: key) { data = head + data }
            // 1650 bytes is the most one advertiser can send (Vol 4 Part E 7.8.57); a controller
            // that sends more gets its data cut there, and the log says so.
            if data.count > 1650 {
                log.warning("extended advertising data from \(r.address) exceeds 1650 bytes; cut")
                data.removeSubrange(1650...)
            }
            if r.eventType.dataStatus == 0b01 {
                extendedFragments[key] = data  // more to come
                continue
            }
            // Complete, or truncated by the controller: report what arrived.
            let type = AdvType(rawValue: r.eventType.legacyType) ?? .advInd
            emit(.scanResult(addrType: AddressType(hci: r.addressType), addr: r.address, advType: type,
                             rssi: Int(r.rssi), advData: data))
        }
    }
}
