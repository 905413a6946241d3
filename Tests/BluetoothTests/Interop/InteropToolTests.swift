import Foundation
import Testing
import Bluetooth

/// The `ble gatt` tool against Bumble's GATT server on its stock controllers: it connects by name,
/// exchanges the MTU, discovers and reads everything, as a user would run it.
extension InteropGATT {
    @Test("ble gatt prints Bumble's database and reads its values")
    func bleGattToolPrintsBumbleDatabase() throws {
        let controllers = try BumbleControllers()
        let bumble = try BumblePeer("gatt-server", ["--name", "BUMBLE-TOOL"], controllers: controllers, index: 1,
                                    timeout: 60, script: "bumble_gatt_peer.py")
        _ = try bumble.waitForLine(prefix: "READY")
        let (status, out) = try ToolTests.run(["gatt", "--transport", try controllers.transport(0), "--name", "BUMBLE-TOOL",
                                               "--random-address", "--timeout", "10"], timeout: 60)
        #expect(status == 0, "\(out)")
        for expected in [
            "connected to",
            "MTU ",
            "service UUID(0x1800)",
            "service UUID('3c5b0000-6e0a-4b5e-9c2d-2f1a7d3e8b10')",
            "characteristic UUID('3c5b0001-6e0a-4b5e-9c2d-2f1a7d3e8b10')",
            "\"Bumble read value\"",
            "descriptor UUID(0x2901)",
            // LONG: 600 bytes, byte i = (7i+3) & 0xFF, read whole through Read Blob.
            String((0..<600).map { String(format: "%02x", (7 * $0 + 3) & 0xFF) }.joined()),
        ] {
            #expect(out.contains(expected), "missing \(expected.prefix(60)) in:\n\(out)")
        }
        _ = try bumble.waitForLine(prefix: "DISCONNECTED")
    }
}
