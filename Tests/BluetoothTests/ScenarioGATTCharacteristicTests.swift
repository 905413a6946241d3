import Foundation
import Testing
@testable import Bluetooth

/// Port of MicroPython's tests/multi_bluetooth/ble_characteristic.py and its .exp: characteristic
/// read, write (with and without response), notify (stored value and explicit value) and indicate,
/// from both the server and the client side.
@Suite("Scenario: GATT ble_characteristic")
struct ScenarioGATTCharacteristicTests {
    static let expected0 = expLines("""
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        _IRQ_GATTS_WRITE b'central0'
        gatts_write
        gatts_notify
        _IRQ_GATTS_WRITE b'central1'
        gatts_notify
        _IRQ_GATTS_WRITE b'central2'
        gatts_write
        gatts_indicate
        _IRQ_GATTS_INDICATE_DONE 0
        _IRQ_GATTS_WRITE b'central3'
        gatts_notify
        _IRQ_CENTRAL_DISCONNECT
        """)

    static let expected1 = expLines("""
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        _IRQ_GATTC_CHARACTERISTIC_RESULT UUID('00000000-1111-2222-3333-444444444444')
        _IRQ_GATTC_CHARACTERISTIC_DONE
        gattc_read
        _IRQ_GATTC_READ_RESULT b'periph0'
        _IRQ_GATTC_READ_DONE 0
        gattc_write
        _IRQ_GATTC_WRITE_DONE 0
        _IRQ_GATTC_NOTIFY b'periph1'
        gattc_read
        _IRQ_GATTC_READ_RESULT b'periph1'
        _IRQ_GATTC_READ_DONE 0
        gattc_write
        _IRQ_GATTC_WRITE_DONE 0
        _IRQ_GATTC_NOTIFY b'periph2'
        gattc_read
        _IRQ_GATTC_READ_RESULT b'central1'
        _IRQ_GATTC_READ_DONE 0
        gattc_write
        _IRQ_GATTC_WRITE_DONE 0
        _IRQ_GATTC_INDICATE b'periph3'
        gattc_read
        _IRQ_GATTC_READ_RESULT b'periph3'
        _IRQ_GATTC_READ_DONE 0
        _IRQ_GATTC_NOTIFY b'central3'
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        """)

