import BluetoothCore
import BluetoothTransport
import Foundation
import Glibc
import Testing

@Suite struct TransportSerialTests {
    static let reset = HCIPacket(.command, [0x03, 0x0C, 0x00])
    static let resetComplete = HCIPacket(.event, [0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00])

    @Test func controllerToHostOverPTY() throws {
        let pty = try #require(TransportTestIO.openPTY())
        defer { close(pty.master) }
        let transport = SerialTransport(path: pty.replica)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        defer { transport.close() }

        // Bytes that a cooked tty would mangle (CR, NL, ^C, ^S, ^Q, DEL, 0xFF) must pass untouched.
        let acl = HCIPacket(.acl, [0x40, 0x20, 0x09, 0x00, 0x0D, 0x0A, 0x03, 0x13, 0x11, 0x7F, 0xFF, 0x04, 0x00])
        let packets = [Self.resetComplete, acl, HCIPacket(.event, [0x3E, 0x00])]
        let bytes = packets.flatMap(\.h4Bytes)
        // Written in uneven pieces, so packets straddle reads.
        var i = 0
        for size in [1, 5, 2, 9, 100] where i < bytes.count {
            let end = min(bytes.count, i + size)
            #expect(TransportTestIO.writeAll(pty.master, Array(bytes[i..<end])))
            i = end
        }
        #expect(collector.waitForPackets(packets.count))
        #expect(collector.received == packets)
    }

    @Test func hostToControllerOverPTY() throws {
        let pty = try #require(TransportTestIO.openPTY())
        defer { close(pty.master) }
        let transport = SerialTransport(path: pty.replica)
        try transport.open(delegate: TransportTestCollector())
        defer { transport.close() }

        let command = HCIPacket(.command, [0x01, 0x0C, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0A, 0x0D, 0x20])
        transport.send(Self.reset)
        transport.send(command)
        let expected = Self.reset.h4Bytes + command.h4Bytes
        let got = TransportTestIO.read(pty.master, count: expected.count)
        #expect(got == expected)
    }

    @Test func roundTripWithBaudRate() throws {
        let pty = try #require(TransportTestIO.openPTY())
        defer { close(pty.master) }
        let transport = SerialTransport(path: pty.replica, baud: 115_200)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        defer { transport.close() }
        transport.send(Self.reset)
        #expect(TransportTestIO.read(pty.master, count: 4) == Self.reset.h4Bytes)
        #expect(TransportTestIO.writeAll(pty.master, Self.resetComplete.h4Bytes))
        #expect(collector.waitForPackets(1))
        #expect(collector.received == [Self.resetComplete])
    }

    @Test func masterClosingGivesDidClose() throws {
        let pty = try #require(TransportTestIO.openPTY())
        let transport = SerialTransport(path: pty.replica)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        defer { transport.close() }
        close(pty.master)
        #expect(collector.waitForClose())
        #expect(collector.closeEvents.count == 1)
        if case .closed?? = collector.closeEvents.first {} else {
            Issue.record("expected .closed, got \(collector.closeEvents)")
        }
        transport.send(Self.reset)  // no crash, no hang
    }

    @Test func localCloseIsSilentAndPrompt() throws {
        let pty = try #require(TransportTestIO.openPTY())
        defer { close(pty.master) }
        let transport = SerialTransport(path: pty.replica)
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        let start = Date()
        transport.close()
        transport.close()
        #expect(Date().timeIntervalSince(start) < 1.5)
        #expect(TransportTestIO.writeAll(pty.master, Self.resetComplete.h4Bytes))
        #expect(!collector.wait(timeout: 0.3) { packets, closes in !packets.isEmpty || !closes.isEmpty })
    }

    @Test func openWhileOpenIsRefusedAndAfterACloseSucceeds() throws {
        let pty = try #require(TransportTestIO.openPTY())
        defer { close(pty.master) }
        let transport = SerialTransport(path: pty.replica)
        try transport.open(delegate: TransportTestCollector())
        #expect(throws: TransportError.openFailed("\(transport.name) is already open")) {
            try transport.open(delegate: TransportTestCollector())
        }
        transport.close()
        // A closed transport opens again, on a new descriptor, and delivers to the new delegate.
        let collector = TransportTestCollector()
        try transport.open(delegate: collector)
        defer { transport.close() }
        transport.send(Self.reset)
        #expect(TransportTestIO.read(pty.master, count: 4) == Self.reset.h4Bytes)
        #expect(TransportTestIO.writeAll(pty.master, Self.resetComplete.h4Bytes))
        #expect(collector.waitForPackets(1))
        #expect(collector.received == [Self.resetComplete])
    }

    @Test func aFileThatIsNotATerminalIsRejected() {
        do {
            try SerialTransport(path: "/dev/null").open(delegate: TransportTestCollector())
            Issue.record("/dev/null opened as a serial device")
        } catch {
            #expect("\(error)".contains("not a serial device"))
        }
    }

    @Test func aMissingDeviceIsRejected() {
        do {
            try SerialTransport(path: "/dev/no-such-controller").open(delegate: TransportTestCollector())
            Issue.record("a missing path opened")
        } catch let error as TransportError {
            guard case .openFailed(let message) = error else {
                Issue.record("expected .openFailed, got \(error)")
                return
            }
            #expect(message.contains("does not exist"))
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test func anUnsupportedBaudRateIsAnInvalidSpec() throws {
        let pty = try #require(TransportTestIO.openPTY())
        defer { close(pty.master) }
        do {
            try SerialTransport(path: pty.replica, baud: 12_345).open(delegate: TransportTestCollector())
            Issue.record("baud 12345 accepted")
        } catch let error as TransportError {
            guard case .invalidSpec(let message) = error else {
                Issue.record("expected .invalidSpec, got \(error)")
                return
            }
            #expect(message.contains("921600"))
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test func everySupportedBaudRateMaps() throws {
        for rate in SerialTransport.supportedBaudRates {
            #expect(throws: Never.self) { _ = try SerialTransport.speed(forBaud: rate) }
        }
        #expect(throws: TransportError.self) { _ = try SerialTransport.speed(forBaud: 0) }
        #expect(throws: TransportError.self) { _ = try SerialTransport.speed(forBaud: -9600) }
    }
}
