import Foundation
import Testing
@testable import Bluetooth

/// GATT over several connections at once (API.md, "Where the Swift port goes further": many
/// connections, many GATT procedures in flight). No MicroPython counterpart; same style as the ports.
@Suite("Scenario: GATT multiple connections")
struct ScenarioGATTMultiConnectionTests {
    static let serviceUUID = BluetoothUUID(0xFFF0)
    static let charUUID = BluetoothUUID(0xFFF1)
    static let fillerUUID = BluetoothUUID(0xFFF2)
    static let cccdUUID = BluetoothUUID(0x2902)

    /// The value handle and the CCCD handle of `charUUID` on `conn`, found with the client
    /// procedures (characteristics, then descriptors in (value handle, end handle]).
    static func discover(_ client: GATTScenarioInstance, _ conns: [UInt16]) throws -> [UInt16: (value: UInt16, cccd: UInt16)] {
        let ble = client.ble
        // Characteristic discovery on every connection at once.
        for conn in conns { try ble.gattcDiscoverCharacteristics(conn, 1, 65535) }
        let characteristics = try client.waitUntil("_IRQ_GATTC_CHARACTERISTIC_DONE on \(conns.count) connections") { events in
            Set(events.compactMap { event -> UInt16? in
                if case let .gattcCharacteristicDone(connHandle, _) = event { return connHandle }
                return nil
            }) == Set(conns)
        }
        var ranges: [UInt16: (value: UInt16, end: UInt16)] = [:]
        for case let .gattcCharacteristicResult(connHandle, endHandle, valueHandle, _, uuid) in characteristics where uuid == charUUID {
            #expect(ranges[connHandle] == nil, "one \(charUUID) per connection")
            ranges[connHandle] = (valueHandle, endHandle)
        }
        for case let .gattcCharacteristicDone(connHandle, status) in characteristics {
            #expect(status == 0, "characteristic discovery on \(connHandle)")
        }
        // Descriptor discovery on every connection at once.
        for conn in conns {
            let range = try #require(ranges[conn], "\(charUUID) on connection \(conn)")
            try ble.gattcDiscoverDescriptors(conn, range.value, range.end)
        }
        let descriptors = try client.waitUntil("_IRQ_GATTC_DESCRIPTOR_DONE on \(conns.count) connections") { events in
            Set(events.compactMap { event -> UInt16? in
                if case let .gattcDescriptorDone(connHandle, _) = event { return connHandle }
                return nil
            }) == Set(conns)
        }
        var result: [UInt16: (value: UInt16, cccd: UInt16)] = [:]
        for case let .gattcDescriptorResult(connHandle, dscHandle, uuid) in descriptors where uuid == cccdUUID {
            let range = try #require(ranges[connHandle])
            #expect(dscHandle > range.value && dscHandle <= range.end)
            result[connHandle] = (range.value, dscHandle)
        }
        #expect(Set(result.keys) == Set(conns))
        return result
    }

    /// Waits until each of `conns` has its `_IRQ_GATTC_WRITE_DONE`, and checks the statuses.
    static func waitWritesDone(_ client: GATTScenarioInstance, _ conns: [UInt16]) throws {
        let events = try client.waitUntil("_IRQ_GATTC_WRITE_DONE on \(conns.count) connections") { events in
            events.filter { $0.code == GATTIRQ.gattcWriteDone }.count >= conns.count
        }
        var statuses: [UInt16: Int] = [:]
        for case let .gattcWriteDone(connHandle, _, status) in events { statuses[connHandle] = status }
        #expect(statuses == Dictionary(uniqueKeysWithValues: conns.map { ($0, 0) }))
    }

