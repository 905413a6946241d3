import Foundation
import Testing
@testable import Bluetooth

/// Port of MicroPython's tests/multi_bluetooth/ble_gap_advertise.py (same event sequence and
/// printed result; advertising times shortened from 3 s to 0.4 s).
@Suite("Scenario: ble_gap_advertise")
struct ScenarioGAPAdvertiseTests {
    @Test func advertiseNonConnectableThenConnectable() throws {
        let radio = uniqueRadio()
        let instance0 = try BLE(transport: radio)
        let instance1 = try BLE(transport: radio)
        try instance0.active(true)
        try instance1.active(true)
        defer {
            _ = try? instance0.active(false)
            _ = try? instance1.active(false)
        }
        let bdaddr = try instance0.config(.mac)
        let advData: [UInt8] = [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8)
        let advTimeMs = 400

        // instance1: scan for 2 x ADV_TIME_MS with interval = window = 30 ms.
        let matched = MatchState()
        let recorder = EventRecorder(instance1) { event in
            if case let .scanResult(addrType, addr, advType, _, data) = event, addrType == bdaddr.0, addr == bdaddr.1 {
                matched.record(advType.rawValue, data)
            }
            return nil
        }
        try instance1.gapScan(2 * advTimeMs, 30_000, 30_000)

        var output0: [String] = []
        output0.append("gap_advertise(100_000, connectable=False)")
        try instance0.gapAdvertise(100_000, advData: advData, connectable: false)
        Thread.sleep(forTimeInterval: Double(advTimeMs) / 1000)  // the scenario's own timing, as in MicroPython
        output0.append("gap_advertise(20_000, connectable=True)")
        try instance0.gapAdvertise(20_000, advData: advData, connectable: true)
        Thread.sleep(forTimeInterval: Double(advTimeMs) / 1000)
        output0.append("gap_advertise(None)")
        try instance0.gapAdvertise(nil)

        #expect(recorder.next(code: IRQ.scanDone, timeout: 5) != nil)
        #expect(output0 == ["gap_advertise(100_000, connectable=False)", "gap_advertise(20_000, connectable=True)",
                            "gap_advertise(None)"])
        #expect(matched.types == [0, 2])
        #expect(matched.data == advData)
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
