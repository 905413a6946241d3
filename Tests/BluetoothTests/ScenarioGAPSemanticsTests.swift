import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothSimulator

/// API.md's GAP semantics, on the virtual radio.
@Suite("Scenario: GAP semantics")
struct ScenarioGAPSemanticsTests {
    @Test func callsBeforeActiveThrowNotActive() throws {
        let ble = try BLE(transport: uniqueRadio())
        #expect(ble.active() == false)
        func expectNotActive(_ what: String, _ body: () throws -> Void) {
            #expect(throws: BLEError.notActive, "\(what)") { try body() }
        }
        expectNotActive("gapAdvertise") { try ble.gapAdvertise(100_000) }
        expectNotActive("gapScan") { try ble.gapScan(100) }
        expectNotActive("gapConnect") { try ble.gapConnect(.public, .zero) }
        expectNotActive("gapConnectCancel") { try ble.gapConnectCancel() }
        expectNotActive("gapDisconnect") { _ = try ble.gapDisconnect(1) }
        expectNotActive("config(.mac)") { _ = try ble.config(.mac) }
        expectNotActive("gattsRegisterServices") { _ = try ble.gattsRegisterServices([]) }
        expectNotActive("gattsWrite") { try ble.gattsWrite(1, []) }
        expectNotActive("gattsNotify") { try ble.gattsNotify(0, 1) }
        expectNotActive("gattsIndicate") { try ble.gattsIndicate(0, 1) }
        expectNotActive("gattsSetBuffer") { try ble.gattsSetBuffer(1, 10) }
        expectNotActive("gattcDiscoverServices") { try ble.gattcDiscoverServices(0) }
        expectNotActive("gattcDiscoverCharacteristics") { try ble.gattcDiscoverCharacteristics(0, 1, 0xFFFF) }
        expectNotActive("gattcDiscoverDescriptors") { try ble.gattcDiscoverDescriptors(0, 1, 0xFFFF) }
        expectNotActive("gattcRead") { try ble.gattcRead(0, 1) }
        expectNotActive("gattcWrite") { try ble.gattcWrite(0, 1, [1]) }
        expectNotActive("gattcExchangeMtu") { try ble.gattcExchangeMtu(0) }
        expectNotActive("l2capListen") { try ble.l2capListen(0x80, 512) }
        expectNotActive("l2capConnect") { try ble.l2capConnect(0, 0x80, 512) }
        expectNotActive("l2capDisconnect") { try ble.l2capDisconnect(0, 0x40) }
        expectNotActive("l2capSend") { _ = try ble.l2capSend(0, 0x40, [1]) }
        var buf = [UInt8](repeating: 0, count: 4)
        expectNotActive("l2capRecvinto") { _ = try ble.l2capRecvinto(0, 0x40, &buf) }
        expectNotActive("gapPair") { try ble.gapPair(0) }
        expectNotActive("gapPasskey") { try ble.gapPasskey(0, .input, 123456) }
        // These work before activation; stopping advertising that is not running is a no-op (API.md).
        try ble.gapAdvertise(nil)
        #expect(ble.gattsRead(1) == [])
        ble.irq { _ in nil }
        try ble.config(gapName: "early", mtu: 100, bond: true, mitm: true, io: .displayYesNo, leSecure: false)
        #expect(try ble.config(.gapName) == "early")
        #expect(try ble.config(.mtu) == 100)
        #expect(try ble.config(.bond) == true)
        #expect(try ble.config(.io) == .displayYesNo)
        #expect(throws: BLEError.self) { try ble.config(mtu: 22) }
        #expect(throws: BLEError.self) { try ble.config(mtu: 518) }
        #expect(throws: BLEError.notSupported) { try ble.config(addrMode: .rpa) }
        // Once active: GATT works, L2CAP channels and pairing say they have not landed yet.
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        #expect(try ble.gattsRegisterServices([]) == [])
        #expect(throws: BLEError.notConnected) { try ble.gattcExchangeMtu(0) }
        #expect(throws: BLEError.notSupported) { try ble.l2capListen(0x80, 512) }
        #expect(throws: BLEError.notSupported) { try ble.gapPair(0) }
        #expect(ble.gattsRead(0x7777) == [])
    }

