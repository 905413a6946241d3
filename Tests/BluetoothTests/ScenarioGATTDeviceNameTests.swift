import Foundation
import Testing
@testable import Bluetooth

/// Port of MicroPython's tests/multi_bluetooth/ble_gap_device_name.py and its .exp: the GAP
/// Device Name characteristic (0x2A00) serves `gapName`, also after the name changes.
@Suite("Scenario: GATT ble_gap_device_name")
struct ScenarioGATTDeviceNameTests {
    // MicroPython's config("gap_name") returns bytes, so the script's print(ble.config("gap_name"))
    // shows b'GAP_NAME'. API.md's `.gapName` is a String; the port prints it through pyBytes of its
    // UTF-8 so that these lines stay verbatim.
    static let expected0 = expLines("""
        b'GAP_NAME'
        gap_advertise
        b'GAP_NAME0'
        _IRQ_CENTRAL_CONNECT
        _IRQ_CENTRAL_DISCONNECT
        b'GAP_NAME1'
        _IRQ_CENTRAL_CONNECT
        _IRQ_CENTRAL_DISCONNECT
        """)

    static let expected1 = expLines("""
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        gattc_discover_characteristics
        _IRQ_GATTC_CHARACTERISTIC_RESULT UUID(0x2a00)
        _IRQ_GATTC_CHARACTERISTIC_DONE
        gattc_read
        _IRQ_GATTC_READ_RESULT b'GAP_NAME0'
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        gattc_read
        _IRQ_GATTC_READ_RESULT b'GAP_NAME1'
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        """)

    @Test func deviceNameServedAndChanged() throws {
        let deviceNameUUID = BluetoothUUID(0x2A00)
        let handler: GATTScenarioInstance.Handler = { irq, event in
            switch event {
            case .centralConnect: irq.print("_IRQ_CENTRAL_CONNECT")
            case .centralDisconnect: irq.print("_IRQ_CENTRAL_DISCONNECT")
            case .peripheralConnect: irq.print("_IRQ_PERIPHERAL_CONNECT")
            case .peripheralDisconnect: irq.print("_IRQ_PERIPHERAL_DISCONNECT")
            case let .gattcCharacteristicResult(_, _, _, _, uuid) where uuid == deviceNameUUID:
                irq.print("_IRQ_GATTC_CHARACTERISTIC_RESULT \(uuid)")
            case .gattcCharacteristicDone: irq.print("_IRQ_GATTC_CHARACTERISTIC_DONE")
            case let .gattcReadResult(_, _, charData): irq.print("_IRQ_GATTC_READ_RESULT \(pyBytes(charData))")
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

        // instance0: set and get the name before registering services; register no services.
        let bdaddr = try ble0.config(.mac)
        try ble0.config(gapName: "GAP_NAME")
        instance0.print(pyBytes(Array(try ble0.config(.gapName).utf8)))
        #expect(try ble0.gattsRegisterServices([]) == [])
        instance0.print("gap_advertise")

        var valueHandle: UInt16?
        for iteration in 0..<2 {
            // instance0: change the name and advertise.
            try ble0.config(gapName: "GAP_NAME\(iteration)")
            instance0.print(pyBytes(Array(try ble0.config(.gapName).utf8)))
            try ble0.gapAdvertise(20_000)

            // instance1: connect.
            instance1.print("gap_connect")
            try ble1.gapConnect(bdaddr.0, bdaddr.1)
            let conn1 = try instance1.waitConnect(GATTIRQ.peripheralConnect)
            try instance0.wait(code: GATTIRQ.centralConnect)

            if iteration == 0 {
                // Discover once; the handle is the same on the second connection.
                instance1.print("gattc_discover_characteristics")
                try ble1.gattcDiscoverCharacteristics(conn1, 1, 65535)
                valueHandle = try instance1.waitFor("_IRQ_GATTC_CHARACTERISTIC_RESULT") { event -> UInt16? in
                    if case let .gattcCharacteristicResult(_, _, valueHandle, _, uuid) = event, uuid == deviceNameUUID {
                        return valueHandle
                    }
                    return nil
                }
                try instance1.wait(code: GATTIRQ.gattcCharacteristicDone)
            }

            // Read the peripheral's GAP device name.
            instance1.print("gattc_read")
            try ble1.gattcRead(conn1, try #require(valueHandle))
            try instance1.wait(code: GATTIRQ.gattcReadResult)

            instance1.print("gap_disconnect: \(pyBool(try ble1.gapDisconnect(conn1)))")
            try instance1.wait(code: GATTIRQ.peripheralDisconnect)
            try instance0.wait(code: GATTIRQ.centralDisconnect)
        }

        #expect(instance0.lines == Self.expected0)
        #expect(instance1.lines == Self.expected1)
    }
}
