import Foundation
import Testing
@testable import Bluetooth

/// Port of MicroPython's tests/multi_bluetooth/ble_mtu.py and its .exp: four connections with a
/// central-initiated MTU exchange (the central prefers 300, the peripheral 256, 200, 400, 50); the
/// result is min(ours, theirs) on both sides, and it bounds notifications (64 bytes are cut to
/// MTU-3 at MTU 50) and writes.
@Suite("Scenario: GATT ble_mtu")
struct ScenarioGATTMTUTests {
    static let expected0 = expLines("""
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        _IRQ_MTU_EXCHANGED 256
        gatts_notify
        _IRQ_GATTS_WRITE
        gatts_read
        characteristic len: 253 a
        _IRQ_CENTRAL_DISCONNECT
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        _IRQ_MTU_EXCHANGED 200
        gatts_notify
        _IRQ_GATTS_WRITE
        gatts_read
        characteristic len: 197 b
        _IRQ_CENTRAL_DISCONNECT
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        _IRQ_MTU_EXCHANGED 300
        gatts_notify
        _IRQ_GATTS_WRITE
        gatts_read
        characteristic len: 297 c
        _IRQ_CENTRAL_DISCONNECT
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        _IRQ_MTU_EXCHANGED 50
        gatts_notify
        _IRQ_GATTS_WRITE
        gatts_read
        characteristic len: 47 d
        _IRQ_CENTRAL_DISCONNECT
        """)

    static let expected1 = expLines("""
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        gattc_exchange_mtu
        _IRQ_MTU_EXCHANGED 256
        gattc_discover_characteristics
        _IRQ_GATTC_CHARACTERISTIC_RESULT UUID('00000000-1111-2222-3333-444444444444')
        _IRQ_GATTC_CHARACTERISTIC_DONE
        _IRQ_GATTC_NOTIFY 64 0
        gattc_write
        _IRQ_GATTC_WRITE_DONE
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        gattc_exchange_mtu
        _IRQ_MTU_EXCHANGED 200
        gattc_discover_characteristics
        _IRQ_GATTC_CHARACTERISTIC_RESULT UUID('00000000-1111-2222-3333-444444444444')
        _IRQ_GATTC_CHARACTERISTIC_DONE
        _IRQ_GATTC_NOTIFY 64 1
        gattc_write
        _IRQ_GATTC_WRITE_DONE
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        gattc_exchange_mtu
        _IRQ_MTU_EXCHANGED 300
        gattc_discover_characteristics
        _IRQ_GATTC_CHARACTERISTIC_RESULT UUID('00000000-1111-2222-3333-444444444444')
        _IRQ_GATTC_CHARACTERISTIC_DONE
        _IRQ_GATTC_NOTIFY 64 2
        gattc_write
        _IRQ_GATTC_WRITE_DONE
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        gattc_exchange_mtu
        _IRQ_MTU_EXCHANGED 50
        gattc_discover_characteristics
        _IRQ_GATTC_CHARACTERISTIC_RESULT UUID('00000000-1111-2222-3333-444444444444')
        _IRQ_GATTC_CHARACTERISTIC_DONE
        _IRQ_GATTC_NOTIFY 47 3
        gattc_write
        _IRQ_GATTC_WRITE_DONE
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        """)

    @Test func centralInitiatedExchange() throws {
        let serviceUUID = try BluetoothUUID("A5A5A5A5-FFFF-9999-1111-5A5A5A5A5A5A")
        let charUUID = try BluetoothUUID("00000000-1111-2222-3333-444444444444")
        let services = [BLE.Service(serviceUUID, [BLE.Characteristic(charUUID, [.read, .write, .notify])])]
        let handler = ScenarioGATTMTUTests.handler(charUUID)
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

        let bdaddr = try ble0.config(.mac)
        let handles = try ble0.gattsRegisterServices(services)
        #expect(handles.map(\.count) == [1])
        let charHandle = try #require(handles.first?.first)
        try ble0.gattsSetBuffer(charHandle, 500, false)

        let defaultMTUs = [256, 200, 400, 50]
        for i in 0..<4 {
            // instance0 prefers defaultMTUs[i]; instance1 prefers 300.
            try ble0.config(mtu: defaultMTUs[i])
            instance0.print("gap_advertise")
            try ble0.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8))
            try ble1.config(mtu: 300)