    @Test func activeTwiceKeepsStateAndMacIsStable() throws {
        let radio = uniqueRadio()
        let ble = try BLE(transport: radio)
        #expect(try ble.active(true) == true)
        let mac1 = try ble.config(.mac)
        #expect(mac1.0 == .public)
        #expect(try ble.active(true) == true)
        #expect(try ble.config(.mac) == mac1)
        // Random static address mode.
        try ble.config(addrMode: .random)
        let (type, addr) = try ble.config(.mac)
        #expect(type == .random)
        #expect(addr.randomKind == .staticRandom)
        #expect(try ble.active(false) == false)
        #expect(ble.active() == false)
        #expect(try ble.active(true) == true)
        #expect(try ble.config(.mac).1 == addr)
        _ = try ble.active(false)
    }

    @Test func scanDurationNilAndSecondScan() throws {
        let ble = try BLE(transport: uniqueRadio())
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        try ble.gapScan(0)  // forever
        #expect(throws: BLEError.alreadyInProgress) { try ble.gapScan(100) }
        try ble.gapScan(nil)
        #expect(rec.next(code: IRQ.scanDone, timeout: 2) != nil)
        // A timed scan ends by itself with one scanDone.
        try ble.gapScan(50, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone, timeout: 2) != nil)
        #expect(rec.names(codes: [IRQ.scanDone]).count == 2)
        // Stopping when not scanning raises nothing; gapAdvertise(nil) when not advertising is a no-op.
        try ble.gapScan(nil)
        try ble.gapAdvertise(nil)
        #expect(throws: BLEError.self) { try ble.gapScan(100, 10_000, 20_000) }  // window > interval
        #expect(throws: BLEError.self) { try ble.gapAdvertise(10_000) }  // below 20 ms
        #expect(throws: BLEError.self) { try ble.gapAdvertise(100_000, advData: [UInt8](repeating: 0, count: 32)) }
        #expect(rec.names(codes: [IRQ.scanDone]).count == 2)
    }

    @Test func connectToAbsentAddressTimesOut() throws {
        let ble = try BLE(transport: uniqueRadio())
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        let absent = try #require(BluetoothAddress("12:34:56:78:9a:bc"))
        let t0 = Date()
        try ble.gapConnect(.public, absent, 300)
        #expect(throws: BLEError.alreadyInProgress) { try ble.gapConnect(.public, absent, 300) }
        let e = try #require(rec.next(code: IRQ.peripheralDisconnect, timeout: 5))
        #expect(e == .peripheralDisconnect(connHandle: 0xFFFF, addrType: .unknown, addr: .zero))
        #expect(Date().timeIntervalSince(t0) >= 0.29)
        // The attempt is over: a new one may start, and cancelling it reports the same way.
        try ble.gapConnect(.public, absent, 0)
        try ble.gapConnectCancel()
        let e2 = try #require(rec.next(code: IRQ.peripheralDisconnect, timeout: 5))
        #expect(e2 == .peripheralDisconnect(connHandle: 0xFFFF, addrType: .unknown, addr: .zero))
        // Cancelling with nothing pending changes nothing.
        try ble.gapConnectCancel()
        #expect(ble.gapDisconnectFalseForUnknown())
        #expect(rec.names(codes: [IRQ.peripheralDisconnect]).count == 2)
    }

    @Test func connectStopsScanAndAdvertisingStopsOnConnect() throws {
        let radio = uniqueRadio()
        let p = try BLE(transport: radio), c = try BLE(transport: radio), watcher = try BLE(transport: radio)
        let pr = EventRecorder(p), cr = EventRecorder(c), wr = EventRecorder(watcher)
        for b in [p, c, watcher] { try b.active(true) }
        defer { for b in [p, c, watcher] { _ = try? b.active(false) } }
        let (pt, pa) = try p.config(.mac)
        try p.gapAdvertise(20_000, advData: AdvertisingData.make(name: "P"))
        try c.gapScan(0, 30_000, 30_000)
        try c.gapConnect(pt, pa)
        // The scan stopped first.
        #expect(cr.next(code: IRQ.scanDone, timeout: 2) != nil)
        #expect(cr.next(code: IRQ.peripheralConnect, timeout: 4) != nil)
        #expect(pr.next(code: IRQ.centralConnect, timeout: 4) != nil)
        // The peripheral no longer advertises: a third device hears nothing from it.
        try watcher.gapScan(300, 30_000, 30_000, true)
        #expect(wr.next(code: IRQ.scanDone, timeout: 3) != nil)
        let heard = wr.all.contains { if case let .scanResult(_, a, _, _, _) = $0 { return a == pa }; return false }
        #expect(!heard)
    }

    @Test func scanResponsesOnlyWhenActive() throws {
        let radio = uniqueRadio()
        let adv = try BLE(transport: radio), scanner = try BLE(transport: radio)
        try adv.active(true)
        try scanner.active(true)
        defer {
            _ = try? adv.active(false)
            _ = try? scanner.active(false)
        }
        let (_, addr) = try adv.config(.mac)
        let resp = AdvertisingData.make(flags: nil, manufacturerData: [0x01, 0x02, 0x03])
        try adv.gapAdvertise(20_000, advData: AdvertisingData.make(name: "R"), respData: resp)
        let passive = EventRecorder(scanner)
        try scanner.gapScan(200, 30_000, 30_000, false)
        #expect(passive.next(code: IRQ.scanDone, timeout: 3) != nil)
        let passiveTypes = Set(passive.all.compactMap { e -> AdvType? in
            if case let .scanResult(_, a, t, _, _) = e, a == addr { return t }
            return nil
        })
        #expect(passiveTypes == [.advInd])
        let active = EventRecorder(scanner)
        try scanner.gapScan(200, 30_000, 30_000, true)
        #expect(active.next(code: IRQ.scanDone, timeout: 3) != nil)
        let responses = active.all.compactMap { e -> [UInt8]? in
            if case let .scanResult(_, a, .scanRsp, _, d) = e, a == addr { return d }
            return nil
        }
        #expect(!responses.isEmpty)
        #expect(responses.allSatisfy { $0 == resp })
    }

    @Test func handlerMayCallTheAPIAndReadvertise() throws {
        let radio = uniqueRadio()
        let p = try BLE(transport: radio), c = try BLE(transport: radio)
        let adv = AdvertisingData.make(name: "again")
        // The peripheral re-advertises from inside its handler, as MicroPython examples do.
        let pr = EventRecorder(p) { [p] e in
            if case .centralDisconnect = e { try? p.gapAdvertise(20_000, advData: adv) }
            return nil
        }
        let cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        defer {
            _ = try? p.active(false)
            _ = try? c.active(false)
        }
        let (pt, pa) = try p.config(.mac)
        try p.gapAdvertise(20_000, advData: adv)
        for _ in 0..<3 {
            try c.gapConnect(pt, pa)
            let e = try #require(cr.next(code: IRQ.peripheralConnect, timeout: 4))
            #expect(pr.next(code: IRQ.centralConnect, timeout: 4) != nil)
            #expect(try c.gapDisconnect(try #require(e.connHandle)))
            #expect(cr.next(code: IRQ.peripheralDisconnect, timeout: 4) != nil)
            #expect(pr.next(code: IRQ.centralDisconnect, timeout: 4) != nil)
        }
        #expect(try c.gapDisconnect(0x0EEE) == false)
    }

    @Test func deactivatingOneSideDisconnectsTheOther() throws {
        let radio = uniqueRadio()
        let p = try BLE(transport: radio), c = try BLE(transport: radio)
        let cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        defer { _ = try? c.active(false) }
        let (pt, pa) = try p.config(.mac)
        try p.gapAdvertise(20_000)
        try c.gapConnect(pt, pa)
        let e = try #require(cr.next(code: IRQ.peripheralConnect, timeout: 4))
        try p.active(false)
        let d = try #require(cr.next(code: IRQ.peripheralDisconnect, timeout: 4))
        #expect(d == .peripheralDisconnect(connHandle: e.connHandle ?? 0, addrType: pt, addr: pa))
    }
}