    /// One central connected to three peripherals: reads and subscriptions on all three links at
    /// once, and every notification reported with the connection it came from.
    @Test func oneCentralThreePeripherals() throws {
        let radio = uniqueRadio()
        let central = try GATTScenarioInstance("central", transport: radio)
        let peripherals = try (0..<3).map { try GATTScenarioInstance("peripheral\($0)", transport: radio) }
        defer {
            central.deactivate()
            for p in peripherals { p.deactivate() }
        }
        try central.activate()
        for p in peripherals { try p.activate() }

        // Peripheral k has k filler characteristics before the one under test, so the value
        // handles differ from one server to the next.
        var serverHandles: [UInt16] = []
        for (k, p) in peripherals.enumerated() {
            let fillers = (0..<k).map { _ in BLE.Characteristic(Self.fillerUUID, [.read]) }
            let handles = try p.ble.gattsRegisterServices([
                BLE.Service(Self.serviceUUID, fillers + [BLE.Characteristic(Self.charUUID, [.read, .notify])]),
            ])
            let handle = try #require(handles.first?.last)
            serverHandles.append(handle)
            try p.ble.gattsWrite(handle, Array("peripheral\(k)".utf8))
            try p.ble.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06])
        }
        #expect(Set(serverHandles).count == 3)

        // Connect to each in turn; the connection handles are distinct.
        var conns: [UInt16] = []
        var peripheralConns: [UInt16] = []
        for p in peripherals {
            let (addrType, addr) = try p.ble.config(.mac)
            try central.ble.gapConnect(addrType, addr)
            let conn = try central.waitFor("_IRQ_PERIPHERAL_CONNECT") { event -> UInt16? in
                if case let .peripheralConnect(connHandle, type, address) = event, type == addrType, address == addr {
                    return connHandle
                }
                return nil
            }
            conns.append(conn)
            peripheralConns.append(try p.waitConnect(GATTIRQ.centralConnect))
        }
        #expect(Set(conns).count == 3)

        let found = try Self.discover(central, conns)
        for k in 0..<3 {
            #expect(found[conns[k]]?.value == serverHandles[k], "value handle of peripheral\(k)")
        }

        // Read all three at once: each result carries its own connection's value.
        for k in 0..<3 {
            try central.ble.gattcRead(conns[k], try #require(found[conns[k]]).value)
        }
        let reads = try central.waitUntil("_IRQ_GATTC_READ_DONE on 3 connections") { events in
            events.filter { $0.code == GATTIRQ.gattcReadDone }.count >= 3
        }
        var values: [UInt16: [UInt8]] = [:]
        for case let .gattcReadResult(connHandle, valueHandle, charData) in reads {
            #expect(valueHandle == found[connHandle]?.value)
            values[connHandle] = charData
        }
        for case let .gattcReadDone(connHandle, _, status) in reads {
            #expect(status == 0, "read on \(connHandle)")
        }
        for k in 0..<3 {
            #expect(values[conns[k]] == Array("peripheral\(k)".utf8))
        }

        // Subscribe on all three at once (0x0001 to each CCCD).
        for k in 0..<3 {
            try central.ble.gattcWrite(conns[k], try #require(found[conns[k]]).cccd, [0x01, 0x00], .withResponse)
        }
        try Self.waitWritesDone(central, conns)

        // Each peripheral updates its value with send_update: one notification per link, with the
        // right connection handle, value handle and data.
        func expectNotifications(_ label: String, _ expected: [UInt16: [UInt8]]) throws {
            let events = try central.waitUntil("\(label): 3 _IRQ_GATTC_NOTIFY") { events in
                events.filter { $0.code == GATTIRQ.gattcNotify }.count >= 3
            }
            var got: [UInt16: [[UInt8]]] = [:]
            for case let .gattcNotify(connHandle, valueHandle, notifyData) in events {
                #expect(valueHandle == found[connHandle]?.value, "\(label): value handle on \(connHandle)")
                got[connHandle, default: []].append(notifyData)
            }
            #expect(got == expected.mapValues { [$0] }, "\(label)")
        }
        for (k, p) in peripherals.enumerated() {
            try p.ble.gattsWrite(serverHandles[k], Array("update\(k)".utf8), true)
        }
        try expectNotifications("send_update", Dictionary(uniqueKeysWithValues: (0..<3).map {
            (conns[$0], Array("update\($0)".utf8))
        }))

        // Explicit notifications, last peripheral first.
        for k in (0..<3).reversed() {
            try peripherals[k].ble.gattsNotify(peripheralConns[k], serverHandles[k], Array("direct\(k)".utf8))
        }
        try expectNotifications("gatts_notify", Dictionary(uniqueKeysWithValues: (0..<3).map {
            (conns[$0], Array("direct\($0)".utf8))
        }))

        // Disconnect all three.
        for conn in conns { #expect(try central.ble.gapDisconnect(conn)) }
        try central.waitUntil("3 _IRQ_PERIPHERAL_DISCONNECT") { events in
            events.filter { $0.code == GATTIRQ.peripheralDisconnect }.count >= 3
        }
        for p in peripherals { try p.wait(code: GATTIRQ.centralDisconnect) }

        // CCCD writes raise no _IRQ_GATTS_WRITE on the servers.
        for p in peripherals {
            #expect(!p.events.contains { $0.code == GATTIRQ.gattsWrite }, "\(p.label)")
        }
    }

    /// One peripheral serving two centrals: the CCCD is per connection, so `gattsWrite(h, v, true)`
    /// reaches only the central subscribed at the time.
    @Test func onePeripheralTwoCentrals() throws {
        let radio = uniqueRadio()
        let peripheral = try GATTScenarioInstance("peripheral", transport: radio)
        let centralA = try GATTScenarioInstance("centralA", transport: radio)
        let centralB = try GATTScenarioInstance("centralB", transport: radio)
        defer {
            peripheral.deactivate()
            centralA.deactivate()
            centralB.deactivate()
        }
        try peripheral.activate()
        try centralA.activate()
        try centralB.activate()
        let server = peripheral.ble

        let handles = try server.gattsRegisterServices([
            BLE.Service(Self.serviceUUID, [BLE.Characteristic(Self.charUUID, [.read, .write, .notify])]),
        ])
        let handle = try #require(handles.first?.first)
        try server.gattsWrite(handle, Array("initial".utf8))
        let (addrType, addr) = try server.config(.mac)

        // Both centrals connect; advertising stops at each connection, so the peripheral
        // advertises again for the second.
        var serverConns: [UInt16] = []
        var clientConns: [UInt16] = []
        for central in [centralA, centralB] {
            try server.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06])
            try central.ble.gapConnect(addrType, addr)
            clientConns.append(try central.waitConnect(GATTIRQ.peripheralConnect))
            serverConns.append(try peripheral.waitConnect(GATTIRQ.centralConnect))
        }
        #expect(Set(serverConns).count == 2)
        let (connA, connB) = (clientConns[0], clientConns[1])
        let foundA = try #require(Self.discover(centralA, [connA])[connA])
        let foundB = try #require(Self.discover(centralB, [connB])[connB])
        #expect(foundA.value == handle && foundB.value == handle)

        /// Reads `valueHandle` over `conn` and returns (value, every event consumed on the way),
        /// so a notification that arrived before the read's answer shows up in the events.
        func read(_ central: GATTScenarioInstance, _ conn: UInt16, _ valueHandle: UInt16) throws -> ([UInt8], [BLE.Event]) {
            try central.ble.gattcRead(conn, valueHandle)
            let events = try central.waitUntil("_IRQ_GATTC_READ_DONE") { $0.last?.code == GATTIRQ.gattcReadDone }
            #expect(events.last == .gattcReadDone(connHandle: conn, valueHandle: valueHandle, status: 0))
            let value = events.compactMap { event -> [UInt8]? in
                if case let .gattcReadResult(c, h, data) = event, c == conn, h == valueHandle { return data }
                return nil
            }
            return (value.first ?? [], events)
        }
        func notifications(_ events: [BLE.Event]) -> [[UInt8]] {
            events.compactMap { event -> [UInt8]? in
                if case let .gattcNotify(_, _, data) = event { return data }
                return nil
            }
        }
        func subscribe(_ central: GATTScenarioInstance, _ conn: UInt16, _ cccd: UInt16, _ value: [UInt8]) throws {
            try central.ble.gattcWrite(conn, cccd, value, .withResponse)
            let done = try central.wait(code: GATTIRQ.gattcWriteDone)
            #expect(done == .gattcWriteDone(connHandle: conn, valueHandle: cccd, status: 0))
        }

        // Both read the initial value.
        #expect(try read(centralA, connA, handle).0 == Array("initial".utf8))
        #expect(try read(centralB, connB, handle).0 == Array("initial".utf8))

        // A subscribes: "one" reaches A only.
        try subscribe(centralA, connA, foundA.cccd, [0x01, 0x00])
        try server.gattsWrite(handle, Array("one".utf8), true)
        let one = try centralA.wait(code: GATTIRQ.gattcNotify)
        #expect(one == .gattcNotify(connHandle: connA, valueHandle: handle, notifyData: Array("one".utf8)))
        // B's read answer comes after anything the server sent B before it: no notification.
        let (valueB, eventsB) = try read(centralB, connB, handle)
        #expect(valueB == Array("one".utf8))
        #expect(notifications(eventsB) == [])

        // Each central reads its own CCCD value.
        #expect(try read(centralA, connA, foundA.cccd).0 == [0x01, 0x00])
        #expect(try read(centralB, connB, foundB.cccd).0 == [0x00, 0x00])

        // B subscribes, A unsubscribes: "two" reaches B only.
        try subscribe(centralB, connB, foundB.cccd, [0x01, 0x00])
        try subscribe(centralA, connA, foundA.cccd, [0x00, 0x00])
        try server.gattsWrite(handle, Array("two".utf8), true)
        let two = try centralB.wait(code: GATTIRQ.gattcNotify)
        #expect(two == .gattcNotify(connHandle: connB, valueHandle: handle, notifyData: Array("two".utf8)))
        let (valueA, eventsA) = try read(centralA, connA, handle)
        #expect(valueA == Array("two".utf8))
        #expect(notifications(eventsA) == [])
        #expect(try read(centralA, connA, foundA.cccd).0 == [0x00, 0x00])
        #expect(try read(centralB, connB, foundB.cccd).0 == [0x01, 0x00])

        // Both subscribed: "three" reaches both, once each.
        try subscribe(centralA, connA, foundA.cccd, [0x01, 0x00])
        try server.gattsWrite(handle, Array("three".utf8), true)
        #expect(try centralA.wait(code: GATTIRQ.gattcNotify)
            == .gattcNotify(connHandle: connA, valueHandle: handle, notifyData: Array("three".utf8)))
        #expect(try centralB.wait(code: GATTIRQ.gattcNotify)
            == .gattcNotify(connHandle: connB, valueHandle: handle, notifyData: Array("three".utf8)))

        // Disconnect both; no extra notification was raised on either side, and the CCCD writes
        // raised no _IRQ_GATTS_WRITE on the server.
        #expect(try centralA.ble.gapDisconnect(connA))
        #expect(try centralB.ble.gapDisconnect(connB))
        try centralA.wait(code: GATTIRQ.peripheralDisconnect)
        try centralB.wait(code: GATTIRQ.peripheralDisconnect)
        try peripheral.waitUntil("2 _IRQ_CENTRAL_DISCONNECT") { events in
            events.filter { $0.code == GATTIRQ.centralDisconnect }.count >= 2
        }
        #expect(notifications(centralA.events) == [Array("one".utf8), Array("three".utf8)])
        #expect(notifications(centralB.events) == [Array("two".utf8), Array("three".utf8)])
        #expect(!peripheral.events.contains { $0.code == GATTIRQ.gattsWrite })
    }
}
