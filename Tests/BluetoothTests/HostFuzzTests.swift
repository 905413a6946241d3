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

    /// What is wrong with a stream of events as a story of connections: a disconnect for a handle
    /// that is not connected (never was, or already ended), a second connect for a live handle, or
    /// a disconnect of the other role. Empty when every connection begins and ends once.
    static func connectionStoryProblems(_ events: [BLE.Event]) -> [String] {
        var live: [UInt16: Int] = [:]  // handle -> the code of its connect event
        var problems: [String] = []
        for e in events {
            guard let h = e.connHandle else { continue }
            switch e.code {
            case IRQ.centralConnect, IRQ.peripheralConnect:
                if live[h] != nil { problems.append("\(e.name) for 0x\(String(h, radix: 16)), already connected") }
                live[h] = e.code
            case IRQ.centralDisconnect, IRQ.peripheralDisconnect:
                guard let connect = live.removeValue(forKey: h) else {
                    problems.append("\(e.name) for 0x\(String(h, radix: 16)), which was not connected")
                    continue
                }
                if connect + 1 != e.code { problems.append("\(e.name) for 0x\(String(h, radix: 16)) after event \(connect)") }
            default:
                break
            }
        }
        return problems
    }

    /// Handles the events say are connected now.
    static func connectedHandles(_ events: [BLE.Event]) -> Set<UInt16> {
        var live: Set<UInt16> = []
        for e in events {
            guard let h = e.connHandle else { continue }
            if e.code == IRQ.centralConnect || e.code == IRQ.peripheralConnect { live.insert(h) }
            if e.code == IRQ.centralDisconnect || e.code == IRQ.peripheralDisconnect { live.remove(h) }
        }
        return live
    }

    /// Reads `valueHandle` on `conn` with the GATT client: the value, or nil with the reason.
    static func read(_ ble: BLE, _ rec: EventRecorder, _ conn: UInt16, _ valueHandle: UInt16) throws -> Result<[UInt8], ReadFailure> {
        try ble.gattcRead(conn, valueHandle)
        var data: [UInt8]?
        while true {
            let e = rec.next(timeout: 5) { e in
                switch e {
                case let .gattcReadResult(c, v, _), let .gattcReadDone(c, v, _): return c == conn && v == valueHandle
                default: return false
                }
            }
            switch e {
            case let .gattcReadResult(_, _, d)?: data = d
            case let .gattcReadDone(_, _, status)?:
                guard status == 0, let data else { return .failure(ReadFailure(why: "read done with status \(status)")) }
                return .success(data)
            default:
                return .failure(ReadFailure(why: "no read result within 5 s"))
            }
        }
    }

    struct ReadFailure: Error, Equatable { let why: String }

    static let serviceUUID: BluetoothUUID = 0xFFF0
    static let charUUID: BluetoothUUID = 0xFFF1

    /// A peer serving one readable characteristic holding `value`; returns its value handle.
    static func serve(_ peer: BLE, _ value: [UInt8]) throws -> UInt16 {
        let handles = try peer.gattsRegisterServices([BLE.Service(serviceUUID, [BLE.Characteristic(charUUID, [.read])])])
        let h = try #require(handles.first?.first)
        try peer.gattsWrite(h, value)
        return h
    }

    @Test func randomEventsAndACLNeverCrashTheHost() throws {
        let radio = VirtualRadio()
        let injector = InjectingTransport(VirtualController(radio: radio))
        let ble = BLE(controller: injector, commandTimeout: 0.5)
        let peer = BLE(controller: VirtualController(radio: radio))
        let peer2 = BLE(controller: VirtualController(radio: radio))
        let rec = EventRecorder(ble), peerRec = EventRecorder(peer)
        for d in [ble, peer, peer2] { try d.active(true) }
        defer { for d in [ble, peer, peer2] { _ = try? d.active(false) } }
        let value: [UInt8] = Array("still served after the fuzz".utf8)
        let valueHandle = try Self.serve(peer, value)
        let (pt, pa) = try peer.config(.mac)
        try peer.gapAdvertise(20_000)
        try ble.gapConnect(pt, pa)
        let handle = try #require(rec.next(code: IRQ.peripheralConnect, timeout: 4)?.connHandle)
        #expect(peerRec.next(code: IRQ.centralConnect, timeout: 4) != nil)
        #expect(try Self.read(ble, rec, handle, valueHandle) == .success(value))

        let seed: UInt64 = 0xB1E
        var g = SeededGenerator(state: seed)
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) } }
        func le(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        /// Any handle but the live link's (the fuzz must not end it: the checks after it need it).
        func otherHandle() -> UInt16 {
            let h = UInt16.random(in: 0...0x0EFF, using: &g)
            return h == handle ? h ^ 0x0800 : h
        }
        // Handles of the connections the fuzz itself reported with a well-formed LE Connection Complete.
        var madeUp: [UInt16] = []

        // Events: random codes (the ones the host parses most often), random lengths, sometimes a
        // length field that lies; and well-formed ones the host acts on: connections that the
        // controller makes up, Disconnection Complete for those and for unknown handles (any
        // status, any reason), Number Of Completed Packets with zero, one and huge counts for the
        // live link, made-up and unknown handles, and Command Complete/Status withholding every
        // command credit.
        let codes: [UInt8] = [0x05, 0x08, 0x0E, 0x0F, 0x10, 0x13, 0x1A, 0x3E, 0xFF]
        let subevents: [UInt8] = [0x01, 0x02, 0x03, 0x0A, 0x0D, 0x11, 0x12, 0x05, 0x7F]
        for i in 0..<20_000 {
            switch i % 10 {
            case 0:
                let h = otherHandle()
                let status: UInt8 = Bool.random(using: &g) ? 0x00 : UInt8.random(in: 0...255, using: &g)
                let role = UInt8.random(in: 0...2, using: &g)
                let params: [UInt8] = [0x01, status] + le(h) + [role, 0x01] + bytes(6) + le(24) + le(0) + le(200) + [0x00]
                injector.inject(HCIPacket(.event, [0x3E, UInt8(params.count)] + params))
                if status == 0, role <= 1 { madeUp.append(h) }
            case 1:
                let h = !madeUp.isEmpty && Bool.random(using: &g)
                    ? madeUp[Int.random(in: 0..<madeUp.count, using: &g)] : otherHandle()
                let status: UInt8 = Int.random(in: 0..<4, using: &g) > 0 ? 0x00 : UInt8.random(in: 1...255, using: &g)
                injector.inject(HCIPacket(.event, [0x05, 0x04, status] + le(h) + [UInt8.random(in: 0...255, using: &g)]))
            case 2:
                var params: [UInt8] = []
                let n = Int.random(in: 1...4, using: &g)
                for _ in 0..<n {
                    let h: UInt16 = switch Int.random(in: 0..<3, using: &g) {
                    case 0: handle
                    case 1: madeUp.isEmpty ? handle : madeUp[Int.random(in: 0..<madeUp.count, using: &g)]
                    default: otherHandle()
                    }
                    let count: UInt16 = [0, 1, 0xFFFF, UInt16.random(in: 0...0xFFFF, using: &g)][Int.random(in: 0..<4, using: &g)]
                    params += le(h) + le(count)
                }
                injector.inject(HCIPacket(.event, [0x13, UInt8(1 + params.count), UInt8(n)] + params))
            default:
                let code = codes[Int.random(in: 0..<codes.count, using: &g)]
                var params = bytes(Int.random(in: 0...40, using: &g))
                if code == 0x3E, !params.isEmpty { params[0] = subevents[Int.random(in: 0..<subevents.count, using: &g)] }
                // Never the live link's handle in a random Disconnection Complete.
                if code == 0x05, params.count >= 3, UInt16(params[1]) | UInt16(params[2]) << 8 == handle { params[2] ^= 0x08 }
                // No command credits, now and then.
                if code == 0x0E || code == 0x0F, !params.isEmpty, i % 4 == 0 { params[0] = 0 }
                let len = i % 10 == 3 ? UInt8.random(in: 0...255, using: &g) : UInt8(truncatingIfNeeded: params.count)
                injector.inject(HCIPacket(.event, [code, len] + params))
            }
        }
        // A controller that withheld command credits gives them back with a Command Complete for
        // no command (HCI_NOP, Vol 4 Part E 7.7.14).
        injector.inject(HCIPacket(.event, [0x0E, 0x03, 0x01, 0x00, 0x00]))

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
        #expect(madeUp.count > 500, "seed 0x\(String(seed, radix: 16))")

        // The host told one consistent story: every disconnect follows a connect of the same
        // handle and role, no handle connects twice, and the live link never ended.
        // (A scan starting and ending first: every injected packet has been handled by then.)
        try ble.gapScan(50, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone, timeout: 10) != nil, "seed 0x\(String(seed, radix: 16))")
        #expect(Self.connectionStoryProblems(rec.all).prefix(5) == [], "seed 0x\(String(seed, radix: 16))")
        #expect(Self.connectedHandles(rec.all).contains(handle), "seed 0x\(String(seed, radix: 16))")
        #expect(!rec.all.contains { $0.code == IRQ.peripheralDisconnect && $0.connHandle == handle }, "seed 0x\(String(seed, radix: 16))")
        // The peer saw nothing of it but the host's answers: its link was never dropped.
        #expect(peerRec.names(codes: [1, 2, 7, 8]) == ["_IRQ_CENTRAL_CONNECT"], "seed 0x\(String(seed, radix: 16))")

        // The controller ends every connection it made up: one disconnect each, in the story.
        let leftOver = Self.connectedHandles(rec.all).subtracting([handle])
        for h in leftOver.sorted() { injector.inject(HCIPacket(.event, [0x05, 0x04, 0x00] + le(h) + [0x13])) }
        #expect(rec.waitUntil(timeout: 5) { Self.connectedHandles($0) == [handle] }, "seed 0x\(String(seed, radix: 16))")

        // The live link still serves its attribute, with the right value.
        #expect(try Self.read(ble, rec, handle, valueHandle) == .success(value), "seed 0x\(String(seed, radix: 16))")

        // The controller ends the live link (a known handle): one disconnect, twice told or not.
        injector.inject(HCIPacket(.event, [0x05, 0x04, 0x00] + le(handle) + [0x08]))
        injector.inject(HCIPacket(.event, [0x05, 0x04, 0x00] + le(handle) + [0x08]))
        #expect(rec.next(timeout: 5) { $0.code == IRQ.peripheralDisconnect && $0.connHandle == handle } != nil, "seed 0x\(String(seed, radix: 16))")
        #expect(throws: BLEError.notConnected) { try ble.gattcRead(handle, valueHandle) }

        // And the host connects and reads again (another peer: the controller still holds the old link).
        let value2: [UInt8] = Array("a new link".utf8)
        let valueHandle2 = try Self.serve(peer2, value2)
        let (pt2, pa2) = try peer2.config(.mac)
        try peer2.gapAdvertise(20_000)
        try ble.gapConnect(pt2, pa2)
        let handle2 = try #require(rec.next(code: IRQ.peripheralConnect, timeout: 4)?.connHandle)
        #expect(try Self.read(ble, rec, handle2, valueHandle2) == .success(value2), "seed 0x\(String(seed, radix: 16))")
        #expect(Self.connectionStoryProblems(rec.all).prefix(5) == [], "seed 0x\(String(seed, radix: 16))")
        #expect(rec.all.filter { $0.code == IRQ.peripheralDisconnect && $0.connHandle == handle }.count == 1, "seed 0x\(String(seed, radix: 16))")
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