extension BLE {
    func gapDisconnectFalseForUnknown() -> Bool {
        (try? gapDisconnect(0x0ABC)) == false
    }
}

/// Hides Disconnection Complete events from the host: its view of the links goes stale.
final class HidingDisconnectTransport: HCITransport, @unchecked Sendable {
    // Safe: `filter` is immutable; delegate calls are forwarded from the controller's queue.
    let inner: HCITransport
    var name: String { inner.name }
    init(_ inner: HCITransport) { self.inner = inner }
    final class Filter: HCITransportDelegate, @unchecked Sendable {
        // Safe: `downstream` is set once, before the controller delivers anything.
        var downstream: HCITransportDelegate?
        func transport(didReceive packet: HCIPacket) {
            if packet.type == .event, packet.bytes.first == 0x05 { return }
            downstream?.transport(didReceive: packet)
        }
        func transport(didClose error: TransportError?) { downstream?.transport(didClose: error) }
    }
    private let filter = Filter()
    func open(delegate: HCITransportDelegate) throws {
        filter.downstream = delegate
        try inner.open(delegate: filter)
    }
    func send(_ packet: HCIPacket) { inner.send(packet) }
    func close() { inner.close() }
}

extension ScenarioGAPSemanticsTests {
    /// active(false) when the host still believes in a link the controller has dropped must not
    /// fail: the teardown is best effort (the Disconnect gets Unknown Connection Identifier).
    @Test func deactivatingWithAStaleLinkNeverThrows() throws {
        let radio = VirtualRadio()
        let p = BLE(controller: HidingDisconnectTransport(VirtualController(radio: radio)))
        let c = BLE(controller: VirtualController(radio: radio))
        let pr = EventRecorder(p), cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        let (pt, pa) = try p.config(.mac)
        try p.gapAdvertise(20_000)
        try c.gapConnect(pt, pa)
        let h = try #require(cr.next(code: IRQ.peripheralConnect)?.connHandle)
        let ph = try #require(pr.next(code: IRQ.centralConnect)?.connHandle)
        #expect(try c.gapDisconnect(h))
        #expect(cr.next(code: IRQ.peripheralDisconnect) != nil)
        // The peripheral never heard of it: disconnecting "its" link is not an error either.
        #expect(try p.gapDisconnect(ph))
        try p.active(false)
        try c.active(false)
    }
}

