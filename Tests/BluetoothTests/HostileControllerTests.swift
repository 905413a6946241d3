import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothSimulator

/// A host behind a controller that misbehaves on purpose (`HostileController`: the real TCP
/// transport and H4 parser, a real virtual controller behind a proxy the test scripts byte by
/// byte). Each test: no trap, no hang past the documented timeouts, bounded memory, a clear error.
@Suite("Host: hostile controllers")
struct HostileControllerTests {
    /// A device on `hostile`, with a short command timeout so the failures come fast.
    static func device(_ hostile: HostileController, commandTimeout: Double = 0.5) -> BLE {
        BLE(controller: TCPTransport(host: "127.0.0.1", port: hostile.port), commandTimeout: commandTimeout)
    }

    /// An active device on `hostile` with a fake link on `handle` whose peer records every PDU
    /// it gets (and answers none), once the host has reported the link.
    static func linkedDevice(_ hostile: HostileController, handle: UInt16) throws
        -> (BLE, EventRecorder, ScenarioLinkTests.Inbox)
    {
        let ble = device(hostile)
        let rec = EventRecorder(ble)
        let answers = ScenarioLinkTests.Inbox()
        try ble.active(true)
        hostile.fakeLink(handle: handle) { cid, pdu in
            answers.add(cid, pdu)
            return []
        }
        _ = try #require(rec.next(code: IRQ.peripheralConnect))
        return (ble, rec, answers)
    }

    /// Makes the host handle everything injected so far: a Connection Complete for `probe` is
    /// injected behind it, and its event waited for (the host handles packets in order).
    static func sync(_ hostile: HostileController, _ rec: EventRecorder, probe handle: UInt16,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(trySync(hostile, rec, probe: handle), "the host did not handle the probe", sourceLocation: sourceLocation)
    }

    /// `sync` that reports instead of failing the test (for hosts that may have gone down).
    static func trySync(_ hostile: HostileController, _ rec: EventRecorder, probe handle: UInt16) -> Bool {
        let address = BluetoothAddress(value: 0xC000_0000_0000 | UInt64(handle))
        hostile.inject(event: HCI.LEConnectionComplete(status: .success, handle: handle, role: 1, peerAddressType: 1,
                                                       peerAddress: address, interval: 24, latency: 0,
                                                       supervisionTimeout: 400))
        return rec.next(timeout: 5) { $0 == .centralConnect(connHandle: handle, addrType: .random, addr: address) } != nil
    }

    /// Whether the host sent at least `count` commands with either opcode (legacy or extended form).
    static func waitForCommands(_ hostile: HostileController, _ a: UInt16, or b: UInt16, count: Int) -> Bool {
        hostile.waitUntil { packets in
            packets.filter { p in
                guard p.type == .command, p.bytes.count >= 2 else { return false }
                let op = UInt16(p.bytes[0]) | UInt16(p.bytes[1]) << 8
                return op == a || op == b
            }.count >= count
        }
    }

    /// Seconds `body` took.
    static func timed(_ body: () throws -> Void) rethrows -> Double {
        let t0 = Date()
        try body()
        return Date().timeIntervalSince(t0)
    }

    // MARK: Command flow control

