import Foundation
import Testing
@testable import Bluetooth
import BluetoothSimulator

/// Port of MicroPython's tests/multi_bluetooth/ble_gap_advertise.py (same calls and printed
/// result). Instead of advertising for a fixed 3 s per phase, each phase lasts until the scanner has
/// heard it (bounded by a timeout), so the test is fast and cannot flake on a slow machine.
@Suite("Scenario: ble_gap_advertise")
struct ScenarioGAPAdvertiseTests {
    /// Upstream's tests/multi_bluetooth/ble_gap_advertise.py.exp, verbatim.
    static let exp = #"""
        --- instance0 ---
        gap_advertise(100_000, connectable=False)
        gap_advertise(20_000, connectable=True)
        gap_advertise(None)
        --- instance1 ---
        adv_types: [0, 2]
        adv_data: b'\x02\x01\x06\x04\xffMPY'

        """#

    /// On controllers with extended advertising (the host uses the extended commands) and
    /// without (legacy commands).
    @Test(arguments: [true, false])
    func advertiseNonConnectableThenConnectable(extended: Bool) throws {
        let radio = VirtualRadio()
        let config = VirtualController.Configuration(extendedAdvertising: extended)
        let instance0 = BLE(controller: VirtualController(radio: radio, configuration: config))
        let instance1 = BLE(controller: VirtualController(radio: radio, configuration: config))
        try instance0.active(true)
        try instance1.active(true)
        defer {
            _ = try? instance0.active(false)
            _ = try? instance1.active(false)
        }
        let bdaddr = try instance0.config(.mac)
        let advData: [UInt8] = [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8)
        let phaseTimeout = 5.0

        // instance1: scan with interval = window = 30 ms until told to stop.
        let matched = MatchState()
        let recorder = EventRecorder(instance1) { event in
            if case let .scanResult(addrType, addr, advType, _, data) = event, addrType == bdaddr.0, addr == bdaddr.1 {
                matched.record(advType.rawValue, data)
            }
            return nil
        }
        try instance1.gapScan(0, 30_000, 30_000)

        // instance0 prints before each call, as upstream does; instance1 prints what it heard.
        let output0 = Output(), output1 = Output()
        output0.print("gap_advertise(100_000, connectable=False)")
        try instance0.gapAdvertise(100_000, advData: advData, connectable: false)
        #expect(recorder.waitUntil(timeout: phaseTimeout) { _ in matched.types.contains(2) })
        // Until the next call only the non-connectable type can have been heard.
        #expect(matched.types == [2])
        output0.print("gap_advertise(20_000, connectable=True)")
        try instance0.gapAdvertise(20_000, advData: advData, connectable: true)
        #expect(recorder.waitUntil(timeout: phaseTimeout) { _ in matched.types.contains(0) })
        output0.print("gap_advertise(None)")
        try instance0.gapAdvertise(nil)
        try instance1.gapScan(nil)

        #expect(recorder.next(code: IRQ.scanDone, timeout: 5) != nil)
        output1.print("adv_types: [\(matched.types.map(String.init).joined(separator: ", "))]")
        output1.print("adv_data: \(matched.data.map(pyBytes) ?? "None")")
        #expect(expTranscript([output0.lines, output1.lines]) == Self.exp)
    }
}

final class MatchState: @unchecked Sendable {
    // Safe: guarded by `lock`.
    private let lock = NSLock()
    private var typeSet: Set<UInt8> = []
    private var firstData: [UInt8]?
    private var mismatch = false
    func record(_ type: UInt8, _ data: [UInt8]) {
        lock.lock()
        defer { lock.unlock() }
        typeSet.insert(type)
        if let f = firstData { if f != data { mismatch = true } } else { firstData = data }
    }
    var types: [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return typeSet.sorted()
    }
    var data: [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        return mismatch ? Array("MISMATCH".utf8) : firstData
    }
}
