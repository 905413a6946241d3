import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothSimulator

/// Wraps a transport and lets a test inject packets as if the controller had sent them.
final class InjectingTransport: HCITransport, @unchecked Sendable {
    // Safe: `delegate` is written once in `open`, before any injection, under `lock`.
    let inner: HCITransport
    private let lock = NSLock()
    private var delegate: HCITransportDelegate?
    var name: String { inner.name }
    init(_ inner: HCITransport) { self.inner = inner }
    func open(delegate: HCITransportDelegate) throws {
        lock.lock()
        self.delegate = delegate
        lock.unlock()
        try inner.open(delegate: delegate)
    }
    func send(_ packet: HCIPacket) { inner.send(packet) }
    func close() { inner.close() }
    func inject(_ packet: HCIPacket) {
        lock.lock()
        let d = delegate
        lock.unlock()
        d?.transport(didReceive: packet)
    }
}

/// No bytes from a controller or a peer may crash the host (DESIGN.md principle 4).
@Suite("Host: hostile input")
struct HostFuzzTests {
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func randomEventsAndACLNeverCrashTheHost() throws {
        let radio = VirtualRadio()
        let injector = InjectingTransport(VirtualController(radio: radio))
        let ble = BLE(controller: injector, commandTimeout: 0.5)
        let peer = BLE(controller: VirtualController(radio: radio))
        let rec = EventRecorder(ble), peerRec = EventRecorder(peer)
        try ble.active(true)
        try peer.active(true)
        defer {
            _ = try? ble.active(false)
            _ = try? peer.active(false)
        }
        let (pt, pa) = try peer.config(.mac)
        try peer.gapAdvertise(20_000)
        try ble.gapConnect(pt, pa)
        let handle = try #require(rec.next(code: IRQ.peripheralConnect, timeout: 4)?.connHandle)
        #expect(peerRec.next(code: IRQ.centralConnect, timeout: 4) != nil)

        var g = SeededGenerator(state: 0xB1E)
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) } }
        // Events: random codes (the ones the host parses most often), random lengths, sometimes
        // a length field that lies.
        let codes: [UInt8] = [0x05, 0x08, 0x0E, 0x0F, 0x10, 0x13, 0x1A, 0x3E, 0xFF]
        let subevents: [UInt8] = [0x01, 0x02, 0x03, 0x0A, 0x0D, 0x11, 0x12, 0x05, 0x7F]
        for i in 0..<20_000 {
            let code = codes[Int.random(in: 0..<codes.count, using: &g)]
            var params = bytes(Int.random(in: 0...40, using: &g))
            if code == 0x3E, !params.isEmpty { params[0] = subevents[Int.random(in: 0..<subevents.count, using: &g)] }
            // Never let the fuzzer end our own link or grant zero command credits; everything else goes.
            if code == 0x05 || code == 0x0E || code == 0x0F { if params.count > 1 { params[1] = 0x0F } }
            if code == 0x0E || code == 0x0F, params.count > 0 { params[0] = max(params[0], 1) }
            let len = i % 10 == 0 ? UInt8.random(in: 0...255, using: &g) : UInt8(truncatingIfNeeded: params.count)
            injector.inject(HCIPacket(.event, [code, len] + params))
        }
        // ACL on the live link: L2CAP PDUs for ATT, signaling, SMP and others, whole, fragmented,
        // truncated and oversized.
        for i in 0..<20_000 {
            let cid: UInt16 = [0x0004, 0x0005, 0x0006, 0x0040, 0xFFFF][i % 5]
            let payload = bytes(Int.random(in: 0...60, using: &g))
            var l2cap = [UInt8(payload.count & 0xFF), UInt8(payload.count >> 8), UInt8(cid & 0xFF), UInt8(cid >> 8)]
                + payload
            if i % 7 == 0 { l2cap = bytes(Int.random(in: 0...8, using: &g)) }
            let boundary: ACLHeader.Boundary = i % 11 == 0 ? .continuing : .firstFlushable
            let h = i % 13 == 0 ? UInt16.random(in: 0...0x0FFF, using: &g) : handle
            injector.inject(HCIPacket(.acl, ACLHeader.packet(handle: h, boundary: boundary, payload: l2cap[...])))
        }
        // Random packet types too.
        for _ in 0..<2_000 {
            injector.inject(HCIPacket([.sco, .iso, .command][Int.random(in: 0...2, using: &g)], bytes(10)))
        }
        // Still alive and usable: a scan starts and ends.
        try ble.gapScan(50, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone, timeout: 10) != nil)
    }
}

extension HostFuzzTests {
    /// Extended advertising data in many fragments is joined into one scan result; past the
    /// spec's 1650 bytes it is cut there, not dropped.
    @Test func extendedReportFragmentsAreJoinedAndBounded() throws {
        let injector = InjectingTransport(VirtualController(radio: VirtualRadio()))
        let ble = BLE(controller: injector)
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        try ble.gapScan(0, 30_000, 30_000)
        let addr = try #require(BluetoothAddress("11:22:33:44:55:66"))
        func report(_ chunk: UInt8, more: Bool) -> HCIPacket {
            let type = HCI.LEExtendedAdvertisingReport.EventType(rawValue: more ? 0x0020 : 0x0000)
            return HCI.LEExtendedAdvertisingReport(reports: [.init(eventType: type, addressType: 0, address: addr, sid: 1,
                                                                    rssi: -40, data: [UInt8](repeating: chunk, count: 200))]).packet
        }
        // 3 fragments: 600 bytes in one result.
        for i in 0..<2 { injector.inject(report(UInt8(i), more: true)) }
        injector.inject(report(2, more: false))
        let first = try #require(rec.next(code: IRQ.scanResult))
        guard case let .scanResult(_, a, t, _, data) = first else { return }
        #expect(a == addr && t == .advNonconnInd)
        #expect(data == [UInt8](repeating: 0, count: 200) + [UInt8](repeating: 1, count: 200) + [UInt8](repeating: 2, count: 200))
        // 10 fragments (2000 bytes): cut to 1650.
        for i in 0..<9 { injector.inject(report(UInt8(i), more: true)) }
        injector.inject(report(9, more: false))
        guard case let .scanResult(_, _, _, _, long)? = rec.next(code: IRQ.scanResult) else {
            Issue.record("no second result")
            return
        }
        #expect(long.count == 1650)
        try ble.gapScan(nil)
    }
}
