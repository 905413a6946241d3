import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothSimulator

@Suite("Host: ACL reassembly")
struct HostACLReassemblyTests {
    func acl(_ handle: UInt16, _ boundary: ACLHeader.Boundary, _ payload: [UInt8]) -> [UInt8] {
        ACLHeader.packet(handle: handle, boundary: boundary, payload: payload[...])
    }

    /// The outcome a whole L2CAP PDU (`l2cap(...)` bytes) gives: its channel and payload.
    func whole(_ pdu: [UInt8]) -> ACLReassembler.Outcome {
        .pdu(cid: UInt16(pdu[2]) | UInt16(pdu[3]) << 8, payload: Array(pdu[4...]))
    }

    func l2cap(_ cid: UInt16, _ payload: [UInt8]) -> [UInt8] {
        [UInt8(payload.count & 0xFF), UInt8(payload.count >> 8), UInt8(cid & 0xFF), UInt8(cid >> 8)] + payload
    }

    @Test func wholePDUsAndFragmentsOfAnySize() {
        var r = ACLReassembler()
        let pdu = l2cap(0x0004, Array(0..<100))
        // Whole PDU in one packet, larger than any buffer size (Bumble's stock controller does this).
        #expect(r.receive(acl(1, .firstFlushable, pdu)).outcome == whole(pdu))
        // Fragments of every size from 1 to 30 bytes, including a header split across fragments.
        for size in 1...30 {
            var outcomes: [ACLReassembler.Outcome] = []
            var offset = 0
            while offset < pdu.count {
                let n = min(size, pdu.count - offset)
                outcomes.append(r.receive(acl(1, offset == 0 ? .firstFlushable : .continuing,
                                              Array(pdu[offset..<offset + n]))).outcome)
                offset += n
            }
            #expect(outcomes.last == whole(pdu))
            #expect(outcomes.dropLast().allSatisfy { $0 == .incomplete })
        }
    }

    @Test func interleavedLinksStayApart() {
        var r = ACLReassembler()
        let a = l2cap(4, [1, 2, 3, 4, 5, 6]), b = l2cap(4, [9, 8, 7, 6, 5, 4])
        #expect(r.receive(acl(1, .firstFlushable, Array(a[0..<5]))).outcome == .incomplete)
        #expect(r.receive(acl(2, .firstFlushable, Array(b[0..<3]))).outcome == .incomplete)
        #expect(r.receive(acl(1, .continuing, Array(a[5...]))).outcome == whole(a))
        #expect(r.receive(acl(2, .continuing, Array(b[3...]))).outcome == whole(b))
    }

    @Test func malformedInputIsDroppedNotTrapped() {
        var r = ACLReassembler()
        if case .dropped = r.receive([0x01]).outcome {} else { Issue.record("short header accepted") }
        if case .dropped = r.receive(acl(1, .continuing, [1, 2])).outcome {} else {
            Issue.record("continuation without start accepted")
        }
        // Length field disagreeing with the packet.
        if case .dropped = r.receive([0x01, 0x20, 0x05, 0x00, 0x01]).outcome {} else {
            Issue.record("bad ACL length accepted")
        }
        // More bytes than the L2CAP length says.
        if case .dropped = r.receive(acl(1, .firstFlushable, l2cap(4, [1, 2]) + [0xFF])).outcome {} else {
            Issue.record("overlong PDU accepted")
        }
        // A new start discards a half-received PDU, and says so.
        _ = r.receive(acl(3, .firstFlushable, [10, 0, 4, 0, 1]))
        let out = r.receive(acl(3, .firstFlushable, l2cap(4, [7])))
        #expect(out.outcome == whole(l2cap(4, [7])))
        #expect(out.discarded != nil)
    }

    /// Seeded random ACL packets on four links (well-formed headers with random boundaries and
    /// L2CAP lengths, and raw bytes): never a trap; every PDU handed up is whole (its basic header's
    /// length matches) and within the limit; what is held never exceeds one limit per link.
    @Test func randomFragmentsKeepTheInvariants() {
        let seed: UInt64 = 0xAC1_5EED
        var g = CodecSeededGenerator(seed: seed)
        var r = ACLReassembler()
        let limit = 300
        var pdus = 0, dropped = 0
        var handle: UInt16 = 1
        for i in 0..<20_000 {
            let bytes: [UInt8]
            if Int.random(in: 0..<10, using: &g) == 0 {
                bytes = g.bytes(count: Int.random(in: 0...12, using: &g))
            } else {
                var payload = g.bytes(count: Int.random(in: 0...80, using: &g))
                if payload.count >= 4, Int.random(in: 0..<3, using: &g) > 0 {
                    // A basic header that fits what follows (a whole PDU), spans several
                    // fragments, or declares anything up to 64 KB.
                    let declared = switch Int.random(in: 0..<3, using: &g) {
                    case 0: payload.count - 4
                    case 1: Int.random(in: 0...200, using: &g)
                    default: Int.random(in: 0...0xFFFF, using: &g)
                    }
                    payload[0] = UInt8(declared & 0xFF)
                    payload[1] = UInt8(declared >> 8)
                }
                // Mostly one link at a time, and as many continuations as starts, so long PDUs
                // build up.
                if Int.random(in: 0..<10, using: &g) == 0 { handle = UInt16.random(in: 1...4, using: &g) }
                let boundary: ACLHeader.Boundary = Bool.random(using: &g)
                    ? .continuing : (ACLHeader.Boundary(rawValue: UInt8.random(in: 0...3, using: &g)) ?? .continuing)
                bytes = acl(handle, boundary, payload)
            }
            let out = r.receive(bytes, maxPayload: limit)
            switch out.outcome {
            case let .pdu(_, payload):
                pdus += 1
                #expect(payload.count <= limit, "seed \(seed) step \(i): \(payload)")
            case .dropped: dropped += 1
            case .incomplete: break
            }
            let held = (UInt16(1)...4).map { r.bufferedBytes($0) }
            #expect(held.allSatisfy { $0 <= 4 + limit }, "seed \(seed) step \(i): \(held)")
            if held.contains(where: { $0 > 4 + limit }) { return }
        }
        // The mix reaches every outcome.
        #expect(pdus > 100 && dropped > 100, "seed \(seed): \(pdus) PDUs, \(dropped) dropped")
    }
}

