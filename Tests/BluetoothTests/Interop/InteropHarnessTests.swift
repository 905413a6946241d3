// Checks of the interop harness itself, without our stack: Bumble against Bumble through the same
// Swift helpers the interop tests use, and raw HCI over the pty. When an InteropGAP test fails,
// these tell whether the harness or the stack is at fault.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@Suite(.serialized)
struct InteropHarness {

    @Test("bumble_controllers.py reports distinct endpoints and public addresses")
    func controllersReady() throws {
        let controllers = try BumbleControllers(tcpCount: 3)
        let fields = interopFields(controllers.readyLine)
        let endpoints = try (0..<3).map { try controllers.transport($0) }
        #expect(Set(endpoints).count == 3)
        #expect(endpoints.allSatisfy { $0.hasPrefix("tcp:127.0.0.1:") && !$0.hasSuffix(":0") })
        #expect(try controllers.bumbleTransport(1).hasPrefix("tcp-client:127.0.0.1:"))
        #expect(fields["addresses"] == "F0:F0:F0:F0:F0:01,F0:F0:F0:F0:F0:02,F0:F0:F0:F0:F0:03")
        #expect(fields["controller"] == "stock")
    }

    @Test("Bumble scans Bumble (stock scan-response quirk visible)")
    func bumbleScansBumble() throws {
        let controllers = try BumbleControllers()
        let advertiser = try BumblePeer("advertise", ["--name", "HARNESS-ADV"], controllers: controllers, index: 1)
        let ready = try advertiser.waitForLine(prefix: "READY")
        let scanner = try BumblePeer("scan", ["--target-name", "HARNESS-ADV"], controllers: controllers, index: 0)
        let adv = try scanner.waitForLine(prefix: "ADV ")
        try scanner.waitForLine(prefix: "FOUND")
        try scanner.process.requireSuccessfulExit()

        #expect(try interopField("address", of: adv) == interopField("address", of: ready))
        #expect(try interopField("type", of: adv) == interopField("type", of: ready))
        #expect(try interopField("name", of: adv) == "HARNESS-ADV")
        #expect(try interopField("data", of: adv) == interopField("adv_data", of: ready))
        // The scan response Bumble's scanner got is exactly what the controllers' own probe said
        // it would be (an empty field means none arrived).
        let response = try interopField("scan_response", of: adv)
        #expect(try interopField("scan_response", of: ready) != interopField("adv_data", of: ready))
        switch try controllers.scanResponse() {
        case .echo: #expect(response == (try interopField("adv_data", of: ready)))
        case .real: #expect(response == (try interopField("scan_response", of: ready)))
        case .none: #expect(response == "")
        }
    }

    @Test("Bumble connects to Bumble; each side's disconnect is seen by the other")
    func bumbleConnectsBumble() throws {
        let controllers = try BumbleControllers()
        let advertiser = try BumblePeer("advertise", ["--name", "HARNESS-ADV", "--cycles", "2"],
                                        controllers: controllers, index: 1)
        let ready = try advertiser.waitForLine(prefix: "READY")
        // The address as Bumble printed it (this suite does not depend on our stack's types).
        let address = try interopField("address", of: ready), type = try interopField("type", of: ready)

        // 1: the central disconnects.
        let first = try BumblePeer("connect", ["--target-address", address, "--address-type", type,
                                               "--disconnect-after", "100"],
                                   controllers: controllers, index: 0)
        #expect(try interopField("role", of: first.waitForLine(prefix: "CONNECTED")) == "central")
        #expect(try interopField("initiator", of: first.waitForLine(prefix: "DISCONNECTED")) == "local")
        try first.process.requireSuccessfulExit()
        #expect(try interopField("role", of: advertiser.waitForLine(prefix: "CONNECTED")) == "peripheral")
        let down = try advertiser.waitForLine(prefix: "DISCONNECTED")
        #expect(try interopField("reason", of: down) == "0x13")
        #expect(try interopField("initiator", of: down) == "remote")

        // 2: the central's process vanishes; the controllers process tells the peripheral (0x08).
        try advertiser.waitForLine(prefix: "READY")
        let second = try BumblePeer("connect", ["--target-address", address, "--address-type", type],
                                    controllers: controllers, index: 0)
        try second.waitForLine(prefix: "CONNECTED")
        try advertiser.waitForLine(prefix: "CONNECTED")
        kill(second.process.pid, SIGKILL)
        let lost = try advertiser.waitForLine(prefix: "DISCONNECTED")
        #expect(try interopField("reason", of: lost) == "0x08")
        try advertiser.process.requireSuccessfulExit()
    }

    @Test("pty controller answers HCI_Reset over raw H4")
    func ptyAnswersReset() throws {
        let controllers = try BumbleControllers(tcpCount: 1, withPty: true)
        let transport = try controllers.transport(0)
        #expect(transport.hasPrefix("serial:"))
        let path = String(transport.dropFirst("serial:".count))
        let fd = open(path, O_RDWR | O_NOCTTY)
        guard fd >= 0 else { throw InteropError("open \(path): errno \(errno)") }
        defer { close(fd) }
        var reset: [UInt8] = [0x01, 0x03, 0x0C, 0x00]
        #expect(write(fd, &reset, reset.count) == reset.count)

        // Command Complete for HCI_Reset: 04 0E 04 01 03 0C 00.
        let expected: [UInt8] = [0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00]
        var received: [UInt8] = []
        let deadline = Date(timeIntervalSinceNow: 10)
        while received.count < expected.count && Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { received += buffer[0..<n] }
        }
        #expect(received == expected, "received \(interopHex(received))")
    }
}
