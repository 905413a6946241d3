import Foundation
import Testing
@testable import Bluetooth

// THIS PORT DOES NOT MATCH UPSTREAM'S .exp, BY DESIGN. Three lines differ: upstream's
// ble_mtu_peripheral.py.exp has instance0 print "characteristic len: 253 a", "... 187 b" and
// "... 287 c"; this port expects 276, 210 and 310. Why: the script writes MTU+20 bytes with
// response "to test truncation", and on MicroPython that write goes out as one Write Request, of
// which only MTU-3 bytes arrive. API.md (../shared/API.md, gattcWrite) makes a write
// with response longer than MTU-3 a long write (Prepare/Execute), so all MTU+20 bytes arrive (the
// 500-byte buffer holds them). Every other line is upstream's, verbatim.

/// Port of MicroPython's tests/multi_bluetooth/ble_mtu_peripheral.py and its .exp (see above for
/// the three lines that differ): three connections with a peripheral-initiated MTU exchange (the
/// peripheral prefers 290, the central 256, 190, 350), then a notification and a write of MTU+20
/// bytes with response.
@Suite("Scenario: GATT ble_mtu_peripheral")
struct ScenarioGATTMTUPeripheralTests {
    // The three "characteristic len" lines are 276, 210, 310 where upstream has 253, 187, 287
    // (the long write of API.md; see the top of this file).
    static let expected0 = expLines("""
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        gattc_exchange_mtu
        _IRQ_MTU_EXCHANGED 256
        gatts_notify
        _IRQ_GATTS_WRITE
        gatts_read
        characteristic len: 276 a
        _IRQ_CENTRAL_DISCONNECT
        gap_advertise
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        gattc_exchange_mtu
        _IRQ_MTU_EXCHANGED 190
        gatts_notify
        _IRQ_GATTS_WRITE
        gatts_read
        characteristic len: 210 b
        _IRQ_CENTRAL_DISCONNECT
        gap_advertise
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        gattc_exchange_mtu
        _IRQ_MTU_EXCHANGED 290
        gatts_notify
        _IRQ_GATTS_WRITE
        gatts_read
        characteristic len: 310 c
        _IRQ_CENTRAL_DISCONNECT
        gap_advertise
        """)

    static let expected1 = expLines("""
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
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
        _IRQ_MTU_EXCHANGED 190
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
        _IRQ_MTU_EXCHANGED 290
        gattc_discover_characteristics
        _IRQ_GATTC_CHARACTERISTIC_RESULT UUID('00000000-1111-2222-3333-444444444444')
        _IRQ_GATTC_CHARACTERISTIC_DONE
        _IRQ_GATTC_NOTIFY 64 2
        gattc_write
        _IRQ_GATTC_WRITE_DONE
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        """)

    @Test func peripheralInitiatedExchange() throws {
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
        let advData: [UInt8] = [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8)

        let bdaddr = try ble0.config(.mac)
        let handles = try ble0.gattsRegisterServices(services)
        #expect(handles.map(\.count) == [1])
        let charHandle = try #require(handles.first?.first)
        try ble0.gattsSetBuffer(charHandle, 500, false)

        let defaultMTUs = [256, 190, 350]
        var written: [Int] = []
        for i in 0..<3 {
            // instance0 prefers 290; instance1 prefers defaultMTUs[i].
            try ble0.config(mtu: 290)
            instance0.print("gap_advertise")
            try ble0.gapAdvertise(20_000, advData: advData)
            try ble1.config(mtu: defaultMTUs[i])

            instance1.print("gap_connect")
            try ble1.gapConnect(bdaddr.0, bdaddr.1, 5000)
            let conn1 = try instance1.waitConnect(GATTIRQ.peripheralConnect)
            let conn0 = try instance0.waitConnect(GATTIRQ.centralConnect)

            // "central is connected": the peripheral starts the exchange, reported on both sides.
            instance0.print("gattc_exchange_mtu")
            try ble0.gattcExchangeMtu(conn0)
            let mtu0 = try ScenarioGATTMTUTests.waitMTU(instance0)
            let mtu = try ScenarioGATTMTUTests.waitMTU(instance1)
            #expect(mtu0 == mtu)

            instance1.print("gattc_discover_characteristics")
            try ble1.gattcDiscoverCharacteristics(conn1, 1, 65535)
            let valueHandle = try instance1.waitFor("_IRQ_GATTC_CHARACTERISTIC_RESULT") { event -> UInt16? in
                if case let .gattcCharacteristicResult(_, _, valueHandle, _, uuid) = event, uuid == charUUID { return valueHandle }
                return nil
            }
            try instance1.wait(code: GATTIRQ.gattcCharacteristicDone)

            // "client:discovery:i".
            instance0.print("gatts_notify")
            try ble0.gattsNotify(conn0, charHandle, Array(repeating: UInt8(ascii: "0") + UInt8(i), count: 64))
            try instance1.wait(code: GATTIRQ.gattcNotify)

            // Write 20 more bytes than the MTU, with response (a long write here, see above).
            instance1.print("gattc_write")
            written.append(mtu + 20)
            try ble1.gattcWrite(conn1, valueHandle, Array(repeating: UInt8(ascii: "a") + UInt8(i), count: mtu + 20),
                                .withResponse)
            try instance1.wait(code: GATTIRQ.gattcWriteDone)

            try instance0.wait(code: GATTIRQ.gattsWrite)
            instance0.print("gatts_read")
            let data = ble0.gattsRead(charHandle)
            instance0.print("characteristic len: \(data.count) \(pyChr(data.first))")
            #expect(data == Array(repeating: UInt8(ascii: "a") + UInt8(i), count: mtu + 20))

            instance1.print("gap_disconnect: \(pyBool(try ble1.gapDisconnect(conn1)))")
            try instance1.wait(code: GATTIRQ.peripheralDisconnect)
            try instance0.wait(code: GATTIRQ.centralDisconnect)

            instance0.print("gap_advertise")
            try ble0.gapAdvertise(20_000, advData: advData)
        }

        #expect(written == [276, 210, 310])
        #expect(instance0.lines == Self.expected0)
        #expect(instance1.lines == Self.expected1)
    }
}
