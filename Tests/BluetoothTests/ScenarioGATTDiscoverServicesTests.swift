import Foundation
import Testing
@testable import Bluetooth

/// Port of MicroPython's tests/multi_bluetooth/ble_gattc_discover_services.py and its .exp: the
/// client discovers a server's two (empty) services, one with a 16-bit and one with a 128-bit UUID.
@Suite("Scenario: GATT ble_gattc_discover_services")
struct ScenarioGATTDiscoverServicesTests {
    static let expected0 = expLines("""
        gap_advertise
        _IRQ_CENTRAL_CONNECT
        _IRQ_CENTRAL_DISCONNECT
        """)

    static let expected1 = expLines("""
        gap_connect
        _IRQ_PERIPHERAL_CONNECT
        _IRQ_GATTC_SERVICE_RESULT UUID(0x180d)
        _IRQ_GATTC_SERVICE_RESULT UUID('a5a5a5a5-ffff-9999-1111-5a5a5a5a5a5a')
        _IRQ_GATTC_SERVICE_DONE
        discovered: 2
        gap_disconnect: True
        _IRQ_PERIPHERAL_DISCONNECT
        """)

    @Test func discoverServices() throws {
        let uuidA = BluetoothUUID(0x180D)
        let uuidB = try BluetoothUUID("A5A5A5A5-FFFF-9999-1111-5A5A5A5A5A5A")
        let services = [BLE.Service(uuidA, []), BLE.Service(uuidB, [])]
        // num_service_result of the script (written by instance1's handler only).
        let serviceResults = Locked(0)
        let handler: GATTScenarioInstance.Handler = { irq, event in
            switch event {
            case .centralConnect: irq.print("_IRQ_CENTRAL_CONNECT")
            case .centralDisconnect: irq.print("_IRQ_CENTRAL_DISCONNECT")
            case .peripheralConnect: irq.print("_IRQ_PERIPHERAL_CONNECT")
            case .peripheralDisconnect: irq.print("_IRQ_PERIPHERAL_DISCONNECT")
            case let .gattcServiceResult(_, _, _, uuid) where uuid == uuidA || uuid == uuidB:
                irq.print("_IRQ_GATTC_SERVICE_RESULT \(uuid)")
                serviceResults.value += 1
            case .gattcServiceDone: irq.print("_IRQ_GATTC_SERVICE_DONE")
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

        let bdaddr = try ble0.config(.mac)
        let handles = try ble0.gattsRegisterServices(services)
        #expect(handles == [[], []])
        instance0.print("gap_advertise")
        try ble0.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8))

        instance1.print("gap_connect")
        try ble1.gapConnect(bdaddr.0, bdaddr.1)
        let conn1 = try instance1.waitConnect(GATTIRQ.peripheralConnect)
        try instance0.wait(code: GATTIRQ.centralConnect)

        try ble1.gattcDiscoverServices(conn1)
        let discovery = try instance1.waitUntil("_IRQ_GATTC_SERVICE_DONE") { $0.last?.code == GATTIRQ.gattcServiceDone }
        instance1.print("discovered: \(serviceResults.value)")

        instance1.print("gap_disconnect: \(pyBool(try ble1.gapDisconnect(conn1)))")
        try instance1.wait(code: GATTIRQ.peripheralDisconnect)
        try instance0.wait(code: GATTIRQ.centralDisconnect)

        #expect(instance0.lines == Self.expected0)
        #expect(instance1.lines == Self.expected1)

        // Beyond the .exp (which filters on the two UUIDs): API.md puts the GAP (0x1800) and GATT
        // (0x1801) services first, then the registered ones in order, in ascending, disjoint ranges;
        // the discovery ends with status 0.
        var ranges: [(UInt16, UInt16)] = []
        var uuids: [BluetoothUUID] = []
        for case let .gattcServiceResult(connHandle, start, end, uuid) in discovery where connHandle == conn1 {
            ranges.append((start, end))
            uuids.append(uuid)
        }
        #expect(uuids == [BluetoothUUID(0x1800), BluetoothUUID(0x1801), uuidA, uuidB])
        #expect(ranges.allSatisfy { start, end in start <= end })
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { earlier, later in earlier.1 < later.0 })
        #expect(discovery.last == .gattcServiceDone(connHandle: conn1, status: 0))
    }
}
