import BluetoothCore

extension HostStack {
    /// `gap_advertise`: starts, restarts or (with nil) stops advertising.
    package func gapAdvertise(intervalUs: Int?, advData: [UInt8]?, respData: [UInt8]?, connectable: Bool) throws {
        // Stopping when not advertising is a no-op, also before active(true) (API.md).
        if intervalUs == nil && !advertising { return }
        guard power == .on else { throw BLEError.notActive }
        guard let intervalUs else {
            stopAdvertisingCommands(completion: nil)
            advertising = false
            return
        }
        // The interval rounds down to 0.625 ms units; legacy PDUs allow 20 ms ... 10.24 s.
        let units = intervalUs / 625
        guard (0x20...0x4000).contains(units) else {
            throw BLEError.invalidArgument("advertising interval \(intervalUs) µs is outside 20_000...10_240_000 µs")
        }
        let newAdv = advData ?? self.advData
        let newResp = respData ?? self.respData
        guard newAdv.count <= 31 else { throw BLEError.invalidArgument("advertising data is \(newAdv.count) bytes; at most 31") }
        guard newResp.count <= 31 else { throw BLEError.invalidArgument("scan response data is \(newResp.count) bytes; at most 31") }
        self.advData = newAdv
        self.respData = newResp
        if advertising { stopAdvertisingCommands(completion: nil) }
        advertising = true
        if controller.useExtended {
            // Legacy PDUs through advertising set 0 (Vol 4 Part E 7.8.53, Table 7.2). Non-connectable
            // advertising is ADV_SCAN_IND, as MicroPython's NimBLE port sends it.
            let props: HCI.AdvertisingEventProperties = connectable ? .legacyAdvInd : .legacyAdvScanInd
            send(HCI.LESetExtendedAdvertisingParameters(
                handle: 0, properties: props, intervalMin: UInt32(units), intervalMax: UInt32(units),
                ownAddressType: ownAddressType))
            if ownAddressType == 1, let random = staticRandomAddress {
                send(HCI.LESetAdvertisingSetRandomAddress(handle: 0, address: random))
            }
            send(HCI.LESetExtendedAdvertisingData(handle: 0, data: newAdv))
            send(HCI.LESetExtendedScanResponseData(handle: 0, data: newResp))
            send(HCI.LESetExtendedAdvertisingEnable(enable: true, sets: [.init(handle: 0)])) { [weak self] r in
                if case .failure = r { self?.advertising = false }
            }
        } else {
            send(HCI.LESetAdvertisingParameters(
                intervalMin: UInt16(units), intervalMax: UInt16(units),
                type: connectable ? .advInd : .advScanInd, ownAddressType: ownAddressType))
            send(HCI.LESetAdvertisingData(data: newAdv))
            send(HCI.LESetScanResponseData(data: newResp))
            send(HCI.LESetAdvertisingEnable(enable: true)) { [weak self] r in
                if case .failure = r { self?.advertising = false }
            }
        }
    }

    func stopAdvertisingCommands(completion: Completion?, bestEffort: Bool = false) {
        if controller.useExtended {
            send(HCI.LESetExtendedAdvertisingEnable(enable: false, sets: [.init(handle: 0)]), completion: completion, bestEffort: bestEffort)
        } else {
            send(HCI.LESetAdvertisingEnable(enable: false), completion: completion, bestEffort: bestEffort)
        }
    }
}
