import BluetoothCore
import BluetoothSimulator
import Testing

@Suite("Simulator: connections")
struct SimulatorConnectionTests {
    /// How many legacy advertising reports from `address` are among `events`.
    static func reports(from address: BluetoothAddress, in events: [HCIEvent]) -> Int {
        events.reduce(0) { n, e in
            guard case .leAdvertisingReport(let r) = e else { return n }
            return n + r.reports.filter { $0.address == address }.count
        }
    }

    @Test func connectGivesBothSidesTheirEvents() async throws {
        let radio = VirtualRadio()
        let central = try SimulatorHost(radio: radio)
        let peripheral = try SimulatorHost(radio: radio)
        try await central.initialize()
        try await peripheral.initialize()
        try await peripheral.advertise(.advInd, data: [0x02, 0x01, 0x06])
        try await central.connect(to: peripheral.address)
        let c = try await central.connectionComplete()
        let p = try await peripheral.connectionComplete()
        #expect(c.status == .success && p.status == .success)
        #expect(c.role == 0 && p.role == 1)
        #expect(c.peerAddress == peripheral.address && c.peerAddressType == 0)
        #expect(p.peerAddress == central.address && p.peerAddressType == 0)
        #expect((24...40).contains(c.interval) && c.interval == p.interval)
        #expect(c.latency == 0 && c.supervisionTimeout == 200 && p.supervisionTimeout == 200)
        #expect((1...0x0EFF).contains(c.handle) && (1...0x0EFF).contains(p.handle))
        #expect(central.controller.connectionCount == 1)
        // The advertiser stopped with the connection: while the central, now scanning, hears
        // another advertiser with the same interval 5 times, it hears nothing from the peripheral.
        let other = try SimulatorHost(radio: radio)
        try await other.initialize()
        try await other.advertise(.advNonconnInd)
        try await central.scan()
        for _ in 0..<5 { _ = try await central.report(from: other.address) }
        #expect(Self.reports(from: peripheral.address, in: central.allEvents) == 0)
        // Disabling the stopped advertiser is harmless, twice; enabling it again works: it is heard.
        try await peripheral.ok(HCI.LESetAdvertisingEnable(enable: false))
        try await peripheral.ok(HCI.LESetAdvertisingEnable(enable: false))
        try await peripheral.ok(HCI.LESetAdvertisingEnable(enable: true))
        _ = try await central.report(from: peripheral.address)
        try await peripheral.ok(HCI.LESetAdvertisingEnable(enable: false))
        try await central.ok(HCI.LESetScanEnable(enable: false, filterDuplicates: false))
        // RSSI of the link.
        radio.setRSSI(-61, between: central.address, and: peripheral.address)
        let r = try await central.command(HCI.ReadRSSI(handle: c.handle))
        var w = ByteWriter()
        w.u8(0)
        w.u16(c.handle)
        w.i8(-61)
        #expect(r == w.bytes)
        #expect(try await central.command(HCI.ReadRSSI(handle: 0x0123)).first == 0x02)
        // A second connection to the same device is refused.
        #expect(try await central.status(HCI.LECreateConnection(
            scanInterval: 0x10, scanWindow: 0x10, peerAddressType: 0, peerAddress: peripheral.address,
            ownAddressType: 0, connection: .init(intervalMin: 24, intervalMax: 40, supervisionTimeout: 200)))
            == .connectionAlreadyExists)
    }

    @Test func enhancedConnectionCompleteWhenUnmasked() async throws {
        let radio = VirtualRadio()
        let central = try SimulatorHost(radio: radio)
        let peripheral = try SimulatorHost(radio: radio)
        try await central.initialize(leMask: HCI.LESetEventMask.hostDefault | 1 << 9)
        try await peripheral.initialize()
        try await peripheral.advertise(.advInd)
        try await central.connect(to: peripheral.address)
        let e = try await central.event("enhanced connection complete") { e in
            if case .leEnhancedConnectionComplete = e { return true }
            return false
        }
        guard case .leEnhancedConnectionComplete(let c) = e else { return }
        #expect(c.role == 0 && c.peerAddress == peripheral.address && c.localResolvablePrivateAddress == .zero)
        _ = try await peripheral.connectionComplete()
        #expect(!central.allEvents.contains { e in
            if case .leConnectionComplete = e { return true }
            return false
        })
    }

    @Test func secondPendingCreateIsDisallowedAndCancelReportsUnknownConnection() async throws {
        let radio = VirtualRadio()
        let central = try SimulatorHost(radio: radio)
        try await central.initialize()
        let nobody = BluetoothAddress(value: 0x11_22_33_44_55_66)
        #expect(try await central.status(HCI.LECreateConnectionCancel()) == .commandDisallowed)
        try await central.connect(to: nobody)
        #expect(try await central.status(HCI.LECreateConnection(
            scanInterval: 0x10, scanWindow: 0x10, peerAddressType: 0, peerAddress: nobody, ownAddressType: 0,
            connection: .init(intervalMin: 24, intervalMax: 40, supervisionTimeout: 200))) == .commandDisallowed)
        try await central.ok(HCI.LECreateConnectionCancel())
        let c = try await central.connectionComplete()
        #expect(c.status == .unknownConnectionIdentifier)
        #expect(try await central.status(HCI.LECreateConnectionCancel()) == .commandDisallowed)
    }

    @Test func invalidConnectionParametersAreRejected() async throws {
        let central = try SimulatorHost(radio: VirtualRadio())
        try await central.initialize()
        let bad: [HCI.ConnectionParameters] = [
            .init(intervalMin: 5, intervalMax: 40, supervisionTimeout: 200),        // interval too short
            .init(intervalMin: 40, intervalMax: 24, supervisionTimeout: 200),       // min > max
            .init(intervalMin: 24, intervalMax: 3201, supervisionTimeout: 3200),    // interval too long
            .init(intervalMin: 24, intervalMax: 40, supervisionTimeout: 9),         // timeout too short
            .init(intervalMin: 80, intervalMax: 80, maxLatency: 4, supervisionTimeout: 100), // timeout too small
            .init(intervalMin: 24, intervalMax: 40, maxLatency: 500, supervisionTimeout: 3200),
        ]
        for p in bad {
            #expect(try await central.status(HCI.LECreateConnection(
                scanInterval: 0x10, scanWindow: 0x10, peerAddressType: 0, peerAddress: .zero, ownAddressType: 0,
                connection: p)) == .invalidParameters)
        }
        #expect(try await central.status(HCI.LECreateConnection(
            scanInterval: 0x10, scanWindow: 0x20, peerAddressType: 0, peerAddress: .zero, ownAddressType: 0,
            connection: .init(intervalMin: 24, intervalMax: 40, supervisionTimeout: 200))) == .invalidParameters)
    }

    @Test func highDutyDirectedAdvertisingTimesOut() async throws {
        let radio = VirtualRadio()
        let adv = try SimulatorHost(radio: radio)
        try await adv.initialize()
        let clock = ContinuousClock()
        let start = clock.now
        try await adv.advertise(.advDirectIndHighDuty, peer: BluetoothAddress(value: 0x12_34_56_78_9A_BC))
        let c = try await adv.connectionComplete(timeout: .seconds(5))
        let elapsed = clock.now - start
        #expect(c.status == .advertisingTimeout && c.role == 1)
        #expect(elapsed >= .milliseconds(1200), "timed out after \(elapsed)")
        // Advertising is off again.
        try await adv.ok(HCI.LESetAdvertisingParameters(intervalMin: 0x20, intervalMax: 0x20, type: .advInd,
                                                        ownAddressType: 0))
    }

    @Test func highDutyDirectedAdvertisingConnectsItsTarget() async throws {
        let radio = VirtualRadio()
        let central = try SimulatorHost(radio: radio)
        let adv = try SimulatorHost(radio: radio)
        try await central.initialize()
        try await adv.initialize()
        // The central initiates first, so the 1.28 s directed window cannot run out while a loaded
        // machine gets the test to its next step.
        try await central.connect(to: adv.address)
        try await adv.advertise(.advDirectIndHighDuty, peer: central.address)
        #expect(try await central.connectionComplete().status == .success)
        #expect(try await adv.connectionComplete().status == .success)
    }

    @Test func disconnectReasonsOnBothSides() async throws {
        let (central, peripheral, ch, ph) = try await connectedPair()
        #expect(try await central.status(HCI.Disconnect(handle: 0x0EEE)) == .unknownConnectionIdentifier)
        #expect(try await central.status(HCI.Disconnect(handle: ch, reason: HCIStatus(0x01))) == .invalidParameters)
        #expect(try await central.status(HCI.Disconnect(handle: ch, reason: .remoteUserTerminated)) == .success)
        let local = try await central.disconnectionComplete()
        let remote = try await peripheral.disconnectionComplete()
        #expect(local == HCI.DisconnectionComplete(handle: ch, reason: .localHostTerminated))
        #expect(remote == HCI.DisconnectionComplete(handle: ph, reason: .remoteUserTerminated))
        #expect(central.controller.connectionCount == 0 && peripheral.controller.connectionCount == 0)
    }

    @Test func peripheralCanDisconnectWithItsReason() async throws {
        let (central, peripheral, ch, ph) = try await connectedPair()
        try await peripheral.ok(HCI.Disconnect(handle: ph, reason: .remotePowerOff))
        #expect(try await central.disconnectionComplete() == HCI.DisconnectionComplete(handle: ch, reason: .remotePowerOff))
        #expect(try await peripheral.disconnectionComplete().reason == .localHostTerminated)
    }

    @Test func closingAControllerTimesOutItsPeers() async throws {
        let (central, peripheral, ch, _) = try await connectedPair()
        peripheral.controller.close()
        #expect(try await central.disconnectionComplete() == HCI.DisconnectionComplete(handle: ch,
                                                                                        reason: .connectionTimeout))
        #expect(peripheral.controller.radio.controllerCount == 1)
    }

    @Test func resetDropsLinksAndPeersTimeOut() async throws {
        let (central, peripheral, _, ph) = try await connectedPair()
        try await central.ok(HCI.Reset())
        #expect(try await peripheral.disconnectionComplete().handle == ph)
        #expect(!central.allEvents.contains { e in
            if case .disconnectionComplete = e { return true }
            return false
        })
    }

    @Test func maskedDisconnectionCompleteIsNotSent() async throws {
        let (central, peripheral, ch, _) = try await connectedPair()
        try await central.ok(HCI.SetEventMask(mask: 1 << 61))
        try await central.ok(HCI.Disconnect(handle: ch))
        _ = try await peripheral.disconnectionComplete()
        try await central.ok(HCI.Reset()) // a later command: everything before it has been delivered
        #expect(!central.allEvents.contains { e in
            if case .disconnectionComplete = e { return true }
            return false
        })
    }

    func updateComplete(_ host: SimulatorHost) async throws -> HCI.LEConnectionUpdateComplete {
        let e = try await host.event("connection update complete") { e in
            if case .leConnectionUpdateComplete = e { return true }
            return false
        }
        guard case .leConnectionUpdateComplete(let u) = e else { throw SimulatorTimeout(what: "update") }
        return u
    }

    @Test func connectionUpdateFromTheCentral() async throws {
        let (central, peripheral, ch, ph) = try await connectedPair()
        let update = HCI.LEConnectionUpdate(handle: ch, connection: .init(intervalMin: 80, intervalMax: 100,
                                                                           maxLatency: 2, supervisionTimeout: 400))
        #expect(try await central.status(update) == .success)
        let c = try await updateComplete(central)
        let p = try await updateComplete(peripheral)
        #expect(c == HCI.LEConnectionUpdateComplete(status: .success, handle: ch, interval: c.interval, latency: 2,
                                                    supervisionTimeout: 400))
        #expect((80...100).contains(c.interval))
        #expect(p.handle == ph && p.interval == c.interval && p.latency == 2 && p.supervisionTimeout == 400)
        // Out of range, unknown handle.
        #expect(try await central.status(HCI.LEConnectionUpdate(handle: ch, connection: .init(
            intervalMin: 6, intervalMax: 6, maxLatency: 0, supervisionTimeout: 1))) == .invalidParameters)
        #expect(try await central.status(HCI.LEConnectionUpdate(handle: 0x0100, connection: .init(
            intervalMin: 6, intervalMax: 6, maxLatency: 0, supervisionTimeout: 100))) == .unknownConnectionIdentifier)
    }

    @Test func connectionUpdateFromThePeripheral() async throws {
        let (central, peripheral, _, ph) = try await connectedPair()
        // The central's host does not take LE Remote Connection Parameter Request: its controller accepts.
        #expect(try await peripheral.status(HCI.LEConnectionUpdate(handle: ph, connection: .init(
            intervalMin: 12, intervalMax: 12, maxLatency: 0, supervisionTimeout: 300))) == .success)
        #expect(try await updateComplete(peripheral).interval == 12)
        #expect(try await updateComplete(central).interval == 12)
    }

    @Test func peripheralRequestAnsweredByTheCentralHost() async throws {
        let radio = VirtualRadio()
        let central = try SimulatorHost(radio: radio)
        let peripheral = try SimulatorHost(radio: radio)
        try await central.initialize(leMask: HCI.LESetEventMask.hostDefault | 1 << 5)
        try await peripheral.initialize()
        try await peripheral.advertise(.advInd)
        try await central.connect(to: peripheral.address)
        let ch = try await central.connectionComplete().handle
        let ph = try await peripheral.connectionComplete().handle
        try await peripheral.ok(HCI.LEConnectionUpdate(handle: ph, connection: .init(
            intervalMin: 16, intervalMax: 24, maxLatency: 1, supervisionTimeout: 500)))
        let req = try await central.next("parameter request") { $0.type == .event && $0.bytes.count > 2 && $0.bytes[2] == 0x06 }
        var r = ByteReader(Array(req.bytes.dropFirst(3)))
        let request = try HCI.LERemoteConnectionParameterRequest(parameters: &r)
        #expect(request == .init(handle: ch, intervalMin: 16, intervalMax: 24, maxLatency: 1, supervisionTimeout: 500))
        // Rejected first, then a new request accepted with the central's choice.
        try await central.ok(HCI.LERemoteConnectionParameterRequestNegativeReply(handle: ch))
        #expect(try await updateComplete(peripheral).status == .unacceptableConnectionParameters)
        try await peripheral.ok(HCI.LEConnectionUpdate(handle: ph, connection: .init(
            intervalMin: 16, intervalMax: 24, maxLatency: 1, supervisionTimeout: 500)))
        _ = try await central.next("parameter request") { $0.type == .event && $0.bytes.count > 2 && $0.bytes[2] == 0x06 }
        try await central.ok(HCI.LERemoteConnectionParameterRequestReply(
            handle: ch, intervalMin: 20, intervalMax: 20, maxLatency: 1, supervisionTimeout: 500))
        #expect(try await updateComplete(central).interval == 20)
        #expect(try await updateComplete(peripheral).interval == 20)
    }

    @Test func extendedCreateConnectionAndSetTerminated() async throws {
        let radio = VirtualRadio()
        let central = try SimulatorHost(radio: radio)
        let peripheral = try SimulatorHost(radio: radio)
        try await central.initialize()
        try await peripheral.initialize()
        try await peripheral.ok(HCI.LESetExtendedAdvertisingParameters(
            handle: 3, properties: .legacyAdvInd, intervalMin: 0x20, intervalMax: 0x20, ownAddressType: 0))
        try await peripheral.ok(HCI.LESetExtendedAdvertisingData(handle: 3, data: [0x02, 0x01, 0x06]))
        try await peripheral.ok(HCI.LESetExtendedAdvertisingEnable(enable: true, sets: [.init(handle: 3)]))
        try await central.ok(HCI.LEExtendedCreateConnection(
            ownAddressType: 0, peerAddressType: 0, peerAddress: peripheral.address,
            parameters: [.init(scanInterval: 0x10, scanWindow: 0x10,
                               connection: .init(intervalMin: 24, intervalMax: 24, supervisionTimeout: 100))]))
        let c = try await central.connectionComplete()
        let p = try await peripheral.connectionComplete()
        #expect(c.role == 0 && p.role == 1 && c.interval == 24)
        let t = try await peripheral.event("set terminated") { e in
            if case .leAdvertisingSetTerminated = e { return true }
            return false
        }
        guard case .leAdvertisingSetTerminated(let term) = t else { return }
        #expect(term.status == .success && term.advertisingHandle == 3 && term.connectionHandle == p.handle)
        // Set Terminated comes after the connection complete.
        let order = peripheral.allEvents.compactMap { e -> Int? in
            switch e {
            case .leConnectionComplete: return 1
            case .leAdvertisingSetTerminated: return 2
            default: return nil
            }
        }
        #expect(order == [1, 2])
    }

    @Test func remoteFeaturesVersionAndDataLength() async throws {
        let (central, peripheral, ch, ph) = try await connectedPair()
        try await central.ok(HCI.LEReadRemoteFeatures(handle: ch))
        let f = try await central.next("remote features") { $0.type == .event && $0.bytes.count > 2 && $0.bytes[2] == 0x04 }
        var r = ByteReader(Array(f.bytes.dropFirst(3)))
        let features = try HCI.LEReadRemoteFeaturesComplete(parameters: &r)
        #expect(features.handle == ch && features.features.contains(.extendedAdvertising))
        try await central.ok(HCI.ReadRemoteVersionInformation(handle: ch))
        let v = try await central.next("remote version") { $0.type == .event && $0.bytes.first == 0x0C }
        #expect(Array(v.bytes.prefix(6)) == [0x0C, 0x08, 0x00, UInt8(ch & 0xFF), UInt8(ch >> 8), 0x0D])
        // Data length: both hosts hear the change.
        let set = try await peripheral.command(HCI.LESetDataLength(handle: ph, txOctets: 251, txTime: 2120))
        #expect(set == [0x00, UInt8(ph & 0xFF), UInt8(ph >> 8)])
        let pc = try await peripheral.next("data length") { $0.type == .event && $0.bytes.count > 2 && $0.bytes[2] == 0x07 }
        let cc = try await central.next("data length") { $0.type == .event && $0.bytes.count > 2 && $0.bytes[2] == 0x07 }
        var pr = ByteReader(Array(pc.bytes.dropFirst(3)))
        var cr = ByteReader(Array(cc.bytes.dropFirst(3)))
        #expect(try HCI.LEDataLengthChange(parameters: &pr)
            == .init(handle: ph, maxTxOctets: 251, maxTxTime: 2120, maxRxOctets: 27, maxRxTime: 328))
        #expect(try HCI.LEDataLengthChange(parameters: &cr)
            == .init(handle: ch, maxTxOctets: 27, maxTxTime: 328, maxRxOctets: 251, maxRxTime: 2120))
    }

    @Test func encryptionWithMatchingAndMissingKeys() async throws {
        let (central, peripheral, ch, ph) = try await connectedPair()
        let ltk = (1...16).map { UInt8($0) }
        // The peripheral host has no key: PIN or Key Missing for the central.
        try await central.ok(HCI.LEEnableEncryption(handle: ch, random: 7, ediv: 9, ltk: ltk))
        let req = try await peripheral.next("LTK request") { $0.type == .event && $0.bytes.count > 2 && $0.bytes[2] == 0x05 }
        var r = ByteReader(Array(req.bytes.dropFirst(3)))
        #expect(try HCI.LELongTermKeyRequest(parameters: &r) == .init(handle: ph, random: 7, ediv: 9))
        try await peripheral.ok(HCI.LELongTermKeyRequestNegativeReply(handle: ph))
        let refused = try await central.event("encryption change") { e in
            if case .encryptionChange = e { return true }
            return false
        }
        #expect(refused == .encryptionChange(.init(status: .pinOrKeyMissing, handle: ch, enabled: 0)))
        // Same key on both sides: encrypted.
        try await central.ok(HCI.LEEnableEncryption(handle: ch, random: 7, ediv: 9, ltk: ltk))
        _ = try await peripheral.next("LTK request") { $0.type == .event && $0.bytes.count > 2 && $0.bytes[2] == 0x05 }
        try await peripheral.ok(HCI.LELongTermKeyRequestReply(handle: ph, ltk: ltk))
        for (host, h) in [(central, ch), (peripheral, ph)] {
            let e = try await host.event("encryption change") { e in
                if case .encryptionChange = e { return true }
                return false
            }
            #expect(e == .encryptionChange(.init(status: .success, handle: h, enabled: 1)))
        }
        // A different key: MIC failure ends the link on both sides.
        try await central.ok(HCI.LEEnableEncryption(handle: ch, random: 1, ediv: 2, ltk: Array(ltk.reversed())))
        _ = try await peripheral.next("LTK request") { $0.type == .event && $0.bytes.count > 2 && $0.bytes[2] == 0x05 }
        try await peripheral.ok(HCI.LELongTermKeyRequestReply(handle: ph, ltk: ltk))
        #expect(try await central.disconnectionComplete().reason == .micFailure)
        #expect(try await peripheral.disconnectionComplete().reason == .micFailure)
    }

    @Test func filterAcceptListConnects() async throws {
        let radio = VirtualRadio()
        let central = try SimulatorHost(radio: radio)
        let peripheral = try SimulatorHost(radio: radio)
        try await central.initialize()
        try await peripheral.initialize()
        #expect(try await central.command(HCI.LEReadFilterAcceptListSize()) == [0x00, 16])
        try await central.ok(HCI.LEAddDeviceToFilterAcceptList(addressType: 0, address: peripheral.address))
        #expect(try await central.status(HCI.LEAddDeviceToFilterAcceptList(addressType: 7, address: .zero))
            == .invalidParameters)
        try await peripheral.advertise(.advInd)
        try await central.ok(HCI.LECreateConnection(
            scanInterval: 0x10, scanWindow: 0x10, filterPolicy: 1, peerAddressType: 0, peerAddress: .zero,
            ownAddressType: 0, connection: .init(intervalMin: 24, intervalMax: 40, supervisionTimeout: 200)))
        #expect(try await central.connectionComplete().peerAddress == peripheral.address)
    }
}
