import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothSimulator

/// Devices on a virtual-time radio (`VirtualRadio(virtualTimeSeed:)`): the radio and every host on
/// it share one executor, driven by whoever waits, and time jumps to the next deadline when
/// nothing is runnable. Timeouts of seconds take milliseconds of wall time.
@Suite("Scenario: virtual time")
struct ScenarioVirtualTimeTests {
    /// A transport that hides the controller's ACL data from its host: a GATT server that never
    /// hears (so never answers) a request.
    final class DeafTransport: HCITransport, @unchecked Sendable {
        // Safe: `inner` is immutable; the delegate wrapper is immutable once made.
        let inner: VirtualController
        private let holder = Locked<Filter?>(nil)
        var name: String { inner.name }
        var executor: VirtualTimeExecutor? { inner.executor }
        init(_ inner: VirtualController) { self.inner = inner }
        func open(delegate: HCITransportDelegate) throws {
            let f = Filter(delegate)
            holder.value = f
            try inner.open(delegate: f)
        }
        func send(_ packet: HCIPacket) { inner.send(packet) }
        func close() { inner.close() }

        final class Filter: HCITransportDelegate, Sendable {
            let downstream: HCITransportDelegate
            init(_ downstream: HCITransportDelegate) { self.downstream = downstream }
            func transport(didReceive packet: HCIPacket) {
                if packet.type != .acl { downstream.transport(didReceive: packet) }
            }
            func transport(didClose error: TransportError?) { downstream.transport(didClose: error) }
        }
    }

    static func wall(_ body: () throws -> Void) rethrows -> Double {
        let t0 = Date()
        try body()
        return Date().timeIntervalSince(t0)
    }

    /// Connect, discover, read and notify work the same in virtual time.
    @Test func aGATTExchangeRunsInVirtualTime() throws {
        let radio = VirtualRadio(virtualTimeSeed: 7)
        let p = BLE(controller: VirtualController(radio: radio))
        let c = BLE(controller: VirtualController(radio: radio))
        let pr = EventRecorder(p), cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        let handles = try p.gattsRegisterServices([
            BLE.Service(BluetoothUUID(0x180F), [BLE.Characteristic(BluetoothUUID(0x2A19), [.read, .notify])]),
        ])
        try p.gattsWrite(handles[0][0], [99])
        let (ch, ph) = try ScenarioLinkTests.connect(p, c, pr, cr)
        try c.gattcRead(ch, handles[0][0])
        #expect(cr.next(code: 15) == .gattcReadResult(connHandle: ch, valueHandle: handles[0][0], charData: [99]))
        try p.gattsNotify(ph, handles[0][0], [1, 2])
        #expect(cr.next(code: 18) == .gattcNotify(connHandle: ch, valueHandle: handles[0][0], notifyData: [1, 2]))
        try c.active(false)
        try p.active(false)
    }

    /// The ATT transaction timeout (30 s, Vol 3 Part F 3.3.3) against a server that never answers:
    /// the read ends with -110 and the link is closed, after 30 s of virtual time.
    @Test func theATTTransactionTimeoutTakesThirtyVirtualSeconds() throws {
        let radio = VirtualRadio(virtualTimeSeed: 30)
        let p = BLE(controller: DeafTransport(VirtualController(radio: radio)))
        let c = BLE(controller: VirtualController(radio: radio))
        let pr = EventRecorder(p), cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        let (ch, _) = try ScenarioLinkTests.connect(p, c, pr, cr)
        let executor = try #require(radio.executor)
        let start = executor.now
        var done: BLE.Event?
        let seconds = try Self.wall {
            try c.gattcRead(ch, 3)
            done = cr.next(code: 16, timeout: 60)
        }
        #expect(done == .gattcReadDone(connHandle: ch, valueHandle: 3, status: BLEStatus.timedOut))
        let elapsed = Double(executor.now - start) / 1e9
        #expect(elapsed >= 30 && elapsed < 31, "virtual time: \(elapsed) s")
        #expect(cr.next(code: IRQ.peripheralDisconnect, timeout: 5) != nil)
        #expect(seconds < 2, "wall time: \(seconds) s")
        print("ATT timeout: \(elapsed) s of virtual time in \(Int(seconds * 1000)) ms of wall time")
    }

