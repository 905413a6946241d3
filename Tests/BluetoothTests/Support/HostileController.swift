import Foundation
import BluetoothCore
import BluetoothSimulator
import BluetoothTransport
@testable import BluetoothHost
#if canImport(Glibc)
import Glibc
#endif

/// A controller a test can turn hostile, byte by byte. It listens on 127.0.0.1 (the host connects
/// with `tcp:127.0.0.1:PORT`, so the real TCP transport and H4 parser are in the path) and stands
/// in front of a real `VirtualController`: by default every packet passes both ways, so the host
/// initialises and works as usual. The test then scripts what goes wrong: packets rewritten or
/// dropped in either direction, any bytes injected (not only whole packets), the socket closed
/// (even mid-packet), or a controller that goes silent; `fakeLink` adds a link whose peer is a
/// closure answering L2CAP PDUs (a hostile GATT server in a few lines).
final class HostileController: HCITransportDelegate, @unchecked Sendable {
    // Safe: every mutable field is guarded by `condition`; socket writes are serialised by
    // `writeLock`; `listenFD` is closed only by the server thread when it ends.

    /// What happens to one packet on its way.
    enum Verdict {
        case pass
        case drop
        /// These raw bytes go instead (H4 indicator included; any bytes at all).
        case replace([UInt8])
        /// These raw bytes go instead, and then the connection closes (toward the host only).
        case replaceThenClose([UInt8])
    }

    let port: UInt16
    let controller: VirtualController
    private let listenFD: Int32
    private let condition = NSCondition()
    private let writeLock = NSLock()
    private var clientFD: Int32 = -1
    private var fromHost: [HCIPacket] = []
    private var stopped = false
    private var finished = false
    private var hostGone = false
    private var silent = false
    private var towardController: @Sendable (HCIPacket) -> Verdict = { _ in .pass }
    private var towardHost: @Sendable (HCIPacket) -> Verdict = { _ in .pass }
    private var fakeLinks: [UInt16: FakeLink] = [:]

    /// A link that exists only in this controller: the host's ACL for it is answered by `peer`.
    private struct FakeLink {
        var reassembler = ACLReassembler()
        let peer: @Sendable (_ cid: UInt16, _ payload: [UInt8]) -> [(cid: UInt16, payload: [UInt8])]
        var pdus = 0
    }

    init(radio: VirtualRadio = VirtualRadio(), configuration: VirtualController.Configuration = .init()) throws {
        controller = VirtualController(radio: radio, configuration: configuration)
        guard let (fd, port) = TransportTestIO.listenOnLoopback(backlog: 1) else {
            throw HostileControllerError("cannot listen on 127.0.0.1")
        }
        listenFD = fd
        self.port = port
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    deinit { stop() }

    /// The transport string a `BLE` uses to reach this controller.
    var transport: String { "tcp:127.0.0.1:\(port)" }

    // MARK: Scripting

    /// Decides the fate of each packet from the host (commands and ACL) before the controller sees it.
    func onHostPacket(_ verdict: @escaping @Sendable (HCIPacket) -> Verdict) {
        condition.lock()
        towardController = verdict
        condition.unlock()
    }

    /// Decides the fate of each packet from the controller before the host sees it.
    func onControllerPacket(_ verdict: @escaping @Sendable (HCIPacket) -> Verdict) {
        condition.lock()
        towardHost = verdict
        condition.unlock()
    }

    /// From now on nothing reaches the controller and nothing reaches the host (a controller that
    /// hangs); what the host sends is still recorded.
    func goSilent() {
        condition.lock()
        silent = true
        condition.unlock()
    }

    /// Writes raw bytes to the host (waits up to 5 s for it to connect). False if it is gone.
    @discardableResult
    func inject(_ bytes: [UInt8]) -> Bool {
        guard let fd = waitForClient() else { return false }
        writeLock.lock()
        defer { writeLock.unlock() }
        return TransportTestIO.writeAll(fd, bytes)
    }

    @discardableResult
    func inject(_ packet: HCIPacket) -> Bool { inject(packet.h4Bytes) }

    @discardableResult
    func inject<E: HCIEventParameters>(event: E) -> Bool { inject(event.packet) }

    /// Closes the host's connection, as a controller that dies does (after `partial` bytes, which
    /// may end mid-packet).
    func closeConnection(after partial: [UInt8] = []) {
        guard let fd = waitForClient() else { return }
        writeLock.lock()
        if !partial.isEmpty { TransportTestIO.writeAll(fd, partial) }
        shutdown(fd, Int32(SHUT_RDWR))
        writeLock.unlock()
    }

    /// Adds a link the host sees connected (LE Connection Complete, as central) whose peer is
    /// `peer`: the host's ACL on `handle` never reaches the radio; it is acknowledged with Number
    /// Of Completed Packets, reassembled, and each PDU handed to `peer`, whose answers go back
    /// to the host as whole PDUs.
    func fakeLink(handle: UInt16, peerAddress: BluetoothAddress = BluetoothAddress(value: 0xC0FF_EE00_0001),
                  peer: @escaping @Sendable (_ cid: UInt16, _ payload: [UInt8]) -> [(cid: UInt16, payload: [UInt8])]) {
        condition.lock()
        fakeLinks[handle] = FakeLink(peer: peer)
        condition.unlock()
        inject(event: HCI.LEConnectionComplete(status: .success, handle: handle, role: 0, peerAddressType: 1,
                                               peerAddress: peerAddress, interval: 24, latency: 0,
                                               supervisionTimeout: 400))
    }

    /// L2CAP PDUs the host sent on a fake link so far.
    func pduCount(handle: UInt16) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return fakeLinks[handle]?.pdus ?? 0
    }