extension HostFuzzTests {
    /// A controller that withholds every command credit (a Command Complete for no command with
    /// Num_HCI_Command_Packets 0) and then says nothing more: a call that needs a command must end
    /// within its command timeout, as a call to a controller that never answers does; and once the
    /// controller gives a credit back (HCI_NOP with 1, Vol 4 Part E 7.7.14), commands flow again.
    @Test func withheldCommandCreditsEndInTheCommandTimeout() throws {
        let injector = InjectingTransport(VirtualController(radio: VirtualRadio()))
        let ble = BLE(controller: injector, commandTimeout: 0.5)
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        injector.inject(HCIPacket(.event, [0x0E, 0x03, 0x00, 0x00, 0x00]))
        let outcome = CallOutcome()
        let caller = Thread {
            do {
                try ble.gapScan(0, 30_000, 30_000)
                outcome.finish(nil)
            } catch {
                outcome.finish("\(error)")
            }
        }
        caller.start()
        // The call waits for a credit; it should give up after the 0.5 s command timeout (5 s is
        // ten times that), not after the call's 120 s safety bound.
        let ended = outcome.wait(timeout: 5)
        #expect(ended, "gapScan did not end within 5 s after the controller withheld every command credit")
        // The controller gives a credit back: the waiting command goes out and the stack works.
        injector.inject(HCIPacket(.event, [0x0E, 0x03, 0x01, 0x00, 0x00]))
        #expect(outcome.wait(timeout: 5))
        _ = try? ble.gapScan(nil)
        _ = rec.next(code: IRQ.scanDone, timeout: 5)
        try ble.gapScan(50, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone, timeout: 5) != nil)
    }
}

/// The end of a call made on another thread, with a bounded wait for it.
final class CallOutcome: @unchecked Sendable {
    // Safe: guarded by `condition`.
    private let condition = NSCondition()
    private var done = false
    private(set) var error: String?

    func finish(_ error: String?) {
        condition.lock()
        done = true
        self.error = error
        condition.broadcast()
        condition.unlock()
    }

    func wait(timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !done {
            if !condition.wait(until: deadline) { return done }
        }
        return true
    }
}
