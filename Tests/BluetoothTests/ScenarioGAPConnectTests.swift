import Foundation
import Testing
@testable import Bluetooth

/// Port of MicroPython's tests/multi_bluetooth/ble_gap_connect.py with its .exp output:
/// instance0 (peripheral) and instance1 (central) print the same lines in the same order.
@Suite("Scenario: ble_gap_connect")
struct ScenarioGAPConnectTests {
    /// Upstream's tests/multi_bluetooth/ble_gap_connect.py.exp, verbatim.
    static let exp = """
        --- instance0 ---
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        _IRQ_CENTRAL_DISCONNECT
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        gap_disconnect: True
        _IRQ_CENTRAL_DISCONNECT
        --- instance1 ---
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        _IRQ_PERIPHERAL_DISCONNECT

        """

    @Test func connectDisconnectBothWays() throws {
        let radio = uniqueRadio()
        let instance0 = try BLE(transport: radio)
        let instance1 = try BLE(transport: radio)
        let out0 = Output(), out1 = Output()
        let rec0 = EventRecorder(instance0)
        let rec1 = EventRecorder(instance1)
        try instance0.active(true)
        try instance1.active(true)
        defer {
            _ = try? instance0.active(false)
            _ = try? instance1.active(false)
        }
        let bdaddr = try instance0.config(.mac)
        let adv: [UInt8] = [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8)

        // The event lines are printed by the instance that waits for them (MicroPython's
        // wait_for_event), so each instance's output has a deterministic order.
        func wait(_ rec: EventRecorder, _ out: Output, _ code: Int) -> BLE.Event? {
            guard let e = rec.next(code: code, timeout: 4) else { return nil }
            out.print(e.name)
            return e
        }

        out0.print("gap_advertise")
        try instance0.gapAdvertise(20_000, advData: adv)
        // instance1 connects to the peripheral and then disconnects.
        out1.print("gap_connect")
        try instance1.gapConnect(bdaddr.0, bdaddr.1)
        let c1 = try #require(wait(rec1, out1, IRQ.peripheralConnect))
        #expect(wait(rec0, out0, IRQ.centralConnect) != nil)
        out1.print("gap_disconnect: \(pyBool(try instance1.gapDisconnect(try #require(c1.connHandle))))")
        #expect(wait(rec1, out1, IRQ.peripheralDisconnect) != nil)
        #expect(wait(rec0, out0, IRQ.centralDisconnect) != nil)

        // instance0 advertises again; instance1 connects and the peripheral disconnects it.
        out0.print("gap_advertise")
        try instance0.gapAdvertise(20_000, advData: adv)
        out1.print("gap_connect")
        try instance1.gapConnect(bdaddr.0, bdaddr.1)
        #expect(wait(rec1, out1, IRQ.peripheralConnect) != nil)
        let c0 = try #require(wait(rec0, out0, IRQ.centralConnect))
        out0.print("gap_disconnect: \(pyBool(try instance0.gapDisconnect(try #require(c0.connHandle))))")
        #expect(wait(rec0, out0, IRQ.centralDisconnect) != nil)
        #expect(wait(rec1, out1, IRQ.peripheralDisconnect) != nil)

        // What the multitest runner compares: both instances' output against upstream's .exp.
        #expect(expTranscript([out0.lines, out1.lines]) == Self.exp)
        // And nothing else was raised: the full event streams match the printed ones.
        let gap: Set<Int> = [1, 2, 7, 8]
        #expect(rec0.names(codes: gap) == out0.lines.filter { $0.hasPrefix("_IRQ") })
        #expect(rec1.names(codes: gap) == out1.lines.filter { $0.hasPrefix("_IRQ") })
    }
}

/// Lines a test instance "prints", in order.
final class Output: @unchecked Sendable {
    // Safe: guarded by `lock`.
    private let lock = NSLock()
    private var buffer: [String] = []
    func print(_ s: String) {
        lock.lock()
        buffer.append(s)
        lock.unlock()
    }
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return buffer
    }
}

/// The text MicroPython's multitest runner compares with a .exp file: each instance's output
/// under a `--- instanceN ---` header, every line ending in a newline.
func expTranscript(_ instances: [[String]]) -> String {
    instances.enumerated().map { i, lines in
        (["--- instance\(i) ---"] + lines).map { $0 + "\n" }.joined()
    }.joined()
}