@Suite("Host: ACL flow control")
struct HostACLOutboundTests {
    final class Sink: @unchecked Sendable {
        var packets: [[UInt8]] = []
    }

    @Test func fragmentsToBufferSizeAndWaitsForCredits() throws {
        let sink = Sink()
        let out = ACLOutbound { sink.packets.append($0.bytes) }
        out.configure(maxLength: 27, totalBuffers: 3)
        out.addLink(0x40)
        let pdu = Array(repeating: UInt8(0xAB), count: 100)
        #expect(out.send(handle: 0x40, pdu: pdu) == .queued)
        // 100 bytes in 27-byte fragments = 4 fragments, only 3 buffers.
        #expect(sink.packets.count == 3)
        #expect(out.queuedFragments(0x40) == 1)
        let h0 = try ACLHeader(parsing: sink.packets[0]), h1 = try ACLHeader(parsing: sink.packets[1])
        #expect(h0.boundary == .firstNonFlushable && h0.length == 27 && h0.handle == 0x40)
        #expect(h1.boundary == .continuing)
        out.completed(handle: 0x40, count: 2)
        out.pump()
        #expect(sink.packets.count == 4)
        #expect(try ACLHeader(parsing: sink.packets[3]).length == 19)
        // Reassembled, the payloads are the PDU.
        #expect(sink.packets.flatMap { $0.dropFirst(4) } == pdu)
        // Unknown links are refused; a disconnected link's buffers return.
        #expect(out.send(handle: 0x41, pdu: [1]) == .unknownLink)
        #expect(out.freeBuffers == 1)
        out.removeLink(0x40)
        #expect(out.freeBuffers == 3)
    }

    @Test func linksShareBuffersRoundRobin() {
        let sink = Sink()
        let out = ACLOutbound { sink.packets.append($0.bytes) }
        out.configure(maxLength: 10, totalBuffers: 2)
        out.addLink(1)
        out.addLink(2)
        out.send(handle: 1, pdu: Array(repeating: 1, count: 50))  // 5 fragments
        out.send(handle: 2, pdu: Array(repeating: 2, count: 50))
        #expect(sink.packets.count == 2)
        for _ in 0..<8 {
            let h = (try? ACLHeader(parsing: sink.packets.last ?? []))?.handle ?? 0
            out.completed(handle: h, count: 1)
            out.pump()
        }
        let handles = sink.packets.compactMap { try? ACLHeader(parsing: $0).handle }
        #expect(handles.count == 10)
        // Neither link waits for the other to finish: both appear in the first four.
        #expect(Set(handles.prefix(4)) == [1, 2])
        // An empty PDU still goes out as one fragment.
        out.send(handle: 1, pdu: [])
        #expect(out.anomalies == 0)
    }

