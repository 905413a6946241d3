import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothSimulator

/// Links on the virtual radio: ACL through fragmentation, flow control and reassembly; connection
/// parameter updates; the controller variants the host must cope with.
@Suite("Scenario: links")
struct ScenarioLinkTests {
    /// Connects `c` to `p`; returns (central handle, peripheral handle).
    static func connect(_ p: BLE, _ c: BLE, _ pr: EventRecorder, _ cr: EventRecorder) throws -> (UInt16, UInt16) {
        let (pt, pa) = try p.config(.mac)
        try p.gapAdvertise(20_000)
        try c.gapConnect(pt, pa)
        let ce = try #require(cr.next(code: IRQ.peripheralConnect, timeout: 4))
        let pe = try #require(pr.next(code: IRQ.centralConnect, timeout: 4))
        return (try #require(ce.connHandle), try #require(pe.connHandle))
    }

    final class Inbox: @unchecked Sendable {
        // Safe: guarded by `condition`.
        private let condition = NSCondition()
        private var items: [(UInt16, [UInt8])] = []
        func add(_ cid: UInt16, _ payload: [UInt8]) {
            condition.lock()
            items.append((cid, payload))
            condition.broadcast()
            condition.unlock()
        }
        func wait(count: Int, timeout: Double) -> [(UInt16, [UInt8])] {
            let deadline = Date(timeIntervalSinceNow: timeout)
            condition.lock()
            defer { condition.unlock() }
            while items.count < count, condition.wait(until: deadline) {}
            return items
        }
    }

    /// L2CAP PDUs of 0 to 3000 bytes both ways arrive whole and in order, whatever the buffer size.
    @Test(arguments: [
        VirtualController.Configuration(),
        VirtualController.Configuration(extendedAdvertising: false, aclDataPacketLength: 27, totalNumACLDataPackets: 3),
        VirtualController.Configuration(aclDataPacketLength: 64, totalNumACLDataPackets: 2, leBufferSize: .v1only),
        VirtualController.Configuration(aclDataPacketLength: 100, totalNumACLDataPackets: 4, leBufferSize: .sharedOnly),
    ])
    func l2capPDUsCrossTheLinkIntact(configuration: VirtualController.Configuration) throws {
        let radio = VirtualRadio()
        let pc = VirtualController(radio: radio, configuration: configuration)
        let cc = VirtualController(radio: radio, configuration: configuration)
        let p = BLE(controller: pc), c = BLE(controller: cc)
        let pr = EventRecorder(p), cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        defer {
            _ = try? p.active(false)
            _ = try? c.active(false)
        }
        // The host learned the controller's buffers through the right command.
        let learned = c.host.read { ($0.controller.aclLength, $0.controller.aclCount, $0.controller.useExtended) }
        #expect(learned.0 == Int(configuration.aclDataPacketLength))
        #expect(learned.1 == Int(configuration.totalNumACLDataPackets))
        #expect(learned.2 == configuration.extendedAdvertising)

        let (ch, ph) = try Self.connect(p, c, pr, cr)
        let toPeripheral = Inbox(), toCentral = Inbox()
        // Past the fixed channels' 517-byte limit, as L2CAP channels will allow.
        p.host.read { $0.unhandledL2CAP = { _, cid, payload in toPeripheral.add(cid, payload) }; $0.maxInboundL2CAPPayload = 3000 }
        c.host.read { $0.unhandledL2CAP = { _, cid, payload in toCentral.add(cid, payload) }; $0.maxInboundL2CAPPayload = 3000 }
        let sizes = [0, 1, 22, 23, 26, 27, 28, 100, 250, 251, 252, 512, 1000, 3000]
        func payload(_ n: Int, _ seed: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 * 7 + seed) } }
        try c.host.perform { h in
            for (i, n) in sizes.enumerated() { #expect(h.sendL2CAP(handle: ch, cid: 0x0040, payload: payload(n, i))) }
        }
        try p.host.perform { h in
            for (i, n) in sizes.enumerated() { #expect(h.sendL2CAP(handle: ph, cid: 0x0041, payload: payload(n, i + 1))) }
        }
        let got = toPeripheral.wait(count: sizes.count, timeout: 5)
        let back = toCentral.wait(count: sizes.count, timeout: 5)
        #expect(got.map(\.1) == sizes.enumerated().map { payload($0.element, $0.offset) })
        #expect(got.allSatisfy { $0.0 == 0x0040 })
        #expect(back.map(\.1) == sizes.enumerated().map { payload($0.element, $0.offset + 1) })
        // The host never overran the controller's buffers, and everything it sent was completed.
        #expect(pc.protocolViolations == 0)
        #expect(cc.protocolViolations == 0)
        #expect(c.host.read { $0.droppedACL } == 0)
    }

    /// Collects the LE signaling PDUs (CID 5) a device receives.
    static func signalingInbox(_ ble: BLE) -> Inbox {
        let inbox = Inbox()
        ble.host.read { $0.receivedL2CAP = { _, cid, payload in if cid == 0x0005 { inbox.add(cid, payload) } } }
        return inbox
    }

    @Test func connectionParameterUpdatesReachBothSides() throws {
        let radio = uniqueRadio()
        let p = try BLE(transport: radio), c = try BLE(transport: radio)
        let pr = EventRecorder(p), cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        defer {
            _ = try? p.active(false)
            _ = try? c.active(false)
        }
        let (ch, ph) = try Self.connect(p, c, pr, cr)
        let toPeripheral = Self.signalingInbox(p)
        // The central asks directly.
        try c.host.perform { try $0.updateConnection(ch, intervalMinUnits: 40, intervalMaxUnits: 40, latency: 0,
                                                     timeoutUnits: 400) }
        let cu = try #require(cr.next(code: IRQ.connectionUpdate, timeout: 3))
        let pu = try #require(pr.next(code: IRQ.connectionUpdate, timeout: 3))
        #expect(cu == .connectionUpdate(connHandle: ch, connInterval: 40, connLatency: 0, supervisionTimeout: 400, status: 0))
        #expect(pu == .connectionUpdate(connHandle: ph, connInterval: 40, connLatency: 0, supervisionTimeout: 400, status: 0))
        // The peripheral asks over L2CAP signaling (Vol 3 Part A 4.20); the central accepts
        // (Response, Vol 3 Part A 4.21: code 0x13, the request's identifier, length 2, result
        // 0x0000) and applies it.
        let request: [UInt8] = [0x12, 0x07, 0x08, 0x00, 0x18, 0x00, 0x18, 0x00, 0x02, 0x00, 0xC8, 0x00]
        try p.host.perform { #expect($0.sendL2CAP(handle: ph, cid: 0x0005, payload: request)) }
        #expect(toPeripheral.wait(count: 1, timeout: 3).map(\.1) == [[0x13, 0x07, 0x02, 0x00, 0x00, 0x00]])
        let cu2 = try #require(cr.next(code: IRQ.connectionUpdate, timeout: 3))
        #expect(cu2 == .connectionUpdate(connHandle: ch, connInterval: 24, connLatency: 2, supervisionTimeout: 200, status: 0))
        let pu2 = try #require(pr.next(code: IRQ.connectionUpdate, timeout: 3))
        #expect(pu2 == .connectionUpdate(connHandle: ph, connInterval: 24, connLatency: 2, supervisionTimeout: 200, status: 0))
        // Parameters out of range (minimum above maximum; then a supervision timeout too short for
        // the latency): rejected (result 0x0001), same identifiers, nothing applied.
        let minAboveMax: [UInt8] = [0x12, 0x08, 0x08, 0x00, 0x30, 0x00, 0x18, 0x00, 0x00, 0x00, 0xC8, 0x00]
        let timeoutTooShort: [UInt8] = [0x12, 0x09, 0x08, 0x00, 0x18, 0x00, 0x18, 0x00, 0x20, 0x00, 0x0A, 0x00]
        try p.host.perform {
            #expect($0.sendL2CAP(handle: ph, cid: 0x0005, payload: minAboveMax))
            #expect($0.sendL2CAP(handle: ph, cid: 0x0005, payload: timeoutTooShort))
        }
        #expect(toPeripheral.wait(count: 3, timeout: 3).dropFirst().map(\.1)
            == [[0x13, 0x08, 0x02, 0x00, 0x01, 0x00], [0x13, 0x09, 0x02, 0x00, 0x01, 0x00]])
        // The next update either side sees is the one asked for now: the rejected ones changed nothing.
        try c.host.perform { try $0.updateConnection(ch, intervalMinUnits: 50, intervalMaxUnits: 50, latency: 0,
                                                     timeoutUnits: 300) }
        #expect(cr.next(code: IRQ.connectionUpdate, timeout: 3)
            == .connectionUpdate(connHandle: ch, connInterval: 50, connLatency: 0, supervisionTimeout: 300, status: 0))
        #expect(pr.next(code: IRQ.connectionUpdate, timeout: 3)
            == .connectionUpdate(connHandle: ph, connInterval: 50, connLatency: 0, supervisionTimeout: 300, status: 0))
    }

    /// Commands the host does not serve get Command Reject "command not understood" (Vol 3 Part
    /// A 4.1: code 0x01, the command's identifier, length 2, reason 0x0000); a Command Reject or
    /// an unasked-for Response is not answered at all.
    @Test func signalingCommandsAreRejectedExactly() throws {
        let radio = uniqueRadio()
        let p = try BLE(transport: radio), c = try BLE(transport: radio)
        let pr = EventRecorder(p), cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        defer {
            _ = try? p.active(false)
            _ = try? c.active(false)
        }
        let (ch, ph) = try Self.connect(p, c, pr, cr)
        // Each inbox holds every signaling PDU its device received: the other side's commands
        // and answers, in order.
        let toPeripheral = Self.signalingInbox(p), toCentral = Self.signalingInbox(c)
        func reject(_ id: UInt8) -> [UInt8] { [0x01, id, 0x02, 0x00, 0x00, 0x00] }

        // An unknown code (reserved 0xEE, with data), and one with no data at all.
        let unknown: [UInt8] = [0xEE, 0x21, 0x03, 0x00, 0xAA, 0xBB, 0xCC], empty: [UInt8] = [0x00, 0x22, 0x00, 0x00]
        try p.host.perform {
            #expect($0.sendL2CAP(handle: ph, cid: 0x0005, payload: unknown))
            #expect($0.sendL2CAP(handle: ph, cid: 0x0005, payload: empty))
        }
        #expect(toPeripheral.wait(count: 2, timeout: 3).map(\.1) == [reject(0x21), reject(0x22)])

        // A Connection Parameter Update Request sent to the peripheral: only a central may take it.
        let request: [UInt8] = [0x12, 0x23, 0x08, 0x00, 0x18, 0x00, 0x18, 0x00, 0x00, 0x00, 0xC8, 0x00]
        try c.host.perform { #expect($0.sendL2CAP(handle: ch, cid: 0x0005, payload: request)) }
        #expect(toCentral.wait(count: 3, timeout: 3).map(\.1) == [unknown, empty, reject(0x23)])

        // A request with a data length the command does not have (6 bytes, not 8): rejected.
        let short: [UInt8] = [0x12, 0x24, 0x06, 0x00, 0x18, 0x00, 0x18, 0x00, 0x00, 0x00]
        try p.host.perform { #expect($0.sendL2CAP(handle: ph, cid: 0x0005, payload: short)) }
        #expect(toPeripheral.wait(count: 4, timeout: 3).map(\.1) == [reject(0x21), reject(0x22), request, reject(0x24)])

        // A Command Reject and an unasked-for Response get no answer: the next PDU the peripheral
        // receives is the reject of the unknown command sent after them.
        let response: [UInt8] = [0x13, 0x26, 0x02, 0x00, 0x00, 0x00], last: [UInt8] = [0xEE, 0x27, 0x00, 0x00]
        try p.host.perform {
            #expect($0.sendL2CAP(handle: ph, cid: 0x0005, payload: reject(0x25)))
            #expect($0.sendL2CAP(handle: ph, cid: 0x0005, payload: response))
            #expect($0.sendL2CAP(handle: ph, cid: 0x0005, payload: last))
        }
        #expect(toPeripheral.wait(count: 5, timeout: 3).map(\.1)
            == [reject(0x21), reject(0x22), request, reject(0x24), reject(0x27)])
        #expect(toCentral.wait(count: 7, timeout: 3).map(\.1)
            == [unknown, empty, reject(0x23), short, reject(0x25), response, last])
        // And the link is unharmed: no disconnect, no update.
        #expect(!cr.all.contains { $0.code == IRQ.peripheralDisconnect || $0.code == IRQ.connectionUpdate })
        #expect(!pr.all.contains { $0.code == IRQ.centralDisconnect || $0.code == IRQ.connectionUpdate })
    }

    @Test func hundredsOfDevicesOnOneRadio() throws {
        let radio = uniqueRadio()
        let count = 200
        var devices: [BLE] = []
        for i in 0..<count {
            let d = try BLE(transport: radio)
            try d.active(true)
            try d.gapAdvertise(100_000, advData: AdvertisingData.make(name: "dev-\(i)"), connectable: false)
            devices.append(d)
        }
        defer { for d in devices { _ = try? d.active(false) } }
        let scanner = try BLE(transport: radio)
        let heard = HeardSet()
        let rec = EventRecorder(scanner) { e in
            if case let .scanResult(_, a, _, _, _) = e { heard.insert(a) }
            return nil
        }
        try scanner.active(true)
        defer { _ = try? scanner.active(false) }
        try scanner.gapScan(0, 30_000, 30_000)
        #expect(rec.waitUntil(timeout: 10) { _ in heard.count >= count })
        try scanner.gapScan(nil)
        #expect(heard.count == count)
    }
}

final class HeardSet: @unchecked Sendable {
    // Safe: guarded by `lock`.
    private let lock = NSLock()
    private var set: Set<BluetoothAddress> = []
    func insert(_ a: BluetoothAddress) {
        lock.lock()
        set.insert(a)
        lock.unlock()
    }
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return set.count
    }
}