    /// Num_HCI_Command_Packets = 0 in a Command Complete for an opcode never sent, while idle: the
    /// next call waits one command timeout for a credit, then fails with `.timedOut`; `active(false)`
    /// ends within the same bound; nothing waits 120 s.
    @Test func aControllerThatGrantsNoCreditFailsTheCallWithTimedOut() throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let ble = Self.device(hostile)
        let rec = EventRecorder(ble)
        try ble.active(true)
        hostile.inject(event: HCI.CommandComplete(numHCICommandPackets: 0, opcode: HCIOpcode(rawValue: 0xFC01),
                                                  returnParameters: [0x00]))
        try Self.sync(hostile, rec, probe: 0x0001)
        let scanTime = Self.timed {
            #expect(throws: BLEError.timedOut) { try ble.gapScan(2000) }
        }
        #expect(scanTime < 5, "gapScan took \(scanTime) s")
        // The scan never started: no scanDone is owed, and no scan command reached the controller.
        #expect(hostile.commands(0x200B).isEmpty && hostile.commands(0x2041).isEmpty)
        // After a credit wait expires with nothing in flight, the host tries again: a controller that
        // sent 0 by mistake recovers, and this one (which answers) does.
        try ble.gapScan(20, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone, timeout: 5) != nil)
        let offTime = Self.timed { _ = try? ble.active(false) }
        #expect(offTime < 5, "active(false) took \(offTime) s")
        #expect(hostile.waitForHostToLeave())
    }

    /// A controller that stops answering (and stops reading) mid-session: every call fails with
    /// `.timedOut` within the command timeout, and `active(false)` still ends and closes the transport.
    @Test func aControllerGoneSilentEndsInTimedOutNotAHang() throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let ble = Self.device(hostile)
        try ble.active(true)
        hostile.goSilent()
        let t = Self.timed {
            #expect(throws: BLEError.timedOut) { try ble.gapScan(2000) }
            #expect(throws: BLEError.timedOut) { try ble.gapAdvertise(100_000) }
        }
        #expect(t < 8, "two calls took \(t) s")
        let offTime = Self.timed { _ = try? ble.active(false) }
        #expect(offTime < 5, "active(false) took \(offTime) s")
        #expect(ble.active() == false)
        #expect(hostile.waitForHostToLeave())
    }

    /// Command Completes and Command Statuses for commands never sent, with every credit count: ignored.
    @Test func answersToCommandsNeverSentAreIgnored() throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let ble = Self.device(hostile)
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        for (i, opcode) in [UInt16(0x0000), 0x0C03, 0x200B, 0x2005, 0xFFFF, 0x1009].enumerated() {
            hostile.inject(event: HCI.CommandComplete(numHCICommandPackets: UInt8(i % 3 + 1), opcode: HCIOpcode(rawValue: opcode),
                                                      returnParameters: Array(repeating: UInt8(i), count: i * 7)))
            hostile.inject(event: HCI.CommandStatus(status: .commandDisallowed, numHCICommandPackets: 1,
                                                    opcode: HCIOpcode(rawValue: opcode)))
        }
        try Self.sync(hostile, rec, probe: 0x0002)
        try ble.gapScan(20, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone, timeout: 5) != nil)
    }

    // MARK: Events the host must survive

    /// Events whose length field disagrees with their parameters, or that end early: dropped with a
    /// warning, the host goes on.
    @Test func truncatedAndWrongLengthEventsAreDropped() throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let ble = Self.device(hostile)
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        let bad: [[UInt8]] = [
            [0x0E, 0x01, 0x01],                                   // Command Complete without an opcode
            [0x0F, 0x02, 0x00, 0x01],                             // Command Status cut short
            [0x05, 0x02, 0x00, 0x40],                             // Disconnection Complete without a reason
            [0x13, 0x05, 0x02, 0x40, 0x00, 0x01, 0x00],           // NOCP: 2 entries announced, 1 given
            [0x3E, 0x05, 0x01, 0x00, 0x40, 0x00, 0x00],           // LE Connection Complete cut short
            [0x3E, 0x03, 0x02, 0x05, 0x00],                       // 5 advertising reports announced, none given
            [0x3E, 0x00],                                         // LE Meta without a subevent
            [0x3E, 0x0C, 0x0D, 0x01, 0x13, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x01], // extended report cut
            [0x1A, 0x00],                                         // Data Buffer Overflow without its link type
        ]
        for b in bad { hostile.inject([0x04] + b) }
        try Self.sync(hostile, rec, probe: 0x0003)
        #expect(rec.all.filter { $0.code != IRQ.centralConnect }.isEmpty, "\(rec.all)")
        try ble.gapScan(20, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone, timeout: 5) != nil)
    }

    /// Floods of Number Of Completed Packets (unknown handles, huge counts) never inflate the host's
    /// idea of free controller buffers, and a flood of LE Connection Complete raises one event per
    /// new handle and ignores repeats.
    @Test func floodsOfCompletedPacketsAndConnectionCompletes() throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let ble = Self.device(hostile, commandTimeout: 1)
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        var g = CodecSeededGenerator(seed: 0x0F10_0D)
        for _ in 0..<2000 {
            let entries = (0..<Int.random(in: 0...8, using: &g)).map { _ in
                HCI.NumberOfCompletedPackets.Entry(handle: UInt16.random(in: 0...0x0FFF, using: &g),
                                                   count: UInt16.random(in: 0...0xFFFF, using: &g))
            }
            hostile.inject(event: HCI.NumberOfCompletedPackets(entries: entries))
        }
        for handle in UInt16(0x100)..<0x300 {
            for _ in 0..<2 {
                hostile.inject(event: HCI.LEConnectionComplete(status: .success, handle: handle, role: 1, peerAddressType: 0,
                                                               peerAddress: BluetoothAddress(value: UInt64(handle)),
                                                               interval: 24, latency: 0, supervisionTimeout: 400))
            }
        }
        try Self.sync(hostile, rec, probe: 0x0004)
        let connects = rec.all.filter { $0.code == IRQ.centralConnect }.compactMap(\.connHandle)
        #expect(connects.count == 0x200 + 1)
        #expect(Set(connects).count == connects.count)
        let (free, total) = ble.host.read { ($0.acl.freeBuffers, $0.acl.totalBuffers) }
        #expect(free <= total)
        #expect(free == total)
    }

    // MARK: A hostile GATT server

    /// A server whose every discovery response repeats the same result (a group at handle 1, a
    /// characteristic at handle 2, a descriptor at handle 3): each discovery ends after the second
    /// response with `protocolError` and raises no result twice (before the fix it looped forever:
    /// 70 000 requests in 20 s).
    @Test(arguments: ["services", "servicesByUUID", "characteristics", "descriptors"])
    func aDiscoveryThatDoesNotAdvanceEndsWithAnError(kind: String) throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let ble = Self.device(hostile)
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        let handle: UInt16 = 0x0040
        hostile.fakeLink(handle: handle) { cid, pdu in
            guard cid == 0x0004, let opcode = pdu.first else { return [] }
            switch opcode {
            case 0x10: return [(0x0004, [0x11, 0x06, 0x01, 0x00, 0x05, 0x00, 0x00, 0x18])]  // group 1-5, GAP
            case 0x06: return [(0x0004, [0x07, 0x01, 0x00, 0x05, 0x00])]                    // found 1-5
            case 0x08: return [(0x0004, [0x09, 0x07, 0x02, 0x00, 0x02, 0x03, 0x00, 0x00, 0x2A])]  // decl 2, value 3
            case 0x04: return [(0x0004, [0x05, 0x01, 0x03, 0x00, 0x02, 0x29])]              // 3: CCCD
            default: return [(0x0004, [0x01, opcode, 0x00, 0x00, 0x06])]
            }
        }
        _ = try #require(rec.next(code: IRQ.peripheralConnect))
        let (resultCode, doneCode): (Int, Int)
        switch kind {
        case "services":
            try ble.gattcDiscoverServices(handle)
            (resultCode, doneCode) = (9, 10)
        case "servicesByUUID":
            try ble.gattcDiscoverServices(handle, BluetoothUUID(0x1800))
            (resultCode, doneCode) = (9, 10)
        case "characteristics":
            try ble.gattcDiscoverCharacteristics(handle, 1, 0xFFFF)
            (resultCode, doneCode) = (11, 12)
        default:
            try ble.gattcDiscoverDescriptors(handle, 2, 0x20)
            (resultCode, doneCode) = (13, 14)
        }
        let done = try #require(rec.next(code: doneCode, timeout: 5))
        let status: Int? = switch done {
        case let .gattcServiceDone(_, s), let .gattcCharacteristicDone(_, s), let .gattcDescriptorDone(_, s): s
        default: nil
        }
        #expect(status == BLEStatus.protocolError)
        let results = rec.all.filter { $0.code == resultCode }
        // The first response is valid; a characteristic is held until its end is known, and the
        // procedure failed before that, so none is raised.
        #expect(results.count == (kind == "characteristics" ? 0 : 1), "\(results)")
        #expect(hostile.pduCount(handle: handle) == 2)
    }

    /// ATT_MULTIPLE_HANDLE_VALUE_NTF (0x23) from a server: one `gattcNotify` per value, in order; a
    /// malformed one (a single tuple, a length past the end) is dropped and, being a command-like
    /// PDU, gets no Error Response.
    @Test func multipleHandleValueNotificationsArriveAsOneNotifyEach() throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let handle: UInt16 = 0x0042
        let (ble, rec, answers) = try Self.linkedDevice(hostile, handle: handle)
        defer { _ = try? ble.active(false) }
        func att(_ pdu: [UInt8]) { hostile.inject(HostileController.aclPacket(handle: handle, cid: 0x0004, payload: pdu)) }
        att([0x23, 0x10, 0x00, 0x01, 0x00, 0xAA, 0x20, 0x00, 0x03, 0x00, 0x01, 0x02, 0x03, 0x30, 0x00, 0x00, 0x00])
        att([0x23, 0x10, 0x00, 0x01, 0x00, 0xAA])               // one tuple only
        att([0x23, 0x10, 0x00, 0x09, 0x00, 0xAA, 0x20, 0x00])   // a length past the end
        att([0x1B, 0x40, 0x00, 0x07])                           // a plain notification after them
        #expect(rec.waitUntil { $0.filter { $0.code == 18 }.count >= 4 })
        let notifies = rec.all.filter { $0.code == 18 }
        #expect(notifies == [
            .gattcNotify(connHandle: handle, valueHandle: 0x10, notifyData: [0xAA]),
            .gattcNotify(connHandle: handle, valueHandle: 0x20, notifyData: [0x01, 0x02, 0x03]),
            .gattcNotify(connHandle: handle, valueHandle: 0x30, notifyData: []),
            .gattcNotify(connHandle: handle, valueHandle: 0x40, notifyData: [0x07]),
        ])
        #expect(answers.wait(count: 1, timeout: 0.2).isEmpty)
    }

    // MARK: ACL the host must not keep

    /// First fragments of 64 KB PDUs for every one of the 4096 handles, none connected: nothing is
    /// kept (before the fix: 64 KB per handle, hundreds of MB); each is dropped and counted.
    @Test func aclForUnknownHandlesIsDroppedBeforeReassembly() throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let ble = Self.device(hostile)
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        // Half of them declare 64 KB, half a PDU under the host's limit (which reassembly would
        // otherwise hold: 4096 x 500 bytes).
        let big = [0xFF, 0xFF, 0x04, 0x00] + [UInt8](repeating: 0xAB, count: 1020)
        let small = [0xF4, 0x01, 0x04, 0x00] + [UInt8](repeating: 0xCD, count: 250)
        for handle in UInt16(0)...0x0FFF {
            let fragment = handle % 2 == 0 ? big : small
            hostile.inject(HCIPacket(.acl, ACLHeader.packet(handle: handle, boundary: .firstFlushable, payload: fragment[...])))
        }
        try Self.sync(hostile, rec, probe: 0x0005)
        let (buffered, dropped) = ble.host.read { ($0.reassembler.bufferedBytes, $0.droppedACL) }
        #expect(buffered == 0)
        #expect(dropped == 4096)
    }

    /// On a live link: a PDU that declares more than the host accepts is dropped with all its
    /// fragments at once, a 64 KB ACL packet too, bogus L2CAP lengths are dropped, and at most one
    /// limit's worth is ever held; the link then serves a request as before.
    @Test func reassemblyIsBoundedPerLinkAndTheLinkGoesOn() throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let handle: UInt16 = 0x0040
        let (ble, rec, answers) = try Self.linkedDevice(hostile, handle: handle)
        defer { _ = try? ble.active(false) }
        let limit = ble.host.read { $0.maxInboundL2CAPPayload }
        func acl(_ boundary: ACLHeader.Boundary, _ payload: [UInt8]) {
            hostile.inject(HCIPacket(.acl, ACLHeader.packet(handle: handle, boundary: boundary, payload: payload[...])))
        }
        // 64 KB declared, then 200 continuations of 1000 bytes: nothing kept.
        acl(.firstFlushable, [0xFF, 0xFF, 0x04, 0x00] + [UInt8](repeating: 1, count: 1000))
        for _ in 0..<200 { acl(.continuing, [UInt8](repeating: 2, count: 1000)) }
        // One 64 KB ACL packet (the ACL length field's limit).
        acl(.firstFlushable, [0xFB, 0xFF, 0x04, 0x00] + [UInt8](repeating: 3, count: 0xFFFB))
        // An L2CAP length shorter than the fragment carries; a continuation without a start.
        acl(.firstFlushable, [0x01, 0x00, 0x04, 0x00, 0x0A, 0x03, 0x00])
        acl(.continuing, [0x0A, 0x03, 0x00])
        // A PDU just under the limit, half sent: held, and no more than the limit.
        acl(.firstFlushable, [UInt8(limit & 0xFF), UInt8(limit >> 8), 0x04, 0x00] + [UInt8](repeating: 4, count: limit / 2))
        try Self.sync(hostile, rec, probe: 0x0006)
        let (buffered, dropped) = ble.host.read { ($0.reassembler.bufferedBytes, $0.droppedACL) }
        #expect(buffered == 4 + limit / 2)
        #expect(dropped == 1 + 200 + 1 + 1 + 1)
        // A new start replaces the half PDU: a Read Request for the Device Name is answered.
        acl(.firstFlushable, [0x03, 0x00, 0x04, 0x00, 0x0A, 0x03, 0x00])
        let got = answers.wait(count: 1, timeout: 5)
        #expect(got.count == 1)
        #expect(got.first?.0 == 0x0004)
        #expect(got.first?.1.first == 0x0B, "\(got)")
        #expect(ble.host.read { $0.reassembler.bufferedBytes } == 0)
    }

    // MARK: Sessions that end on their own

    /// The controller dies mid-scan: `scanDone` comes, and in the handler the radio is already off
    /// with `sessionFailure` saying why; a normal scan end leaves both as they were.
    @Test(arguments: ["close", "closeMidPacket", "garbage"])
    func theTransportFailingMidScanIsTellableFromANormalEnd(how: String) throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let ble = Self.device(hostile)
        let seen = Locked<[String]>([])
        let rec = EventRecorder(ble) { [weak ble] e in
            if e == .scanDone, let ble {
                seen.withLock { $0.append("active=\(ble.active()) failure=\(ble.sessionFailure?.description ?? "nil")") }
            }
            return nil
        }
        try ble.active(true)
        try ble.gapScan(20, 30_000, 30_000)
        _ = try #require(rec.next(code: IRQ.scanDone))
        #expect(seen.value == ["active=true failure=nil"])
        try ble.gapScan(0)
        // Enable, disable, enable: the second scan is on (legacy or extended command).
        #expect(Self.waitForCommands(hostile, 0x200C, or: 0x2042, count: 3))
        switch how {
        case "close": hostile.closeConnection()
        case "closeMidPacket": hostile.closeConnection(after: [0x04, 0x0E, 0x04, 0x01, 0x0C])
        default: hostile.inject([0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00, 0x99, 0x01, 0x02, 0x03])
        }
        _ = try #require(rec.next(code: IRQ.scanDone))
        let line = try #require(seen.value.last)
        #expect(line.hasPrefix("active=false failure=I/O error: the session ended"), "\(line)")
        if how == "garbage" { #expect(line.contains("0x99"), "\(line)") }
        #expect(ble.active() == false)
        #expect(ble.sessionFailure != nil)
    }

    // MARK: Random input

    /// Seeded random HCI traffic (well-framed events and ACL of any content, then raw bytes) at a
    /// live host: it never traps; either the session survives and still works, or it ended with
    /// `sessionFailure` set. Prints the seed of a failing run.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func randomTrafficNeverTrapsAndEndsCleanly(seed: UInt64) throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let ble = Self.device(hostile, commandTimeout: 0.5)
        let rec = EventRecorder(ble)
        try ble.active(true)
        var g = CodecSeededGenerator(seed: seed)
        for _ in 0..<3000 {
            switch Int.random(in: 0..<10, using: &g) {
            case 0..<6:
                // An event with a consistent length byte and random parameters.
                let code = [UInt8(0x05), 0x0E, 0x0F, 0x13, 0x3E, 0x3E, 0x1A, 0x10, 0x08][Int.random(in: 0..<9, using: &g)]
                let params = g.bytes(count: Int.random(in: 0...40, using: &g))
                hostile.inject([0x04, code, UInt8(params.count)] + params)
            case 6..<9:
                let payload = g.bytes(count: Int.random(in: 0...60, using: &g))
                let handle = UInt16.random(in: 0...4, using: &g)
                hostile.inject(HCIPacket(.acl, ACLHeader.packet(
                    handle: handle, boundary: ACLHeader.Boundary(rawValue: UInt8.random(in: 0...3, using: &g)) ?? .continuing,
                    payload: payload[...])))
            default:
                if seed % 2 == 0 { hostile.inject(g.bytes(count: Int.random(in: 1...8, using: &g))) }
            }
        }
        // Either the host still handles events and calls (a call may fail with a typed error: the
        // random traffic may have taken its credits or answered its commands), or its session
        // ended with a reason.
        if Self.trySync(hostile, rec, probe: 0x0EEE) {
            do {
                try ble.gapScan(20, 30_000, 30_000)
                #expect(rec.next(code: IRQ.scanDone, timeout: 5) != nil, "seed \(seed)")
            } catch let e as BLEError {
                #expect(ble.active() || ble.sessionFailure != nil, "seed \(seed): \(e)")
            }
        } else {
            #expect(ble.active() == false, "seed \(seed)")
            #expect(ble.sessionFailure != nil, "seed \(seed)")
        }
        let off = Self.timed { _ = try? ble.active(false) }
        #expect(off < 5, "seed \(seed): active(false) took \(off) s")
    }

    // MARK: Releasing a device

    /// Dropping the last reference to a connected `BLE` tears it down: the peer sees the disconnect
    /// and the virtual controller leaves the radio.
    @Test func releasingAConnectedDeviceDisconnectsItsLinks() throws {
        let radio = VirtualRadio()
        let peripheral = BLE(controller: VirtualController(radio: radio))
        let pr = EventRecorder(peripheral)
        try peripheral.active(true)
        defer { _ = try? peripheral.active(false) }
        let closed = TransportTestSignal()
        do {
            let central = BLE(controller: ClosingTransport(VirtualController(radio: radio), closed))
            let cr = EventRecorder(central)
            try central.active(true)
            _ = try ScenarioLinkTests.connect(peripheral, central, pr, cr)
            #expect(radio.controllerCount == 2)
        }
        // Remote Power Off (0x15), as active(false) does.
        let e = pr.next(code: IRQ.centralDisconnect, timeout: 5)
        #expect(e != nil)
        #expect(closed.wait(timeout: 5))
        #expect(radio.controllerCount == 1)
    }

    /// A transport that fires a signal when the host closes it.
    final class ClosingTransport: HCITransport, @unchecked Sendable {
        // Safe: both fields are immutable.
        let inner: HCITransport
        let closed: TransportTestSignal
        var name: String { inner.name }
        init(_ inner: HCITransport, _ closed: TransportTestSignal) {
            self.inner = inner
            self.closed = closed
        }
        func open(delegate: HCITransportDelegate) throws { try inner.open(delegate: delegate) }
        func send(_ packet: HCIPacket) { inner.send(packet) }
        func close() {
            inner.close()
            closed.fire()
        }
    }

    /// The same over TCP: the controller sees Disconnect and Reset, and the transport closes.
    @Test func releasingADeviceClosesItsTransport() throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        let answers = ScenarioLinkTests.Inbox()
        do {
            let ble = Self.device(hostile)
            let rec = EventRecorder(ble)
            try ble.active(true)
            hostile.fakeLink(handle: 0x0041) { cid, payload in
                answers.add(cid, payload)
                return []
            }
            _ = try #require(rec.next(code: IRQ.peripheralConnect))
        }
        #expect(hostile.waitForCommand(0x0406))  // Disconnect
        #expect(hostile.waitForHostToLeave())
        let disconnect = try #require(hostile.commands(0x0406).last)
        #expect(disconnect.bytes == [0x06, 0x04, 0x03, 0x41, 0x00, 0x15])
    }
}