    /// Bounded sends are refused when they would take a link past `maxQueuedBytes` waiting
    /// (unbounded ones never are); `onRoom` comes once when the queue has drained to half, only
    /// for a refused link.
    @Test func boundedSendsAreRefusedWhenTheLinkIsFullAndTheRoomIsSignalled() {
        let sink = Sink()
        let out = ACLOutbound { sink.packets.append($0.bytes) }
        final class Rooms: @unchecked Sendable { var handles: [UInt16] = [] }
        let rooms = Rooms()
        out.onRoom = { rooms.handles.append($0) }
        out.configure(maxLength: 27, totalBuffers: 2)
        out.maxQueuedBytes = 160
        out.addLink(1)
        out.addLink(2)
        // The first 40-byte PDU goes straight to the 2 buffers; then 4 wait (160 bytes).
        var results: [ACLOutbound.SendResult] = []
        for _ in 0..<7 { results.append(out.send(handle: 1, pdu: [UInt8](repeating: 1, count: 40), bounded: true)) }
        #expect(results == [.queued, .queued, .queued, .queued, .queued, .full, .full])
        #expect(out.queuedPDUs(1) == 4 && out.queuedBytes(1) == 160)
        // Control traffic is never refused; the other link is not affected.
        #expect(out.send(handle: 1, pdu: [9], bounded: false) == .queued)
        #expect(out.send(handle: 2, pdu: [2], bounded: true) == .queued)
        // A PDU larger than the bound is refused while anything waits (and goes on an empty queue).
        #expect(out.send(handle: 2, pdu: [UInt8](repeating: 2, count: 300), bounded: true) == .full)
        #expect(rooms.handles.isEmpty)
        // Buffers come back one at a time: each refused link is told once, when half the bound
        // (80 bytes, control PDUs included) or less waits on it.
        var waitingWhenSignalled: [Int] = []
        for _ in 0..<20 where !rooms.handles.contains(1) {
            out.completed(handle: 1, count: 1)
            out.completed(handle: 2, count: 1)
            out.pump()
            if rooms.handles.contains(1) { waitingWhenSignalled.append(out.queuedBytes(1)) }
        }
        #expect(waitingWhenSignalled == [41])
        #expect(out.send(handle: 1, pdu: [3], bounded: true) == .queued)
        for _ in 0..<20 {
            out.completed(handle: 1, count: 1)
            out.completed(handle: 2, count: 1)
            out.pump()
        }
        #expect(rooms.handles.sorted() == [1, 2])
        #expect(out.send(handle: 2, pdu: [UInt8](repeating: 2, count: 300), bounded: true) == .queued)
        #expect(out.queuedPDUs(1) == 0)
    }
}

/// A controller that never answers anything.
final class SilentController: HCITransport, @unchecked Sendable {
    let name = "silent"
    func open(delegate: HCITransportDelegate) throws {}
    func send(_ packet: HCIPacket) {}
    func close() {}
}

/// A transport that cannot open.
final class BrokenController: HCITransport, @unchecked Sendable {
    let name = "broken"
    func open(delegate: HCITransportDelegate) throws { throw TransportError.openFailed("no such controller") }
    func send(_ packet: HCIPacket) {}
    func close() {}
}

@Suite("Host: controller failures")
struct HostControllerFailureTests {
    @Test func silentControllerGivesAClearError() throws {
        let ble = BLE(controller: SilentController(), commandTimeout: 0.2)
        do {
            try ble.active(true)
            Issue.record("active(true) succeeded on a silent controller")
        } catch let e as BLEError {
            // Ended by Reset's own 0.2 s timeout (the host records which command and timeout),
            // not by the call's safety bound: no wall clock needed to tell.
            #expect(e == .timedOut)
            #expect(e.errno == 110)
            #expect(ble.host.read { $0.lastCommandFailure } == .timeout(HCIOpcode(rawValue: 0x0C03), seconds: 0.2))
        }
        #expect(ble.active() == false)
    }

    @Test func transportThatCannotOpen() throws {
        let ble = BLE(controller: BrokenController())
        #expect(throws: BLEError.io("cannot open transport: no such controller")) { try ble.active(true) }
        #expect(ble.active() == false)
    }

    @Test func badTransportStrings() throws {
        for s in ["", "bogus", "tcp:", "tcp:host", "serial:", "hci:x", "tcp:1.2.3.4:99999"] {
            #expect(throws: BLEError.self, "\(s)") { _ = try BLE(transport: s) }
        }
    }
}

/// Wraps a transport and swallows the commands with the given opcodes, as Bumble's stock
/// controller does with commands it has no handler for.
final class SwallowingTransport: HCITransport, @unchecked Sendable {
    let inner: HCITransport
    let swallowed: Set<UInt16>
    var name: String { inner.name }
    init(_ inner: HCITransport, swallowing opcodes: Set<UInt16>) {
        self.inner = inner
        swallowed = opcodes
    }
    func open(delegate: HCITransportDelegate) throws { try inner.open(delegate: delegate) }
    func send(_ packet: HCIPacket) {
        if packet.type == .command, packet.bytes.count >= 2,
           swallowed.contains(UInt16(packet.bytes[0]) | UInt16(packet.bytes[1]) << 8) { return }
        inner.send(packet)
    }
    func close() { inner.close() }
}

extension HostControllerFailureTests {
    @Test func aCommandThatIsNeverAnsweredFailsClearlyAndTheStackGoesOn() throws {
        let radio = VirtualRadio()
        // LE Set Advertising Enable (legacy) and LE Set Extended Advertising Enable.
        let controller = SwallowingTransport(VirtualController(radio: radio), swallowing: [0x200A, 0x2039])
        let ble = BLE(controller: controller, commandTimeout: 0.3)
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        do {
            try ble.gapAdvertise(100_000)
            Issue.record("advertising succeeded without an answer")
        } catch let e as BLEError {
            // Ended by the swallowed command's own 0.3 s timeout, not by the call's safety bound.
            #expect(e == .timedOut, "\(e)")
            #expect(ble.host.read { $0.lastCommandFailure } == .timeout(HCIOpcode(rawValue: 0x2039), seconds: 0.3))
        }
        // Later commands still flow.
        try ble.gapScan(50, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone, timeout: 3) != nil)
    }
}
