import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothSimulator

/// GATT end to end on the virtual radio: our client against our server.
@Suite("Scenario: GATT basics")
struct ScenarioGATTBasicsTests {
    static let service = BluetoothUUID(0xAAA0)
    static let readChar = BluetoothUUID(0xAAA1)
    static let writeChar = BluetoothUUID(0xAAA2)
    static let notifyChar = BluetoothUUID(0xAAA3)
    static let descriptor = BluetoothUUID(0x2901)

    @Test func discoverReadWriteNotifyIndicate() throws {
        let radio = uniqueRadio()
        let server = try BLE(transport: radio), client = try BLE(transport: radio)
        let sr = EventRecorder(server), cr = EventRecorder(client)
        try server.active(true)
        try client.active(true)
        defer {
            _ = try? server.active(false)
            _ = try? client.active(false)
        }
        try server.config(gapName: "gatt-server")
        let handles = try server.gattsRegisterServices([
            BLE.Service(Self.service, [
                BLE.Characteristic(Self.readChar, [.read], [BLE.Descriptor(Self.descriptor, [.read])]),
                BLE.Characteristic(Self.writeChar, [.read, .write, .writeNoResponse]),
                BLE.Characteristic(Self.notifyChar, [.read, .notify, .indicate]),
            ]),
        ])
        // GAP: 1-5 (service, Device Name decl+value, Appearance decl+value); GATT: 6-9 (service,
        // Service Changed decl+value, CCCD); ours from 10.
        #expect(handles == [[12, 13, 15, 17]])
        let (rh, dh, wh, nh) = (handles[0][0], handles[0][1], handles[0][2], handles[0][3])
        try server.gattsWrite(rh, Array("hello".utf8))
        let long = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        try server.gattsWrite(dh, long)

        let (st, sa) = try server.config(.mac)
        try server.gapAdvertise(20_000)
        try client.gapConnect(st, sa)
        let conn = try #require(cr.next(code: IRQ.peripheralConnect)?.connHandle)
        let sconn = try #require(sr.next(code: IRQ.centralConnect)?.connHandle)

        // Services: GAP, GATT, ours.
        try client.gattcDiscoverServices(conn)
        #expect(cr.next(code: 10) == .gattcServiceDone(connHandle: conn, status: 0))
        let services = cr.all.compactMap { e -> (UInt16, UInt16, BluetoothUUID)? in
            if case let .gattcServiceResult(_, s, e, u) = e { return (s, e, u) }
            return nil
        }
        #expect(services.map(\.2) == [BluetoothUUID(0x1800), BluetoothUUID(0x1801), Self.service])
        #expect(services.map(\.0) == [1, 6, 10])
        #expect(services.map(\.1) == [5, 9, 18])
        // By UUID.
        try client.gattcDiscoverServices(conn, Self.service)
        #expect(cr.next(code: 9) == .gattcServiceResult(connHandle: conn, startHandle: 10, endHandle: 18, uuid: Self.service))
        #expect(cr.next(code: 10) == .gattcServiceDone(connHandle: conn, status: 0))

        // Characteristics with their end handles.
        try client.gattcDiscoverCharacteristics(conn, 10, 18)
        var chars: [BLE.Event] = []
        while let e = cr.next(timeout: 5, where: { $0.code == 11 || $0.code == 12 }), e.code == 11 { chars.append(e) }
        #expect(chars == [
            .gattcCharacteristicResult(connHandle: conn, endHandle: 13, valueHandle: 12, properties: 0x02, uuid: Self.readChar),
            .gattcCharacteristicResult(connHandle: conn, endHandle: 15, valueHandle: 15, properties: 0x0E, uuid: Self.writeChar),
            .gattcCharacteristicResult(connHandle: conn, endHandle: 18, valueHandle: 17, properties: 0x32, uuid: Self.notifyChar),
        ])
        // Descriptors of the read characteristic: (value handle, end handle].
        try client.gattcDiscoverDescriptors(conn, 12, 13)
        #expect(cr.next(code: 13) == .gattcDescriptorResult(connHandle: conn, dscHandle: 13, uuid: Self.descriptor))
        #expect(cr.next(code: 14) == .gattcDescriptorDone(connHandle: conn, status: 0))

        // Reads: short, and long (Read Blob) in one result.
        try client.gattcRead(conn, rh)
        #expect(cr.next(code: 15) == .gattcReadResult(connHandle: conn, valueHandle: rh, charData: Array("hello".utf8)))
        #expect(cr.next(code: 16) == .gattcReadDone(connHandle: conn, valueHandle: rh, status: 0))
        try client.gattcRead(conn, dh)
        #expect(cr.next(code: 15) == .gattcReadResult(connHandle: conn, valueHandle: dh, charData: long))
        #expect(cr.next(code: 16) == .gattcReadDone(connHandle: conn, valueHandle: dh, status: 0))
        // Device Name serves gapName.
        try client.gattcRead(conn, 3)
        #expect(cr.next(code: 15) == .gattcReadResult(connHandle: conn, valueHandle: 3, charData: Array("gatt-server".utf8)))
        // Reading a write-only... the write characteristic is readable; a declaration-only handle is not writable.
        try client.gattcWrite(conn, 11, [1], .withResponse)
        #expect(cr.next(code: 17) == .gattcWriteDone(connHandle: conn, valueHandle: 11, status: 0x03))

        // Writes: request, command (cut to the 20-byte capacity), long write.
        try client.gattcWrite(conn, wh, [1, 2, 3], .withResponse)
        #expect(cr.next(code: 17) == .gattcWriteDone(connHandle: conn, valueHandle: wh, status: 0))
        #expect(sr.next(code: 3) == .gattsWrite(connHandle: sconn, attrHandle: wh))
        #expect(server.gattsRead(wh) == [1, 2, 3])
        try server.gattsSetBuffer(wh, 100)
        let longWrite = (0..<90).map { UInt8($0) }
        try client.gattcWrite(conn, wh, longWrite, .withResponse)
        #expect(cr.next(code: 17) == .gattcWriteDone(connHandle: conn, valueHandle: wh, status: 0))
        #expect(sr.next(code: 3) == .gattsWrite(connHandle: sconn, attrHandle: wh))
        #expect(server.gattsRead(wh) == longWrite)
        #expect(throws: BLEError.self) { try client.gattcWrite(conn, wh, longWrite, .noResponse) }

        // MTU exchange: min of both, reported on both sides.
        try client.config(mtu: 100)
        try client.gattcExchangeMtu(conn)
        #expect(cr.next(code: 21) == .mtuExchanged(connHandle: conn, mtu: 100))
        #expect(sr.next(code: 21) == .mtuExchanged(connHandle: sconn, mtu: 100))

        // Subscribe to notifications, then indications.
        try client.gattcWrite(conn, nh + 1, [0x01, 0x00], .withResponse)
        #expect(cr.next(code: 17) == .gattcWriteDone(connHandle: conn, valueHandle: nh + 1, status: 0))
        try server.gattsWrite(nh, [9, 9], true)
        #expect(cr.next(code: 18) == .gattcNotify(connHandle: conn, valueHandle: nh, notifyData: [9, 9]))
        try client.gattcWrite(conn, nh + 1, [0x02, 0x00], .withResponse)
        #expect(cr.next(code: 17) != nil)
        try server.gattsWrite(nh, [7], true)
        #expect(cr.next(code: 19) == .gattcIndicate(connHandle: conn, valueHandle: nh, notifyData: [7]))
        #expect(sr.next(code: 20) == .gattsIndicateDone(connHandle: sconn, valueHandle: nh, status: 0))
        // Explicit notify/indicate regardless of subscription, with data.
        try server.gattsNotify(sconn, rh, [4, 2])
        #expect(cr.next(code: 18) == .gattcNotify(connHandle: conn, valueHandle: rh, notifyData: [4, 2]))
        for i in 0..<3 { try server.gattsIndicate(sconn, nh, [UInt8(i)]) }
        for i in 0..<3 {
            #expect(cr.next(code: 19) == .gattcIndicate(connHandle: conn, valueHandle: nh, notifyData: [UInt8(i)]))
            #expect(sr.next(code: 20) == .gattsIndicateDone(connHandle: sconn, valueHandle: nh, status: 0))
        }

        // Queued procedures run in order; a disconnect ends what is pending with -107.
        try client.gattcRead(conn, rh)
        try client.gattcRead(conn, wh)
        #expect(cr.next(code: 16) == .gattcReadDone(connHandle: conn, valueHandle: rh, status: 0))
        #expect(cr.next(code: 16) == .gattcReadDone(connHandle: conn, valueHandle: wh, status: 0))
        try client.gattcDiscoverServices(conn)
        try client.gattcRead(conn, rh)
        _ = try client.gapDisconnect(conn)
        #expect(cr.next(code: IRQ.peripheralDisconnect) != nil)
        let ends = cr.all.filter { e in
            if case .gattcReadDone(_, _, -107) = e { return true }
            if case .gattcServiceDone(_, -107) = e { return true }
            return false
        }
        // Either procedure may have completed before the disconnection; none may be left hanging.
        #expect(ends.count <= 2)
    }

    @Test func readRequestCanDenyAndRefresh() throws {
        let radio = uniqueRadio()
        let server = try BLE(transport: radio), client = try BLE(transport: radio)
        let handles = try ServerBox()
        let sr = EventRecorder(server) { [server] e in
            if case let .gattsReadRequest(_, h) = e {
                if h == handles.denied { return .status(BLE.ATTError.readNotPermitted) }
                try? server.gattsWrite(h, [0x42])
            }
            return nil
        }
        let cr = EventRecorder(client)
        try server.active(true)
        try client.active(true)
        defer {
            _ = try? server.active(false)
            _ = try? client.active(false)
        }
        let hs = try server.gattsRegisterServices([BLE.Service(0xBBB0, [
            BLE.Characteristic(0xBBB1, .read), BLE.Characteristic(0xBBB2, .read), BLE.Characteristic(0xBBB3, .write),
        ])])
        handles.denied = hs[0][1]
        let (st, sa) = try server.config(.mac)
        try server.gapAdvertise(20_000)
        try client.gapConnect(st, sa)
        let conn = try #require(cr.next(code: IRQ.peripheralConnect)?.connHandle)
        try client.gattcRead(conn, hs[0][0])
        #expect(cr.next(code: 15) == .gattcReadResult(connHandle: conn, valueHandle: hs[0][0], charData: [0x42]))
        #expect(cr.next(code: 16) == .gattcReadDone(connHandle: conn, valueHandle: hs[0][0], status: 0))
        try client.gattcRead(conn, hs[0][1])
        #expect(cr.next(code: 16) == .gattcReadDone(connHandle: conn, valueHandle: hs[0][1], status: 0x02))
        try client.gattcRead(conn, hs[0][2])
        #expect(cr.next(code: 16) == .gattcReadDone(connHandle: conn, valueHandle: hs[0][2], status: 0x02))
        try client.gattcRead(conn, 0x0999)
        #expect(cr.next(code: 16) == .gattcReadDone(connHandle: conn, valueHandle: 0x0999, status: 0x01))
        #expect(sr.all.contains { $0.code == 4 })
    }
}

