import Foundation
import Testing
import BluetoothCore
@testable import Bluetooth

/// The `ble` tool when its controller goes away mid-scan: it says so and exits non-zero, instead
/// of printing "scan done" and exiting 0.
@Suite("Tool: ble against a failing controller")
struct ToolHostileControllerTests {
    @Test(arguments: ["close", "garbage"])
    func scanReportsAControllerThatGoesAway(how: String) throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        // Once the controller has confirmed the scan (its answer to LE Set (Extended) Scan Enable
        // with Enable = 1 reached the host), the controller dies: the socket closes, or garbage
        // follows the answer.
        let scanOn = Locked(false)
        hostile.onHostPacket { packet in
            let b = packet.bytes
            if packet.type == .command, b.count >= 4, b[1] == 0x20, b[0] == 0x42 || b[0] == 0x0C, b[3] == 0x01 {
                scanOn.value = true
            }
            return .pass
        }
        hostile.onControllerPacket { packet in
            let b = packet.bytes
            guard scanOn.value, packet.type == .event, b.count >= 5, b[0] == 0x0E || b[0] == 0x0F,
                  b[b[0] == 0x0E ? 4 : 5] == 0x20 else { return .pass }
            return .replaceThenClose(packet.h4Bytes + (how == "close" ? [] : [0x04, 0x0E, 0x01, 0x01, 0x7E, 0x7E]))
        }
        let (status, output) = try ToolTests.run(["scan", "--transport", hostile.transport, "--duration", "20"], timeout: 15)
        #expect(status == 1, "\(output)")
        #expect(output.contains("the scan ended early"), "\(output)")
        #expect(output.contains("the session ended"), "\(output)")
        #expect(!output.contains("scan done"), "\(output)")
        if how == "garbage" { #expect(output.contains("unknown H4 packet indicator 0x7e"), "\(output)") }
    }
}
