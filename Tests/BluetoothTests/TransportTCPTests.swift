import BluetoothCore
import BluetoothTransport
import Foundation
import Glibc
import Testing

@Suite struct TransportTCPTests {
    static let reset = HCIPacket(.command, [0x03, 0x0C, 0x00])
    static let resetComplete = HCIPacket(.event, [0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00])

    @Test func resetRoundTrip() throws {
        let controller = try #require(TransportFakeController())
        defer { controller.stop() }
        let transport = TCPTransport(host: "127.0.0.1", port: controller.port)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        defer { transport.close() }

        transport.send(Self.reset)
        #expect(controller.waitForPackets(1))
        #expect(controller.received == [Self.reset])
        #expect(collector.waitForPackets(1))
        #expect(collector.received == [Self.resetComplete])
        #expect(collector.closeEvents.isEmpty)
    }

    @Test func localhostResolves() throws {
        let controller = try #require(TransportFakeController())
        defer { controller.stop() }
        let transport = TCPTransport(host: "localhost", port: controller.port)
        let collector = TransportTestCollector()
        do {
            try transport.open(delegate: collector)
        } catch {
            // localhost may resolve to ::1 first; the IPv4 address must still be tried.
            Issue.record("localhost did not connect: \(error)")
            return
        }
        defer { transport.close() }
        transport.send(Self.reset)
        #expect(collector.waitForPackets(1))
        #expect(collector.received == [Self.resetComplete])
    }

    @Test func packetsArriveInOrder() throws {
        var burst: [UInt8] = []
        var expected: [HCIPacket] = []
        for i in 0..<2_000 {
            let packet = HCIPacket(.event, [0x13, 0x05, 0x01, UInt8(truncatingIfNeeded: i), UInt8(i >> 8), 0x01, 0x00])
            expected.append(packet)
            burst += packet.h4Bytes
        }
        let big = HCIPacket(.acl, [0x40, 0x20, 0xFF, 0xFF] + [UInt8](repeating: 0x5A, count: 65_535))
        expected.append(big)
        burst += big.h4Bytes
        let controller = try #require(TransportFakeController(greeting: burst))
        defer { controller.stop() }
        let transport = TCPTransport(host: "127.0.0.1", port: controller.port)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        defer { transport.close() }
        #expect(collector.waitForPackets(expected.count))
        #expect(collector.received == expected)
    }

    @Test func manySendsFromSeveralThreads() throws {
        let controller = try #require(TransportFakeController(answersReset: false))
        defer { controller.stop() }
        let transport = TCPTransport(host: "127.0.0.1", port: controller.port)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        defer { transport.close() }
        let perThread = 500
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for i in 0..<perThread {
                transport.send(HCIPacket(.acl, [UInt8(t), 0x00, 0x02, 0x00, UInt8(truncatingIfNeeded: i), UInt8(i >> 8)]))
            }
        }
        #expect(controller.waitForPackets(4 * perThread))
        let got = controller.received
        #expect(got.count == 4 * perThread)
        // Each thread's packets arrive whole and in that thread's order.
        for t in 0..<4 {
            let mine = got.filter { $0.bytes.first == UInt8(t) }.map { Int($0.bytes[4]) | Int($0.bytes[5]) << 8 }
            #expect(mine == Array(0..<perThread))
        }
    }

    @Test func connectionRefusedFailsQuickly() throws {
        // A bound socket that does not listen: connecting to its port is refused.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        try #require(bound)
        let port = UInt16(bigEndian: addr.sin_port)

        let transport = TCPTransport(host: "127.0.0.1", port: port)
        let start = Date()
        do {
            try transport.open(delegate: TransportTestCollector())
            Issue.record("connecting to a closed port succeeded")
        } catch let error as TransportError {
            guard case .openFailed(let message) = error else {
                Issue.record("expected .openFailed, got \(error)")
                return
            }
            #expect(message.contains("refused"))
            #expect(message.contains("127.0.0.1:\(port)"))
        }
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test func unroutableAddressTimesOut() throws {
        // 192.0.2.1 is TEST-NET-1: never routed. Depending on the network the connect times out
        // or fails at once; either way it must end in openFailed within the timeout.
        let transport = TCPTransport(host: "192.0.2.1", port: 9, connectTimeoutMs: 300)
        let start = Date()
        #expect(throws: TransportError.self) { try transport.open(delegate: TransportTestCollector()) }
        #expect(Date().timeIntervalSince(start) < 3)
    }

    @Test func serverClosingGivesDidCloseOnce() throws {
        let controller = try #require(TransportFakeController())
        defer { controller.stop() }
        let transport = TCPTransport(host: "127.0.0.1", port: controller.port)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        defer { transport.close() }
        transport.send(Self.reset)
        #expect(collector.waitForPackets(1))
        controller.disconnectHost()
        #expect(collector.waitForClose())
        let closes = collector.closeEvents
        #expect(closes.count == 1)
        if case .closed(let message)?? = closes.first {
            #expect(message.contains("closed the connection"))
        } else {
            Issue.record("expected .closed, got \(String(describing: closes.first))")
        }
        // Sending after the link died must not crash or reopen anything.
        transport.send(Self.reset)
        transport.close()
        #expect(collector.closeEvents.count == 1)
    }

    @Test func badIndicatorFromControllerClosesWithFramingError() throws {
        let controller = try #require(TransportFakeController(greeting: [0x04, 0x0E, 0x00, 0xFF, 0x01]))
        defer { controller.stop() }
        let transport = TCPTransport(host: "127.0.0.1", port: controller.port)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        defer { transport.close() }
        #expect(collector.waitForClose())
        #expect(collector.received == [HCIPacket(.event, [0x0E, 0x00])])
        guard case .framing(let message)?? = collector.closeEvents.first else {
            Issue.record("expected .framing, got \(collector.closeEvents)")
            return
        }
        #expect(message.contains("0xff"))
    }

    @Test func localCloseIsIdempotentAndSilent() throws {
        let controller = try #require(TransportFakeController())
        defer { controller.stop() }
        let transport = TCPTransport(host: "127.0.0.1", port: controller.port)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        transport.send(Self.reset)
        #expect(collector.waitForPackets(1))
        transport.close()
        transport.close()
        transport.send(Self.reset)
        // The controller sees the host go away...
        #expect(controller.waitForPackets(1))
        // ...and the delegate hears nothing about a close it asked for.
        #expect(!collector.wait(timeout: 0.3) { _, closes in !closes.isEmpty })
    }

    @Test func closeFromInsideTheDelegateDoesNotDeadlock() throws {
        final class Closer: HCITransportDelegate, @unchecked Sendable {
            // @unchecked: `transport` is set once before open and only read afterwards.
            var transport: TCPTransport?
            let done = TransportTestSignal()
            func transport(didReceive packet: HCIPacket) {
                transport?.close()
                done.fire()
            }
            func transport(didClose error: TransportError?) {}
        }
        let controller = try #require(TransportFakeController())
        defer { controller.stop() }
        let transport = TCPTransport(host: "127.0.0.1", port: controller.port)
        let closer = Closer()
        closer.transport = transport
        try transport.open(delegate: closer)
        transport.send(Self.reset)
        #expect(closer.done.wait())
        transport.close()
    }

    @Test func openTwiceIsRefused() throws {
        let controller = try #require(TransportFakeController())
        defer { controller.stop() }
        let transport = TCPTransport(host: "127.0.0.1", port: controller.port)
        try transport.open(delegate: TransportTestCollector())
        defer { transport.close() }
        #expect(throws: TransportError.self) { try transport.open(delegate: TransportTestCollector()) }
    }
}