final class ServerBox: @unchecked Sendable {
    // Safe: written once before the peer connects, read on the server's queue after.
    var denied: UInt16 = 0
    init() throws {}
}

/// Drops every ACL packet the host sends once `dropping` is set: a peer that goes silent.
final class SilencingTransport: HCITransport, @unchecked Sendable {
    // Safe: `dropping` is guarded by `lock`.
    let inner: HCITransport
    private let lock = NSLock()
    private var dropping = false
    var name: String { inner.name }
    init(_ inner: HCITransport) { self.inner = inner }
    func silence() {
        lock.lock()
        dropping = true
        lock.unlock()
    }
    func open(delegate: HCITransportDelegate) throws { try inner.open(delegate: delegate) }
    func send(_ packet: HCIPacket) {
        lock.lock()
        let drop = dropping && packet.type == .acl
        lock.unlock()
        if !drop { inner.send(packet) }
    }
    func close() { inner.close() }
}

extension ScenarioGATTBasicsTests {
    @Test func transactionTimeoutEndsTheBearer() throws {
        let radio = VirtualRadio()
        let silent = SilencingTransport(VirtualController(radio: radio))
        let server = BLE(controller: silent), client = BLE(controller: VirtualController(radio: radio))
        client.host.read { $0.config.attTimeoutSeconds = 0.3 }
        let cr = EventRecorder(client)
        try server.active(true)
        try client.active(true)
        defer {
            _ = try? server.active(false)
            _ = try? client.active(false)
        }
        let hs = try server.gattsRegisterServices([BLE.Service(0xDD00, [BLE.Characteristic(0xDD01, .read)])])
        let (st, sa) = try server.config(.mac)
        try server.gapAdvertise(20_000)
        try client.gapConnect(st, sa)
        let conn = try #require(cr.next(code: IRQ.peripheralConnect)?.connHandle)
        silent.silence()
        try client.gattcRead(conn, hs[0][0])
        try client.gattcRead(conn, hs[0][0])
        // The first read times out (-110) and the link is closed; the queued one ends with -107.
        #expect(cr.next(code: 16, timeout: 3) == .gattcReadDone(connHandle: conn, valueHandle: hs[0][0], status: -110))
        #expect(cr.next(code: IRQ.peripheralDisconnect, timeout: 3) != nil)
        #expect(cr.all.contains(.gattcReadDone(connHandle: conn, valueHandle: hs[0][0], status: -107)))
    }

