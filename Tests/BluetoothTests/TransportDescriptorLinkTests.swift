import BluetoothCore
@testable import BluetoothTransport
import Foundation
import Glibc
import Testing

/// The reader/writer machinery under the POSIX transports, driven through a socketpair.
@Suite struct TransportDescriptorLinkTests {
    static func socketPair() -> (Int32, Int32)? {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            return nil
        }
        return (fds[0], fds[1])
    }

    @Test func aPeerThatStopsReadingEndsInAWriteTimeout() throws {
        let (mine, peer) = try #require(Self.socketPair())
        defer { close(peer) }
        var options = DescriptorLink.Options(isSocket: true, packetPerWrite: false)
        options.writeTimeoutMs = 200
        let link = try DescriptorLink(name: "pair", fd: mine, options: options)
        let collector = TransportTestCollector()
        try link.start(delegate: collector)
        defer { link.close() }

        // The peer never reads: the socket buffers fill, then one send waits 200 ms and fails.
        let big = HCIPacket(.acl, [0x01, 0x00, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 65_535))
        let start = Date()
        var sends = 0
        while !link.isClosed && sends < 1_000 && collector.closeEvents.isEmpty {
            link.send(big)
            sends += 1
        }
        #expect(collector.waitForClose())
        #expect(Date().timeIntervalSince(start) < 5)
        guard case .closed(let message)?? = collector.closeEvents.first else {
            Issue.record("expected .closed, got \(collector.closeEvents)")
            return
        }
        #expect(message.contains("write timed out"))
        #expect(collector.closeEvents.count == 1)
    }

    @Test func aWriteToAVanishedPeerClosesOnceWithoutSIGPIPE() throws {
        let (mine, peer) = try #require(Self.socketPair())
        let link = try DescriptorLink(name: "pair", fd: mine, options: .init(isSocket: true, packetPerWrite: false))
        let collector = TransportTestCollector()
        try link.start(delegate: collector)
        defer { link.close() }
        close(peer)
        for _ in 0..<50 { link.send(HCIPacket(.command, [0x03, 0x0C, 0x00])) }
        #expect(collector.waitForClose())
        #expect(!collector.wait(timeout: 0.2) { _, closes in closes.count > 1 })
    }

    @Test func closeWhileTheReaderIsBusyDeliveringStopsDelivery() throws {
        let (mine, peer) = try #require(Self.socketPair())
        defer { close(peer) }
        let link = try DescriptorLink(name: "pair", fd: mine, options: .init(isSocket: true, packetPerWrite: false))
        let collector = TransportTestCollector()
        try link.start(delegate: collector)
        var burst: [UInt8] = []
        for _ in 0..<10_000 { burst += [0x04, 0x0E, 0x00] }
        #expect(TransportTestIO.writeAll(peer, burst))
        #expect(collector.waitForPackets(1))
        link.close()
        let count = collector.received.count
        // After close returns nothing more is delivered, and no didClose is sent.
        #expect(!collector.wait(timeout: 0.2) { packets, closes in packets.count > count || !closes.isEmpty })
    }
}