    /// A connect to an address nobody advertises ends after its scan duration (2 s) of virtual time.
    @Test func aConnectTimeoutTakesItsVirtualDuration() throws {
        let radio = VirtualRadio(virtualTimeSeed: 2)
        let c = BLE(controller: VirtualController(radio: radio))
        let cr = EventRecorder(c)
        try c.active(true)
        let executor = try #require(radio.executor)
        let start = executor.now
        var e: BLE.Event?
        let seconds = try Self.wall {
            try c.gapConnect(.public, BluetoothAddress(value: 0x12_34_56_78_9A_BC), 2000)
            e = cr.next(code: IRQ.peripheralDisconnect, timeout: 10)
        }
        #expect(e == .peripheralDisconnect(connHandle: 0xFFFF, addrType: .unknown, addr: .zero))
        let elapsed = Double(executor.now - start) / 1e9
        #expect(elapsed >= 2 && elapsed < 2.5, "virtual time: \(elapsed) s")
        #expect(seconds < 2, "wall time: \(seconds) s")
        print("connect timeout: \(elapsed) s of virtual time in \(Int(seconds * 1000)) ms of wall time")
    }

    /// A peer that powers off without a word: the link ends with Connection Timeout (0x08) when
    /// the supervision timeout runs out, in virtual time.
    @Test func aSupervisionTimeoutTakesItsVirtualDuration() throws {
        let radio = VirtualRadio(virtualTimeSeed: 3)
        let peripheralController = VirtualController(radio: radio)
        let p = BLE(controller: peripheralController)
        let c = BLE(controller: VirtualController(radio: radio))
        let pr = EventRecorder(p), cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        let (ch, _) = try ScenarioLinkTests.connect(p, c, pr, cr)
        let executor = try #require(radio.executor)
        // The host's default supervision timeout for a 50 ms interval: 2.56 s (Vol 6 Part B 4.5.2).
        let start = executor.now
        var e: BLE.Event?
        let seconds = Self.wall {
            peripheralController.close()
            e = cr.next(code: IRQ.peripheralDisconnect, timeout: 10)
        }
        #expect(e?.connHandle == ch)
        let elapsed = Double(executor.now - start) / 1e9
        #expect(elapsed >= 2.56 && elapsed < 2.6, "virtual time: \(elapsed) s")
        #expect(seconds < 2, "wall time: \(seconds) s")
        print("supervision timeout: \(elapsed) s of virtual time in \(Int(seconds * 1000)) ms of wall time")
        _ = try? c.active(false)
    }

    /// A two-device GATT session in virtual time, both sides captured; returns the two captures.
    static func capturedSession(seed: UInt64, directory: URL) throws -> ([UInt8], [UInt8]) {
        let radio = VirtualRadio(virtualTimeSeed: seed)
        let p = BLE(controller: VirtualController(radio: radio))
        let c = BLE(controller: VirtualController(radio: radio))
        let pPath = directory.appendingPathComponent("p-\(seed)-\(UUID().uuidString).btsnoop").path
        let cPath = directory.appendingPathComponent("c-\(seed)-\(UUID().uuidString).btsnoop").path
        p.capture(to: pPath)
        c.capture(to: cPath)
        let pr = EventRecorder(p), cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        try p.config(addrMode: .random)
        let handles = try p.gattsRegisterServices([
            BLE.Service(BluetoothUUID(0x180F), [BLE.Characteristic(BluetoothUUID(0x2A19), [.read, .write, .notify])]),
        ])
        let vh = handles[0][0]
        try p.gattsWrite(vh, Array("seeded".utf8))
        let (ch, ph) = try ScenarioLinkTests.connect(p, c, pr, cr)
        try c.gattcExchangeMtu(ch)
        _ = cr.next(code: 21)
        try c.gattcDiscoverServices(ch)
        _ = cr.next(code: 10)
        try c.gattcRead(ch, vh)
        _ = cr.next(code: 16)
        for i in 0..<20 { try p.gattsNotify(ph, vh, [UInt8(i)]) }
        #expect(cr.waitUntil { $0.filter { $0.code == 18 }.count == 20 })
        try c.gattcWrite(ch, vh, [1, 2, 3], .withResponse)
        _ = cr.next(code: 17)
        _ = try c.gapDisconnect(ch)
        _ = pr.next(code: IRQ.centralDisconnect)
        try c.active(false)
        try p.active(false)
        let pBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: pPath)))
        let cBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: cPath)))
        return (pBytes, cBytes)
    }

    /// The same seed gives byte-identical btsnoop captures (timestamps, addresses, advertising
    /// delays, the order of every packet); another seed gives another run.
    @Test func oneSeedGivesByteIdenticalCaptures() throws {
        let dir = try transportTemporaryDirectory()
        let first = try Self.capturedSession(seed: 42, directory: dir)
        let second = try Self.capturedSession(seed: 42, directory: dir)
        let other = try Self.capturedSession(seed: 43, directory: dir)
        #expect(first.0.count > 1000 && first.1.count > 1000)
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
        #expect(first.0 != other.0)
    }
}