    @Test func reRegisteringWhileConnectedIndicatesServiceChanged() throws {
        let radio = uniqueRadio()
        let server = try BLE(transport: radio), client = try BLE(transport: radio)
        let sr = EventRecorder(server), cr = EventRecorder(client)
        try server.active(true)
        try client.active(true)
        defer {
            _ = try? server.active(false)
            _ = try? client.active(false)
        }
        _ = try server.gattsRegisterServices([BLE.Service(0xEE00, [BLE.Characteristic(0xEE01, .read)])])
        let (st, sa) = try server.config(.mac)
        try server.gapAdvertise(20_000)
        try client.gapConnect(st, sa)
        let conn = try #require(cr.next(code: IRQ.peripheralConnect)?.connHandle)
        #expect(sr.next(code: IRQ.centralConnect) != nil)
        // Service Changed is handle 8, its CCCD 9: subscribe for indications.
        try client.gattcWrite(conn, 9, [0x02, 0x00], .withResponse)
        #expect(cr.next(code: 17) == .gattcWriteDone(connHandle: conn, valueHandle: 9, status: 0))
        #expect(throws: BLEError.busy) {
            try server.gapAdvertise(20_000)
            _ = try server.gattsRegisterServices([])
        }
        try server.gapAdvertise(nil)
        let hs = try server.gattsRegisterServices([BLE.Service(0xEE10, [BLE.Characteristic(0xEE11, .read)])])
        #expect(hs == [[12]])
        #expect(cr.next(code: 19) == .gattcIndicate(connHandle: conn, valueHandle: 8, notifyData: [0x01, 0x00, 0xFF, 0xFF]))
        #expect(sr.next(code: 20) != nil)
    }
}

extension ScenarioGATTBasicsTests {
    @Test func descriptorsOfAnEmptyRangeEndAtOnce() throws {
        let radio = uniqueRadio()
        let server = try BLE(transport: radio), client = try BLE(transport: radio)
        let cr = EventRecorder(client)
        try server.active(true)
        try client.active(true)
        defer {
            _ = try? server.active(false)
            _ = try? client.active(false)
        }
        let hs = try server.gattsRegisterServices([BLE.Service(0xAB00, [BLE.Characteristic(0xAB01, .read)])])
        let (st, sa) = try server.config(.mac)
        try server.gapAdvertise(20_000)
        try client.gapConnect(st, sa)
        let conn = try #require(cr.next(code: IRQ.peripheralConnect)?.connHandle)
        try client.gattcDiscoverDescriptors(conn, hs[0][0], hs[0][0])
        #expect(cr.next(code: 14) == .gattcDescriptorDone(connHandle: conn, status: 0))
        #expect(!cr.all.contains { $0.code == 13 })
    }
}
