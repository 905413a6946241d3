import Foundation
import Testing
@testable import Bluetooth

/// Port of MicroPython's tests/multi_bluetooth/perf_gatt_notify.py and its .exp: both devices are
/// GATT server and client at once and ping-pong notifications; the central answers each one from
/// its irq handler with `gattsNotify(conn, handle, "central" + data)`. The script runs 50 rounds and
/// measures the time (`multitest.output_metric`, not part of the .exp); the port runs a fixed 200
/// rounds and checks that no notification is lost, altered or reordered on either side.
@Suite("Scenario: GATT perf_gatt_notify")
struct ScenarioGATTPerfNotifyTests {
    static let expected0 = expLines("""
        gap_advertise
        gap_disconnect: True
        """)

    static let expected1 = expLines("""
        gap_connect
        """)

    static let rounds = 200

    @Test func pingPongNotifications() throws {
        let serviceUUID = try BluetoothUUID("A5A5A5A5-FFFF-9999-1111-5A5A5A5A5A5A")
        let charUUID = try BluetoothUUID("00000000-1111-2222-3333-444444444444")
        let services = [BLE.Service(serviceUUID, [BLE.Characteristic(charUUID, [.notify])])]

        // The script's irq for instance0 (is_central False) reacts to nothing that prints.
        let handler0: GATTScenarioInstance.Handler = { _, _ in nil }
        // instance1 (is_central True) answers every notification from inside its handler. Both
        // servers have the same database, so the notified handle is also its own characteristic's.
        let handler1: GATTScenarioInstance.Handler = { irq, event in
            if case let .gattcNotify(connHandle, valueHandle, notifyData) = event {
                irq.call("gatts_notify") {
                    try irq.ble.gattsNotify(connHandle, valueHandle, Array("central".utf8) + notifyData)
                }
            }
            return nil
        }
        let radio = uniqueRadio()
        let instance0 = try GATTScenarioInstance("instance0", transport: radio, irq: handler0)
        let instance1 = try GATTScenarioInstance("instance1", transport: radio, irq: handler1)
        defer {
            instance0.deactivate()
            instance1.deactivate()
        }
        try instance0.activate()
        try instance1.activate()
        let ble0 = instance0.ble, ble1 = instance1.ble

        let bdaddr = try ble0.config(.mac)
        let handles0 = try ble0.gattsRegisterServices(services)
        #expect(handles0.map(\.count) == [1])
        instance0.print("gap_advertise")
        try ble0.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8))

        let handles1 = try ble1.gattsRegisterServices(services)
        #expect(handles1 == handles0)
        // A short connection interval (12.5 ms) as in the script.
        instance1.print("gap_connect")
        try ble1.gapConnect(bdaddr.0, bdaddr.1, 2000, 12_500, 12_500)
        let conn1 = try instance1.waitConnect(GATTIRQ.peripheralConnect)
        let conn0 = try instance0.waitConnect(GATTIRQ.centralConnect)

        // Both discover the other's characteristic, at the same time.
        func discover(_ instance: GATTScenarioInstance, _ conn: UInt16) throws -> UInt16 {
            let valueHandle = try instance.waitFor("_IRQ_GATTC_CHARACTERISTIC_RESULT") { event -> UInt16? in
                if case let .gattcCharacteristicResult(_, _, valueHandle, _, uuid) = event, uuid == charUUID { return valueHandle }
                return nil
            }
            try instance.wait(code: GATTIRQ.gattcCharacteristicDone)
            return valueHandle
        }
        try ble1.gattcDiscoverCharacteristics(conn1, 1, 65535)
        try ble0.gattcDiscoverCharacteristics(conn0, 1, 65535)
        let valueHandle = try discover(instance0, conn0)
        // ("Give the central enough time to discover chars": the port waits for its discovery.)
        #expect(try discover(instance1, conn1) == valueHandle)

        // Send a notification and wait for the answer, `rounds` times.
        var answers: [[UInt8]] = []
        for i in 0..<Self.rounds {
            try ble0.gattsNotify(conn0, valueHandle, Array("peripheral\(i)".utf8))
            let answer = try instance0.waitFor("_IRQ_GATTC_NOTIFY for round \(i)") { event -> [UInt8]? in
                if case let .gattcNotify(connHandle, handle, notifyData) = event, connHandle == conn0, handle == valueHandle {
                    return notifyData
                }
                return nil
            }
            answers.append(answer)
        }

        instance0.print("gap_disconnect: \(pyBool(try ble0.gapDisconnect(conn0)))")
        try instance0.wait(code: GATTIRQ.centralDisconnect)
        try instance1.wait(code: GATTIRQ.peripheralDisconnect)

        #expect(instance0.lines == Self.expected0)
        #expect(instance1.lines == Self.expected1)

        // Every notification in order, none lost, none extra, on both sides.
        #expect(answers == (0..<Self.rounds).map { Array("centralperipheral\($0)".utf8) })
        let received0 = instance0.events.compactMap { event -> [UInt8]? in
            if case let .gattcNotify(_, _, notifyData) = event { return notifyData }
            return nil
        }
        #expect(received0 == answers)
        let received1 = instance1.events.compactMap { event -> [UInt8]? in
            if case let .gattcNotify(connHandle, handle, notifyData) = event, connHandle == conn1, handle == valueHandle {
                return notifyData
            }
            return nil
        }
        #expect(received1 == (0..<Self.rounds).map { Array("peripheral\($0)".utf8) })
        #expect(instance1.events.filter { $0.code == GATTIRQ.gattcNotify }.count == Self.rounds)
    }
}