            instance1.print("gap_connect")
            try ble1.gapConnect(bdaddr.0, bdaddr.1, 5000)
            let conn1 = try instance1.waitConnect(GATTIRQ.peripheralConnect)
            // "peripheral is connected": the exchange starts after the peripheral saw the connection.
            let conn0 = try instance0.waitConnect(GATTIRQ.centralConnect)

            // Central-initiated MTU exchange, reported on both sides.
            instance1.print("gattc_exchange_mtu")
            try ble1.gattcExchangeMtu(conn1)
            let mtu = try Self.waitMTU(instance1)
            #expect(try Self.waitMTU(instance0) == mtu)

            instance1.print("gattc_discover_characteristics")
            try ble1.gattcDiscoverCharacteristics(conn1, 1, 65535)
            let valueHandle = try instance1.waitFor("_IRQ_GATTC_CHARACTERISTIC_RESULT") { event -> UInt16? in
                if case let .gattcCharacteristicResult(_, _, valueHandle, _, uuid) = event, uuid == charUUID { return valueHandle }
                return nil
            }
            try instance1.wait(code: GATTIRQ.gattcCharacteristicDone)

            // "client:discovery:i": the peripheral notifies 64 bytes of str(i).
            instance0.print("gatts_notify")
            try ble0.gattsNotify(conn0, charHandle, Array(repeating: UInt8(ascii: "0") + UInt8(i), count: 64))
            try instance1.wait(code: GATTIRQ.gattcNotify)

            // The central writes MTU-3 bytes with response.
            instance1.print("gattc_write")
            try ble1.gattcWrite(conn1, valueHandle, Array(repeating: UInt8(ascii: "a") + UInt8(i), count: max(mtu - 3, 0)),
                                .withResponse)
            try instance1.wait(code: GATTIRQ.gattcWriteDone)

            try instance0.wait(code: GATTIRQ.gattsWrite)
            instance0.print("gatts_read")
            let data = ble0.gattsRead(charHandle)
            instance0.print("characteristic len: \(data.count) \(pyChr(data.first))")

            // (The script sleeps 300 ms here; nothing is in flight any more.)
            instance1.print("gap_disconnect: \(pyBool(try ble1.gapDisconnect(conn1)))")
            try instance1.wait(code: GATTIRQ.peripheralDisconnect)
            try instance0.wait(code: GATTIRQ.centralDisconnect)
        }

        #expect(instance0.lines == Self.expected0)
        #expect(instance1.lines == Self.expected1)
    }

    /// The irq handler of ble_mtu.py and ble_mtu_peripheral.py.
    static func handler(_ charUUID: BluetoothUUID) -> GATTScenarioInstance.Handler {
        { irq, event in
            switch event {
            case .centralConnect: irq.print("_IRQ_CENTRAL_CONNECT")
            case .centralDisconnect: irq.print("_IRQ_CENTRAL_DISCONNECT")
            case .gattsWrite: irq.print("_IRQ_GATTS_WRITE")
            case .peripheralConnect: irq.print("_IRQ_PERIPHERAL_CONNECT")
            case .peripheralDisconnect: irq.print("_IRQ_PERIPHERAL_DISCONNECT")
            case let .gattcCharacteristicResult(_, _, _, _, uuid) where uuid == charUUID:
                irq.print("_IRQ_GATTC_CHARACTERISTIC_RESULT \(uuid)")
            case .gattcCharacteristicDone: irq.print("_IRQ_GATTC_CHARACTERISTIC_DONE")
            case .gattcWriteDone: irq.print("_IRQ_GATTC_WRITE_DONE")
            case let .gattcNotify(_, _, notifyData):
                irq.print("_IRQ_GATTC_NOTIFY \(notifyData.count) \(pyChr(notifyData.first))")
            case let .mtuExchanged(_, mtu): irq.print("_IRQ_MTU_EXCHANGED \(mtu)")
            default: break
            }
            return nil
        }
    }

    /// Waits for `_IRQ_MTU_EXCHANGED` and returns the MTU.
    static func waitMTU(_ instance: GATTScenarioInstance) throws -> Int {
        try instance.waitFor("_IRQ_MTU_EXCHANGED") { event -> Int? in
            if case let .mtuExchanged(_, mtu) = event { return mtu }
            return nil
        }
    }
}