extension ScenarioGAPSemanticsTests {
    /// Extreme API arguments are refused or saturated, never trapped on.
    @Test func extremeArgumentsNeverTrap() throws {
        let ble = try BLE(transport: uniqueRadio())
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        #expect(throws: BLEError.self) { try ble.gapScan(Int.min) }
        #expect(throws: BLEError.self) { try ble.gapScan(10, Int.min, Int.min) }
        #expect(throws: BLEError.self) { try ble.gapScan(10, Int.max, Int.max) }
        try ble.gapScan(Int.max, 30_000, 30_000)
        try ble.gapScan(nil)
        #expect(rec.next(code: IRQ.scanDone) != nil)
        #expect(throws: BLEError.self) { try ble.gapAdvertise(Int.min) }
        #expect(throws: BLEError.self) { try ble.gapAdvertise(Int.max) }
        #expect(throws: BLEError.self) { try ble.gapConnect(.public, .zero, Int.min) }
        #expect(throws: BLEError.self) { try ble.gapConnect(.public, .zero, 10, Int.min, Int.max) }
        try ble.gapConnect(.public, .zero, Int.max)
        try ble.gapConnectCancel()
        #expect(rec.next(code: IRQ.peripheralDisconnect) != nil)
        #expect(throws: BLEError.self) { try ble.gattsSetBuffer(0xFFFF, Int.max) }
        #expect(throws: BLEError.self) { try ble.config(rxbuf: Int.min) }
        #expect(throws: BLEError.self) { try ble.config(mtu: Int.max) }
        #expect(try ble.gapDisconnect(UInt16.max) == false)
        let odd = BLE(controller: VirtualController(radio: VirtualRadio()), commandTimeout: .nan)
        #expect(try odd.active(true))  // a meaningless timeout keeps the default
        try odd.active(false)
    }
}
