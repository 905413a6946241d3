import Foundation
import Testing
import BluetoothCore

/// The `ble` tool when its controller goes away mid-scan: it says so and exits non-zero, instead
/// of printing "scan done" and exiting 0.
@Suite("Tool: ble against a failing controller")
struct ToolHostileControllerTests {
    @Test(arguments: ["close", "garbage"])
    func scanReportsAControllerThatGoesAway(how: String) throws {
        let hostile = try HostileController()
        defer { hostile.stop() }
        // Once the scan is on (LE Set (Extended) Scan Enable with Enable = 1), the controller dies.
        hostile.onHostPacket { [weak hostile] packet in
            let bytes = packet.bytes
            if packet.type == .command, bytes.count >= 4, bytes[3] == 0x01,
               (bytes[0] == 0x42 || bytes[0] == 0x0C) && bytes[1] == 0x20 {
                let target = hostile
                DispatchQueue.global().async {
                    if how == "close" { target?.closeConnection() } else { target?.inject([0x04, 0x0E, 0x01, 0x01, 0x7E, 0x7E]) }
                }
            }
            return .pass
        }
        let (status, output) = try ToolTests.run(["scan", "--transport", hostile.transport, "--duration", "20"], timeout: 15)
        #expect(status == 1, "\(output)")
        #expect(output.contains("the scan ended early"), "\(output)")
        #expect(output.contains("the session ended"), "\(output)")
        #expect(!output.contains("scan done"), "\(output)")
        if how == "garbage" { #expect(output.contains("unknown H4 packet indicator 0x7e"), "\(output)") }
    }
}