    @Test func readWriteNotifyIndicate() throws {
        let serviceUUID = try BluetoothUUID("A5A5A5A5-FFFF-9999-1111-5A5A5A5A5A5A")
        let charUUID = try BluetoothUUID("00000000-1111-2222-3333-444444444444")
        let services = [
            BLE.Service(serviceUUID, [BLE.Characteristic(charUUID, [.read, .write, .writeNoResponse, .notify, .indicate])]),
        ]
        // The script's one irq handler, shared by both instances.
        let handler: GATTScenarioInstance.Handler = { irq, event in
            switch event {
            case .centralConnect: irq.print("_IRQ_CENTRAL_CONNECT")
            case .centralDisconnect: irq.print("_IRQ_CENTRAL_DISCONNECT")
            case let .gattsWrite(_, attrHandle): irq.print("_IRQ_GATTS_WRITE \(pyBytes(irq.ble.gattsRead(attrHandle)))")
            case .peripheralConnect: irq.print("_IRQ_PERIPHERAL_CONNECT")
            case .peripheralDisconnect: irq.print("_IRQ_PERIPHERAL_DISCONNECT")
            case let .gattcCharacteristicResult(_, _, _, _, uuid) where uuid == charUUID:
                irq.print("_IRQ_GATTC_CHARACTERISTIC_RESULT \(uuid)")
            case .gattcCharacteristicDone: irq.print("_IRQ_GATTC_CHARACTERISTIC_DONE")
            case let .gattcReadResult(_, _, charData): irq.print("_IRQ_GATTC_READ_RESULT \(pyBytes(charData))")
            case let .gattcReadDone(_, _, status): irq.print("_IRQ_GATTC_READ_DONE \(status)")
            case let .gattcWriteDone(_, _, status): irq.print("_IRQ_GATTC_WRITE_DONE \(status)")
            case let .gattcNotify(_, _, notifyData): irq.print("_IRQ_GATTC_NOTIFY \(pyBytes(notifyData))")
            case let .gattcIndicate(_, _, notifyData): irq.print("_IRQ_GATTC_INDICATE \(pyBytes(notifyData))")
            case let .gattsIndicateDone(_, _, status): irq.print("_IRQ_GATTS_INDICATE_DONE \(status)")
            default: break
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

        // instance0 (peripheral): register, advertise, set the initial value.
        let bdaddr = try ble0.config(.mac)
        let handles = try ble0.gattsRegisterServices(services)
        #expect(handles.map(\.count) == [1])
        let charHandle = try #require(handles.first?.first)
        instance0.print("gap_advertise")
        try ble0.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8))
        try ble0.gattsWrite(charHandle, Array("periph0".utf8))

        // instance1 (central): connect.
        instance1.print("gap_connect")
        try ble1.gapConnect(bdaddr.0, bdaddr.1)
        let conn1 = try instance1.waitConnect(GATTIRQ.peripheralConnect)
        let conn0 = try instance0.waitConnect(GATTIRQ.centralConnect)

        // Discover characteristics.
        try ble1.gattcDiscoverCharacteristics(conn1, 1, 65535)
        let valueHandle = try instance1.waitFor("_IRQ_GATTC_CHARACTERISTIC_RESULT") { event -> UInt16? in
            if case let .gattcCharacteristicResult(_, _, valueHandle, _, uuid) = event, uuid == charUUID { return valueHandle }
            return nil
        }
        try instance1.wait(code: GATTIRQ.gattcCharacteristicDone)

        // Read the initial value. (The script waits for _IRQ_GATTC_READ_RESULT; its .exp shows
        // _IRQ_GATTC_READ_DONE, which follows at once, before the next print, so the port waits for
        // the DONE event to keep that order deterministic. Same below.)
        instance1.print("gattc_read")
        try ble1.gattcRead(conn1, valueHandle)
        try instance1.wait(code: GATTIRQ.gattcReadDone)

        // A: a write with response makes the server write a new value and notify it.
        instance1.print("gattc_write")
        try ble1.gattcWrite(conn1, valueHandle, Array("central0".utf8), .withResponse)
        try instance1.wait(code: GATTIRQ.gattcWriteDone)
        try instance0.wait(code: GATTIRQ.gattsWrite)
        instance0.print("gatts_write")
        try ble0.gattsWrite(charHandle, Array("periph1".utf8))
        instance0.print("gatts_notify")
        try ble0.gattsNotify(conn0, charHandle)
        try instance1.wait(code: GATTIRQ.gattcNotify)
        instance1.print("gattc_read")  // the value set just before the notification
        try ble1.gattcRead(conn1, valueHandle)
        try instance1.wait(code: GATTIRQ.gattcReadDone)

        // B: a value-included notification leaves the stored value alone.
        instance1.print("gattc_write")
        try ble1.gattcWrite(conn1, valueHandle, Array("central1".utf8), .withResponse)
        try instance1.wait(code: GATTIRQ.gattcWriteDone)
        try instance0.wait(code: GATTIRQ.gattsWrite)
        instance0.print("gatts_notify")
        try ble0.gattsNotify(conn0, charHandle, Array("periph2".utf8))
        try instance1.wait(code: GATTIRQ.gattcNotify)
        instance1.print("gattc_read")  // unchanged: still what the central wrote
        try ble1.gattcRead(conn1, valueHandle)
        try instance1.wait(code: GATTIRQ.gattcReadDone)

        // C: an indication of the stored value.
        instance1.print("gattc_write")
        try ble1.gattcWrite(conn1, valueHandle, Array("central2".utf8), .withResponse)
        try instance1.wait(code: GATTIRQ.gattcWriteDone)
        try instance0.wait(code: GATTIRQ.gattsWrite)
        instance0.print("gatts_write")
        try ble0.gattsWrite(charHandle, Array("periph3".utf8))
        instance0.print("gatts_indicate")
        try ble0.gattsIndicate(conn0, charHandle)
        try instance0.wait(code: GATTIRQ.gattsIndicateDone)
        try instance1.wait(code: GATTIRQ.gattcIndicate)
        instance1.print("gattc_read")  // the value set just before the indication
        try ble1.gattcRead(conn1, valueHandle)
        try instance1.wait(code: GATTIRQ.gattcReadDone)

        // D: a write without response, answered by a notification of the stored (written) value.
        try ble1.gattcWrite(conn1, valueHandle, Array("central3".utf8), .noResponse)
        try instance0.wait(code: GATTIRQ.gattsWrite)
        instance0.print("gatts_notify")
        try ble0.gattsNotify(conn0, charHandle)
        try instance1.wait(code: GATTIRQ.gattcNotify)

        // Disconnect.
        instance1.print("gap_disconnect: \(pyBool(try ble1.gapDisconnect(conn1)))")
        try instance1.wait(code: GATTIRQ.peripheralDisconnect)
        try instance0.wait(code: GATTIRQ.centralDisconnect)

        #expect(instance0.lines == Self.expected0)
        #expect(instance1.lines == Self.expected1)
    }
}
