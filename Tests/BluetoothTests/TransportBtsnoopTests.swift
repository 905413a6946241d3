import BluetoothCore
@testable import BluetoothTransport
import Foundation
import Glibc
import Testing

@Suite struct TransportBtsnoopTests {
    static let reset = HCIPacket(.command, [0x03, 0x0C, 0x00])
    static let resetComplete = HCIPacket(.event, [0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00])

    @Test func fileHeaderBytes() throws {
        let dir = try transportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("h.btsnoop").path
        let writer = try BtsnoopWriter(path: path)
        writer.close()
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(data == [0x62, 0x74, 0x73, 0x6E, 0x6F, 0x6F, 0x70, 0x00,
                         0x00, 0x00, 0x00, 0x01,
                         0x00, 0x00, 0x03, 0xEA])
    }

    @Test func recordBytesForAKnownPacketAndTime() {
        // 2023-11-14 22:13:20.123456 UTC, as microseconds since the Unix epoch.
        let record = BtsnoopWriter.record(Self.reset, direction: .sent, unixMicroseconds: 1_700_000_000_123_456)
        #expect(record == [
            0x00, 0x00, 0x00, 0x04,                          // original length (indicator + 3)
            0x00, 0x00, 0x00, 0x04,                          // included length
            0x00, 0x00, 0x00, 0x02,                          // flags: sent, command
            0x00, 0x00, 0x00, 0x00,                          // drops
            0x00, 0xE2, 0xE7, 0xD7, 0x27, 0x4F, 0xA2, 0x40,  // µs since 0 AD
            0x01, 0x03, 0x0C, 0x00,                          // H4 packet
        ])
        let epoch = BtsnoopWriter.record(Self.resetComplete, direction: .received, unixMicroseconds: 0)
        #expect(Array(epoch[0..<24]) == [0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 0,
                                        0x00, 0xDC, 0xDD, 0xB3, 0x0F, 0x2F, 0x80, 0x00])
        #expect(Array(epoch[24...]) == Self.resetComplete.h4Bytes)
    }

    @Test func flagsForEveryDirectionAndType() {
        #expect(BtsnoopWriter.flags(for: .command, direction: .sent) == 2)
        #expect(BtsnoopWriter.flags(for: .event, direction: .received) == 3)
        #expect(BtsnoopWriter.flags(for: .acl, direction: .sent) == 0)
        #expect(BtsnoopWriter.flags(for: .acl, direction: .received) == 1)
        #expect(BtsnoopWriter.flags(for: .sco, direction: .received) == 1)
        #expect(BtsnoopWriter.flags(for: .iso, direction: .sent) == 0)
    }

    @Test func recordsFromManyThreadsStayWhole() throws {
        let dir = try transportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mt.btsnoop").path
        let writer = try BtsnoopWriter(path: path)
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<200 {
                writer.write(HCIPacket(.acl, [UInt8(t), 0x00, 0x01, 0x00, UInt8(truncatingIfNeeded: i)]),
                             direction: t % 2 == 0 ? .sent : .received)
            }
        }
        #expect(writer.recordCount == 1_600)
        writer.close()
        let records = try Self.readRecords(path)
        #expect(records.count == 1_600)
        #expect(records.allSatisfy { $0.packet.type == .acl && $0.packet.bytes.count == 5 })
    }

    @Test func writeErrorStopsCapturingWithoutCrashing() throws {
        // /dev/full accepts the open and fails every write with ENOSPC.
        #expect(throws: TransportError.self) { _ = try BtsnoopWriter(path: "/dev/full") }
        let fd = open("/dev/full", O_WRONLY)
        try #require(fd >= 0)
        let writer = try BtsnoopWriter(takingDescriptor: fd, path: "/dev/full", writeHeader: false)
        #expect(writer.isCapturing)
        writer.write(Self.reset, direction: .sent)
        #expect(!writer.isCapturing)
        #expect(writer.failure?.contains("ENOSPC") == true)
        writer.write(Self.reset, direction: .sent)  // ignored
        #expect(writer.recordCount == 0)
    }

    @Test func aMissingFolderIsAnOpenError() {
        do {
            _ = try BtsnoopWriter(path: "/no/such/folder/cap.btsnoop")
            Issue.record("created a capture in a missing folder")
        } catch {
            #expect(error.description.contains("/no/such/folder/cap.btsnoop"))
        }
    }

    @Test func pathTemplateRule() {
        #expect(Snoop.path(forDevice: 0, template: "cap.btsnoop") == "cap.btsnoop")
        #expect(Snoop.path(forDevice: 1, template: "cap.btsnoop") == "cap-1.btsnoop")
        #expect(Snoop.path(forDevice: 12, template: "/tmp/logs/cap.btsnoop") == "/tmp/logs/cap-12.btsnoop")
        #expect(Snoop.path(forDevice: 2, template: "/tmp/a.b/cap") == "/tmp/a.b/cap-2")
        #expect(Snoop.path(forDevice: 2, template: "/tmp/a.b/cap.x.log") == "/tmp/a.b/cap.x-2.log")
        #expect(Snoop.path(forDevice: 3, template: "/tmp/.hidden") == "/tmp/.hidden-3")
        #expect(Snoop.path(forDevice: 0, template: "dev%d.btsnoop") == "dev0.btsnoop")
        #expect(Snoop.path(forDevice: 7, template: "/tmp/dev%d.btsnoop") == "/tmp/dev7.btsnoop")
        #expect(Snoop.path(forDevice: 7, template: "/tmp/%d/dev%d.log") == "/tmp/7/dev7.log")
    }

    @Test func writerFromEnvironment() throws {
        let dir = try transportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let template = dir.appendingPathComponent("env.btsnoop").path
        #expect(Snoop.fromEnvironment(deviceIndex: 0, environment: [:]) == nil)
        #expect(Snoop.fromEnvironment(deviceIndex: 0, environment: ["BLE_SNOOP": ""]) == nil)
        let writer = try #require(Snoop.fromEnvironment(deviceIndex: 1, environment: ["BLE_SNOOP": template]))
        #expect(writer.path == dir.appendingPathComponent("env-1.btsnoop").path)
        #expect(FileManager.default.fileExists(atPath: writer.path))
        let bad = Snoop.fromEnvironment(deviceIndex: 0, environment: ["BLE_SNOOP": "/no/such/dir/x.btsnoop"])
        #expect(bad == nil)
    }

    @Test func snoopingTransportRecordsBothWaysAndForwardsUnchanged() throws {
        let dir = try transportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("wrap.btsnoop").path
        let inner = TransportLoopbackDouble()
        let writer = try BtsnoopWriter(path: path)
        let snooping = SnoopingTransport(wrapping: inner, writer: writer)
        #expect(snooping.name == "loopback")
        let collector = TransportTestCollector()
        try snooping.open(delegate: collector)

        let acl = HCIPacket(.acl, [0x40, 0x20, 0x01, 0x00, 0x99])
        snooping.send(Self.reset)
        inner.inject(Self.resetComplete)
        inner.inject(acl)
        snooping.send(acl)
        inner.injectClose(.closed("test"))
        snooping.close()

        #expect(inner.sent == [Self.reset, acl])
        #expect(collector.received == [Self.resetComplete, acl])
        #expect(collector.closeEvents == [.closed("test")])
        #expect(inner.closeCount == 1)

        writer.close()
        let records = try Self.readRecords(path)
        #expect(records.map(\.packet) == [Self.reset, Self.resetComplete, acl, acl])
        #expect(records.map(\.flags) == [2, 3, 1, 0])
    }

    @Test func snoopingARealTransport() throws {
        let dir = try transportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tcp.btsnoop").path
        let controller = try #require(TransportFakeController())
        defer { controller.stop() }
        let writer = try BtsnoopWriter(path: path)
        let transport = SnoopingTransport(wrapping: TCPTransport(host: "127.0.0.1", port: controller.port),
                                          writer: writer)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        transport.send(Self.reset)
        #expect(collector.waitForPackets(1))
        transport.close()
        writer.close()
        let records = try Self.readRecords(path)
        #expect(records.map(\.packet) == [Self.reset, Self.resetComplete])
    }

    /// Parses a btsnoop file written by `BtsnoopWriter`.
    static func readRecords(_ path: String) throws -> [(flags: UInt32, packet: HCIPacket)] {
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(data.count >= 16)
        #expect(Array(data[0..<16]) == BtsnoopWriter.fileHeader)
        func u32(_ at: Int) -> UInt32 {
            data[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        var out: [(UInt32, HCIPacket)] = []
        var i = 16
        while i + 24 <= data.count {
            let length = Int(u32(i + 4))
            let flags = u32(i + 8)
            let start = i + 24
            try #require(length >= 1 && start + length <= data.count)
            let type = try #require(HCIPacketType(rawValue: data[start]))
            out.append((flags, HCIPacket(type, Array(data[(start + 1)..<(start + length)]))))
            i = start + length
        }
        #expect(i == data.count)
        return out
    }
}
