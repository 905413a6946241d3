import Foundation
import Testing
@testable import Bluetooth

/// Port of MicroPython's tests/multi_bluetooth/ble_descriptor.py and its .exp: a characteristic
/// with a user descriptor; the client discovers both, reads both and writes both (the descriptor
/// also without response).
@Suite("Scenario: GATT ble_descriptor")
struct ScenarioGATTDescriptorTests {
    static let expected0 = expLines("""
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        _IRQ_GATTS_WRITE b'central0'
        _IRQ_GATTS_WRITE b'desc_central0'
        _IRQ_GATTS_WRITE b'desc_central1'
        _IRQ_CENTRAL_DISCONNECT
        """)

    static let expected1 = expLines("""
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        _IRQ_GATTC_CHARACTERISTIC_RESULT UUID('00000000-1111-2222-3333-444444444444')
        _IRQ_GATTC_CHARACTERISTIC_DONE
        _IRQ_GATTC_DESCRIPTOR_RESULT UUID('00000000-1111-2222-3333-555555555555')
        _IRQ_GATTC_DESCRIPTOR_DONE
        gattc_read characteristic
        _IRQ_GATTC_READ_RESULT b'periph0'
        _IRQ_GATTC_READ_DONE 0
        gattc_read descriptor
        _IRQ_GATTC_READ_RESULT b'desc_periph0'
        _IRQ_GATTC_READ_DONE 0
        gattc_write characteristic
        _IRQ_GATTC_WRITE_DONE 0
        gattc_write descriptor
        _IRQ_GATTC_WRITE_DONE 0
        gattc_write descriptor
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        """)

    @Test func discoverReadWriteDescriptor() throws {
        let serviceUUID = try BluetoothUUID("A5A5A5A5-FFFF-9999-1111-5A5A5A5A5A5A")
        let charUUID = try BluetoothUUID("00000000-1111-2222-3333-444444444444")
        let descUUID = try BluetoothUUID("00000000-1111-2222-3333-555555555555")
        let services = [
            BLE.Service(serviceUUID, [
                BLE.Characteristic(charUUID, [.read, .write], [BLE.Descriptor(descUUID, [.read, .write, .writeNoResponse])]),
            ]),
        ]
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
            case let .gattcDescriptorResult(_, _, uuid) where uuid == descUUID:
                irq.print("_IRQ_GATTC_DESCRIPTOR_RESULT \(uuid)")
            case .gattcDescriptorDone: irq.print("_IRQ_GATTC_DESCRIPTOR_DONE")
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

        // instance0 (peripheral).
        let bdaddr = try ble0.config(.mac)
        let handles = try ble0.gattsRegisterServices(services)
        #expect(handles.map(\.count) == [2])  // ((char_handle, desc_handle),)
        let charHandle = try #require(handles.first?.first)
        let descHandle = try #require(handles.first?.last)
        instance0.print("gap_advertise")
        try ble0.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8))
        try ble0.gattsWrite(charHandle, Array("periph0".utf8))
        try ble0.gattsWrite(descHandle, Array("desc_periph0".utf8))

        // instance1 (central): connect.
        instance1.print("gap_connect")
        try ble1.gapConnect(bdaddr.0, bdaddr.1)
        let conn1 = try instance1.waitConnect(GATTIRQ.peripheralConnect)
        try instance0.wait(code: GATTIRQ.centralConnect)

        // Discover the characteristic, then the descriptors in (value handle, end handle].
        try ble1.gattcDiscoverCharacteristics(conn1, 1, 65535)
        let (valueHandle, endHandle) = try instance1.waitFor("_IRQ_GATTC_CHARACTERISTIC_RESULT") { event -> (UInt16, UInt16)? in
            if case let .gattcCharacteristicResult(_, endHandle, valueHandle, _, uuid) = event, uuid == charUUID {
                return (valueHandle, endHandle)
            }
            return nil
        }
        try instance1.wait(code: GATTIRQ.gattcCharacteristicDone)
        try ble1.gattcDiscoverDescriptors(conn1, valueHandle, endHandle)
        let descHandle1 = try instance1.waitFor("_IRQ_GATTC_DESCRIPTOR_RESULT") { event -> UInt16? in
            if case let .gattcDescriptorResult(_, dscHandle, uuid) = event, uuid == descUUID { return dscHandle }
            return nil
        }
        try instance1.wait(code: GATTIRQ.gattcDescriptorDone)

        // Reads of the initial values. (The script waits for _IRQ_GATTC_READ_RESULT; the port waits
        // for the _IRQ_GATTC_READ_DONE the .exp shows before the next print, to keep the order fixed.)
        instance1.print("gattc_read characteristic")
        try ble1.gattcRead(conn1, valueHandle)
        try instance1.wait(code: GATTIRQ.gattcReadDone)
        instance1.print("gattc_read descriptor")
        try ble1.gattcRead(conn1, descHandle1)
        try instance1.wait(code: GATTIRQ.gattcReadDone)

        // Writes with response to the characteristic and the descriptor.
        instance1.print("gattc_write characteristic")
        try ble1.gattcWrite(conn1, valueHandle, Array("central0".utf8), .withResponse)
        try instance1.wait(code: GATTIRQ.gattcWriteDone)
        try instance0.wait(code: GATTIRQ.gattsWrite)
        instance1.print("gattc_write descriptor")
        try ble1.gattcWrite(conn1, descHandle1, Array("desc_central0".utf8), .withResponse)
        try instance1.wait(code: GATTIRQ.gattcWriteDone)
        try instance0.wait(code: GATTIRQ.gattsWrite)

        // Write without response to the descriptor. (The script sleeps 500 ms so that it arrives
        // before the disconnect; the port waits for the server's _IRQ_GATTS_WRITE instead.)
        instance1.print("gattc_write descriptor")
        try ble1.gattcWrite(conn1, descHandle1, Array("desc_central1".utf8), .noResponse)
        try instance0.wait(code: GATTIRQ.gattsWrite)

        instance1.print("gap_disconnect: \(pyBool(try ble1.gapDisconnect(conn1)))")
        try instance1.wait(code: GATTIRQ.peripheralDisconnect)
        try instance0.wait(code: GATTIRQ.centralDisconnect)

        #expect(descHandle1 == descHandle)
        #expect(instance0.lines == Self.expected0)
        #expect(instance1.lines == Self.expected1)
    }
}
