import Foundation
import Testing
@testable import Bluetooth

/// Port of MicroPython's tests/multi_bluetooth/perf_gatt_char_write.py and its .exp: at MTU 131,
/// 40 writes of 128 bytes without response, then 40 with response. The script measures the data
/// rate (`multitest.output_metric`, not part of the .exp); the port checks instead that all 80 writes
/// arrive, whole and in order.
@Suite("Scenario: GATT perf_gatt_char_write")
struct ScenarioGATTPerfCharWriteTests {
    static let expected0 = expLines("""
        gap_advertise
        _IRQ_MTU_EXCHANGED: 131
        _IRQ_GATTS_WRITE 0
        _IRQ_GATTS_WRITE 10
        _IRQ_GATTS_WRITE 20
        _IRQ_GATTS_WRITE 30
        _IRQ_GATTS_WRITE 40
        _IRQ_GATTS_WRITE 50
        _IRQ_GATTS_WRITE 60
        _IRQ_GATTS_WRITE 70
        final packet_sequence: 80
        """)

    static let expected1 = expLines("""
        gap_connect
        _IRQ_MTU_EXCHANGED: 131
        gattc_write 0
        gattc_write 10
        gattc_write 20
        gattc_write 30
        gattc_write 40
        gattc_write 50
        gattc_write 60
        gattc_write 70
        gap_disconnect: True
        """)

    static let numWrites = 40
    static let mtuSize = 131
    static let charSize = mtuSize - 3

    /// The payload of write number `sequence`: 'A'... with the sequence number first and
    /// 256 - sequence (mod 256) last.
    static func payload(_ sequence: Int) -> [UInt8] {
        var data = (0..<charSize).map { UInt8(ascii: "A") + UInt8($0 % 64) }
        data[0] = UInt8(truncatingIfNeeded: sequence)
        data[charSize - 1] = UInt8(truncatingIfNeeded: 256 - sequence)
        return data
    }

    @Test func eightyWritesArriveInOrder() throws {
        let serviceUUID = try BluetoothUUID("A5A5A5A5-FFFF-9999-1111-5A5A5A5A5A5A")
        let charUUID = try BluetoothUUID("00000000-1111-2222-3333-444444444444")
        let services = [BLE.Service(serviceUUID, [BLE.Characteristic(charUUID, [.write, .writeNoResponse])])]

        // Every value the server read, in order (its count is the script's packet_sequence).
        // Only the server's handler writes it.
        let received = Locked<[[UInt8]]>([])
        let handler: GATTScenarioInstance.Handler = { irq, event in
            switch event {
            case let .gattsWrite(_, attrHandle):
                let data = irq.ble.gattsRead(attrHandle)
                let packetSequence = received.value.count
                received.value.append(data)
                if !(data.first == UInt8(truncatingIfNeeded: packetSequence)
                    && data.last == UInt8(truncatingIfNeeded: 256 - packetSequence)) {
                    irq.print("_IRQ_GATTS_WRITE data invalid: \(packetSequence) \(pyBytes(data))")
                } else if packetSequence % 10 == 0 {
                    irq.print("_IRQ_GATTS_WRITE \(packetSequence)")
                }
            case let .mtuExchanged(_, mtu):
                irq.print("_IRQ_MTU_EXCHANGED: \(mtu)")
            default:
                break
            }
            return nil
        }
        let radio = uniqueRadio()
        let instance0 = try GATTScenarioInstance("instance0", transport: radio, irq: handler)
        let instance1 = try GATTScenarioInstance("instance1", transport: radio, irq: handler)
        defer {
            instance0.deactivate()
            instance1.deactivate()
        }
        try instance0.activate()
        try instance1.activate()
        let ble0 = instance0.ble, ble1 = instance1.ble

        // instance0: the server, with a 128-byte value.
        let bdaddr = try ble0.config(.mac)
        let handles = try ble0.gattsRegisterServices(services)
        #expect(handles.map(\.count) == [1])
        let charHandle = try #require(handles.first?.first)
        try ble0.gattsSetBuffer(charHandle, Self.charSize)
        instance0.print("gap_advertise")
        try ble0.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8))

        // instance1: registers the same services too, prefers MTU 131, connects and exchanges.
        _ = try ble1.gattsRegisterServices(services)
        instance1.print("gap_connect")
        try ble1.config(mtu: Self.mtuSize)
        try ble1.gapConnect(bdaddr.0, bdaddr.1)
        let conn1 = try instance1.waitConnect(GATTIRQ.peripheralConnect)
        try instance0.wait(code: GATTIRQ.centralConnect)
        try ble1.gattcExchangeMtu(conn1)

        try ble1.gattcDiscoverCharacteristics(conn1, 1, 65535)
        let valueHandle = try instance1.waitFor("_IRQ_GATTC_CHARACTERISTIC_RESULT") { event -> UInt16? in
            if case let .gattcCharacteristicResult(_, _, valueHandle, _, uuid) = event, uuid == charUUID { return valueHandle }
            return nil
        }
        try instance1.wait(code: GATTIRQ.gattcCharacteristicDone)

        var packetSequence = 0
        for mode in [BLE.WriteMode.noResponse, .withResponse] {
            for _ in 0..<Self.numWrites {
                let data = Self.payload(packetSequence)
                if packetSequence % 10 == 0 {
                    instance1.print("gattc_write \(packetSequence)")
                }
                if mode == .noResponse {
                    // The script retries while the stack refuses (OSError). Retried here: the errors
                    // that mean "no room now", for at most 5 s; anything else fails the test.
                    let deadline = Date(timeIntervalSinceNow: 5)
                    while true {
                        do {
                            try ble1.gattcWrite(conn1, valueHandle, data, mode)
                            break
                        } catch let error as BLEError where (error == .busy || error == .noMemory) && Date() < deadline {
                            sched_yield()
                        }
                    }
                } else {
                    try ble1.gattcWrite(conn1, valueHandle, data, mode)
                    try instance1.wait(code: GATTIRQ.gattcWriteDone)
                }
                packetSequence += 1
            }
            // The script sleeps 100 ms after each batch; the port waits until the server has
            // seen every write so far.
            try instance0.waitUntil("\(packetSequence) _IRQ_GATTS_WRITE") { _ in received.value.count >= packetSequence }
        }

        instance1.print("gap_disconnect: \(pyBool(try ble1.gapDisconnect(conn1)))")
        try instance1.wait(code: GATTIRQ.peripheralDisconnect)
        try instance0.wait(code: GATTIRQ.centralDisconnect)
        instance0.print("final packet_sequence: \(received.value.count)")

        #expect(instance0.lines == Self.expected0)
        #expect(instance1.lines == Self.expected1)
        // All 80, whole and in order.
        let values = received.value
        #expect(values.count == 2 * Self.numWrites)
        #expect(values.map { $0.first } == (0..<2 * Self.numWrites).map { UInt8?(UInt8($0)) })
        #expect(values == (0..<2 * Self.numWrites).map(Self.payload))
    }
}
