import BluetoothCore
import BluetoothTransport
import Foundation
import Testing

@Suite struct TransportUserChannelTests {
    /// hci:99 does not exist on any machine this runs on. Without kernel Bluetooth the error says
    /// so and points at tcp:/serial:; with it, the bind fails with a clear message (no such
    /// controller, or a permission problem).
    @Test func missingControllerGivesAClearError() {
        let transport = HCIUserChannelTransport(index: 99)
        #expect(transport.name == "hci:99")
        let start = Date()
        do {
            try transport.open(delegate: TransportTestCollector())
            transport.close()
            Issue.record("hci:99 opened")
        } catch let error as TransportError {
            switch error {
            case .unavailable(let message):
                #expect(message.contains("AF_BLUETOOTH"))
                #expect(message.contains("tcp:"))
                #expect(message.contains("serial:"))
            case .openFailed(let message):
                let clear = message.contains("no controller hci99") || message.contains("CAP_NET_ADMIN")
                #expect(clear, "unclear message: \(message)")
            default:
                Issue.record("unexpected error \(error)")
            }
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
        #expect(Date().timeIntervalSince(start) < 2)
        transport.send(HCIPacket(.command, [0x03, 0x0C, 0x00]))  // not open: ignored, no crash
        transport.close()
    }
}
