import BluetoothCore

/// A connection attempt as central, until LE Connection Complete.
struct PendingConnect {
    let addressType: AddressType
    let address: BluetoothAddress
    var timer: DeviceTimer?
    /// Set once LE Create Connection Cancel was sent (timeout or `gapConnectCancel`).
    var cancelling = false
}

extension HostStack {
    /// Default connection interval range, 30-50 ms as NimBLE's (Vol 3 Part C Appendix A).
    static let defaultConnIntervalUs = (min: 30_000, max: 50_000)

    /// `gap_connect`: the attempt ends in peripheralConnect, or in peripheralDisconnect with
    /// address type `.unknown` on timeout, cancel or failure.
    package func gapConnect(addrType: AddressType, addr: BluetoothAddress, scanDurationMs: Int, minIntervalUs: Int?,
                    maxIntervalUs: Int?) throws {
        guard power == .on else { throw BLEError.notActive }
        guard addrType != .unknown else { throw BLEError.invalidArgument("address type must be .public or .random") }
        if pendingConnect != nil { throw BLEError.alreadyInProgress }
        guard scanDurationMs >= 0 else { throw BLEError.invalidArgument("scan duration must be >= 0 ms") }
        let minUs = minIntervalUs ?? maxIntervalUs ?? Self.defaultConnIntervalUs.min
        let maxUs = maxIntervalUs ?? minIntervalUs.map { max($0, Self.defaultConnIntervalUs.max) } ?? Self.defaultConnIntervalUs.max
        let minUnits = minUs / 1250, maxUnits = maxUs / 1250
        guard (6...3200).contains(minUnits), (6...3200).contains(maxUnits) else {
            throw BLEError.invalidArgument("connection interval must be 7_500...4_000_000 µs")
        }
        guard minUnits <= maxUnits else {
            throw BLEError.invalidArgument("minimum connection interval is above the maximum")
        }
        // gap_connect stops a running scan first.
        if scanning { stopScan(raiseDone: true) }
        // Supervision timeout: at least 2.56 s and more than 2 x interval (Vol 6 Part B 4.5.2).
        let timeout = min(3200, max(256, maxUnits * 125 * 2 / 1000 + 1))
        let params = HCI.ConnectionParameters(intervalMin: UInt16(minUnits), intervalMax: UInt16(maxUnits),
                                              maxLatency: 0, supervisionTimeout: UInt16(timeout))
        pendingConnect = PendingConnect(addressType: addrType, address: addr)
        unwantedConnectTargets.remove(addr)
        let scan: UInt16 = 0x0010  // 10 ms interval = window: initiate continuously
        let onStatus: (Result<HCI.NoReturn, HCIError>) -> Void = { [weak self] r in
            guard let self, case .failure(let e) = r else { return }
            self.log.warning("connect to \(addr) refused: \(e)")
            self.connectFailed()
        }
        if controller.useExtended {
            send(HCI.LEExtendedCreateConnection(ownAddressType: ownAddressType, peerAddressType: addrType.rawValue,
                                                peerAddress: addr, parameters: [
                                                    .init(scanInterval: scan, scanWindow: scan, connection: params),
                                                ]), onStatus)
        } else {
            send(HCI.LECreateConnection(scanInterval: scan, scanWindow: scan, peerAddressType: addrType.rawValue,
                                        peerAddress: addr, ownAddressType: ownAddressType, connection: params), onStatus)
        }
        if scanDurationMs > 0 {
            pendingConnect?.timer = schedule(afterMilliseconds: scanDurationMs) { $0.cancelPendingConnect() }
        }
    }

    /// `gap_connect(None)`: cancels a pending attempt (a no-op when there is none).
    package func gapConnectCancel() throws {
        guard power == .on else { throw BLEError.notActive }
        cancelPendingConnect()
    }

    func cancelPendingConnect() {
        guard var pending = pendingConnect, !pending.cancelling else { return }
        pending.timer?.cancel()
        pending.cancelling = true
        let target = pending.address
        // Some controllers (Bumble's stock one) accept the cancel but never send the Connection
        // Complete it promises: give up on it after a while so the app is always told.
        pending.timer = schedule(afterMilliseconds: 1000) { host in
            guard let p = host.pendingConnect, p.cancelling, p.address == target else { return }
            host.log.warning("controller did not confirm the connection cancel; treating the attempt as ended")
            host.unwantedConnectTargets.insert(target)
            host.connectFailed()
        }
        pendingConnect = pending
        send(HCI.LECreateConnectionCancel()) { [weak self] r in
            // Command Disallowed: the connection completed meanwhile; its event decides.
            if case .failure(.status(let s, _)) = r, s != .commandDisallowed { self?.connectFailed() }
        }
    }

    func connectFailed() {
        guard let pending = pendingConnect else { return }
        pending.timer?.cancel()
        pendingConnect = nil
        emit(.peripheralDisconnect(connHandle: 0xFFFF, addrType: .unknown, addr: .zero))
    }
}