    /// One whole L2CAP PDU as an ACL packet to the host.
    static func aclPacket(handle: UInt16, cid: UInt16, payload: [UInt8]) -> HCIPacket {
        var pdu = ByteWriter()
        pdu.u16(UInt16(truncatingIfNeeded: payload.count))
        pdu.u16(cid)
        pdu.append(payload)
        return HCIPacket(.acl, ACLHeader.packet(handle: handle, boundary: .firstFlushable, payload: pdu.bytes[...]))
    }

    // MARK: What the host did

    /// Every packet the host sent, in order.
    var received: [HCIPacket] {
        condition.lock()
        defer { condition.unlock() }
        return fromHost
    }

    /// Commands the host sent with `opcode`.
    func commands(_ opcode: UInt16) -> [HCIPacket] {
        received.filter { $0.type == .command && $0.bytes.count >= 2 && UInt16($0.bytes[0]) | UInt16($0.bytes[1]) << 8 == opcode }
    }

    /// Waits until the host has sent a command with `opcode` (at least `count` of them).
    @discardableResult
    func waitForCommand(_ opcode: UInt16, count: Int = 1, timeout: TimeInterval = 5) -> Bool {
        waitUntil(timeout: timeout) { packets in
            packets.filter { $0.type == .command && $0.bytes.count >= 2
                && UInt16($0.bytes[0]) | UInt16($0.bytes[1]) << 8 == opcode }.count >= count
        }
    }

    /// Waits until the host closed its connection.
    func waitForHostToLeave(timeout: TimeInterval = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !hostGone {
            if !condition.wait(until: deadline) { return hostGone }
        }
        return true
    }

    func waitUntil(timeout: TimeInterval = 5, _ predicate: ([HCIPacket]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(fromHost) {
            if !condition.wait(until: deadline) { return predicate(fromHost) }
        }
        return true
    }

    /// Stops serving and waits (bounded) for the server thread to end.
    func stop() {
        condition.lock()
        stopped = true
        if clientFD >= 0 { shutdown(clientFD, Int32(SHUT_RDWR)) }
        let deadline = Date(timeIntervalSinceNow: 5)
        while !finished {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
        controller.close()
    }

    // MARK: The controller's side

    func transport(didReceive packet: HCIPacket) {
        condition.lock()
        let verdict = silent ? .drop : towardHost(packet)
        let fd = clientFD
        condition.unlock()
        guard fd >= 0 else { return }
        let bytes: [UInt8]
        var thenClose = false
        switch verdict {
        case .pass: bytes = packet.h4Bytes
        case .drop: return
        case .replace(let raw): bytes = raw
        case .replaceThenClose(let raw):
            bytes = raw
            thenClose = true
        }
        writeLock.lock()
        TransportTestIO.writeAll(fd, bytes)
        if thenClose { shutdown(fd, Int32(SHUT_RDWR)) }
        writeLock.unlock()
    }

    func transport(didClose error: TransportError?) {}

    // MARK: Serving

    private func waitForClient(timeout: TimeInterval = 5) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while clientFD < 0 && !finished {
            if !condition.wait(until: deadline) { break }
        }
        return clientFD >= 0 ? clientFD : nil
    }

    private var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    private func serve() {
        defer {
            close(listenFD)
            condition.lock()
            finished = true
            hostGone = true
            condition.broadcast()
            condition.unlock()
        }
        var client: Int32 = -1
        let acceptDeadline = Date(timeIntervalSinceNow: 30)
        while client < 0 && !isStopped && Date() < acceptDeadline {
            var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 50) > 0 { client = accept(listenFD, nil, nil) }
        }
        guard client >= 0 else { return }
        do {
            try controller.open(delegate: self)
        } catch {
            close(client)
            return
        }
        condition.lock()
        clientFD = client
        condition.broadcast()
        condition.unlock()
        defer {
            controller.close()
            writeLock.lock()
            condition.lock()
            clientFD = -1
            condition.unlock()
            close(client)
            writeLock.unlock()
        }
        var parser = H4Parser()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !isStopped {
            var p = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 50) <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(client, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            guard let packets = try? parser.feed(buffer[0..<n]) else { return }
            for packet in packets { fromHostPacket(packet) }
        }
    }

    private func fromHostPacket(_ packet: HCIPacket) {
        condition.lock()
        fromHost.append(packet)
        condition.broadcast()
        let quiet = silent
        let verdict = quiet ? .drop : towardController(packet)
        var answers: [HCIPacket] = []
        if !quiet, case .pass = verdict, packet.type == .acl, let header = try? ACLHeader(parsing: packet.bytes),
           var link = fakeLinks[header.handle] {
            // A fake link: acknowledge the buffer at once, and let the peer answer whole PDUs.
            answers.append(HCI.NumberOfCompletedPackets(entries: [.init(handle: header.handle, count: 1)]).packet)
            let outcome = link.reassembler.receive(header: header, packet: packet.bytes, maxPayload: 0xFFFF).outcome
            if case let .pdu(cid, payload) = outcome {
                link.pdus += 1
                condition.unlock()
                let replies = link.peer(cid, payload)
                condition.lock()
                for r in replies { answers.append(Self.aclPacket(handle: header.handle, cid: r.cid, payload: r.payload)) }
            }
            fakeLinks[header.handle] = link
            let fd = clientFD
            condition.unlock()
            writeLock.lock()
            for a in answers { TransportTestIO.writeAll(fd, a.h4Bytes) }
            writeLock.unlock()
            return
        }
        condition.unlock()
        switch verdict {
        case .pass: controller.send(packet)
        case .drop: break
        case .replace(let raw), .replaceThenClose(let raw):
            var parser = H4Parser()
            for p in (try? parser.feed(raw)) ?? [] { controller.send(p) }
        }
    }
}

struct HostileControllerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
