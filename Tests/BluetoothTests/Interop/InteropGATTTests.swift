// GATT interop against Google's Bumble: our stack on one stock Bumble virtual controller, a Bumble
// host running Tests/Interop/bumble_gatt_peer.py on another, both on the same LocalLink
// (Tests/Interop/bumble_controllers.py). Each test starts its own controllers process.
//
// (a) our GATT client against Bumble's `gatt-server` (its test service 3C5B0000-…, see the
//     script's help): MTU exchange, full discovery compared with the database Bumble dumps, reads
//     (short, descriptor, long through Read Blob, a value of exactly MTU-1), writes echoed back by
//     notification, a long write (Prepare/Execute), notifications and indications on subscribe.
// (b) Bumble's `gatt-client` against our GATT server: it discovers our database (compared with the
//     handles gattsRegisterServices returned and with API.md's layout: GAP 0x1800 first, then
//     GATT 0x1801 with Service Changed and its CCCD), reads, writes, long-writes, subscribes, and
//     prints what we notify and indicate.
//
// Needs python3 (3.11+) with venv, and PyPI the first time (scripts/setup-bumble.sh); these tests
// fail with the script's message if that is missing, they never skip.

import Foundation
import Testing
@testable import Bluetooth

// MARK: - Bumble's test database (bumble_gatt_peer.py gatt-server)

/// `3C5B00nn-6E0A-4B5E-9C2D-2F1A7D3E8B10`
private func giBumbleUUID(_ n: UInt64) -> BluetoothUUID {
    BluetoothUUID(high: 0x3C5B_0000_6E0A_4B5E | (n << 32), low: 0x9C2D_2F1A_7D3E_8B10)
}

private let giBumbleName = "BUMBLE-GATT"
private let giBumbleServerMTU = 247
private let giService = giBumbleUUID(0x00)
private let giRead = giBumbleUUID(0x01)
private let giEcho = giBumbleUUID(0x02)
private let giStream = giBumbleUUID(0x03)
private let giLong = giBumbleUUID(0x05)
private let giSink = giBumbleUUID(0x07)
private let giEdge = giBumbleUUID(0x08)
private let giReadValue = Array("Bumble read value".utf8)
private let giReadDescription = Array("Bumble READ characteristic".utf8)
private let giLongValue = (0..<600).map { UInt8((7 * $0 + 3) & 0xFF) }
private let giEdgeValue = (0..<22).map { UInt8(0x40 + $0) }

// MARK: - Our database (served to Bumble's gatt-client)

/// `5F3A00nn-8C1B-4D2E-9F60-7A8B9C0D1E2F`
private func giOurUUID(_ n: UInt64) -> BluetoothUUID {
    BluetoothUUID(high: 0x5F3A_0000_8C1B_4D2E | (n << 32), low: 0x9F60_7A8B_9C0D_1E2F)
}

private let giOurName = "SWIFT-GATT"
private let giOurAdvData = interopAD(0x01, [0x06]) + interopAD(0x09, Array(giOurName.utf8))
private let giOurServices: [BLE.Service] = [
    BLE.Service(giOurUUID(0x00), [
        BLE.Characteristic(giOurUUID(0x01), [.read], [BLE.Descriptor(0x2901, [.read])]),
        BLE.Characteristic(giOurUUID(0x02), [.write, .writeNoResponse]),
        BLE.Characteristic(giOurUUID(0x03), [.read, .notify, .indicate]),
        BLE.Characteristic(giOurUUID(0x04), [.read]),
    ]),
    BLE.Service(0x180F, [BLE.Characteristic(0x2A19, [.read, .notify])]),
]
private let giOurReadValue = Array("Swift read value".utf8)
private let giOurDescription = Array("Swift user description".utf8)
private let giOurLongValue = (0..<300).map { UInt8((5 * $0 + 1) & 0xFF) }
private let giOurBatteryLevel: [UInt8] = [87]

/// The value handles gattsRegisterServices returned for `giOurServices`.
private struct GIOurHandles: Sendable {
    var all: [[UInt16]]
    var read: UInt16 { all[0][0] }
    var readDescription: UInt16 { all[0][1] }
    var write: UInt16 { all[0][2] }
    var notify: UInt16 { all[0][3] }
    var long: UInt16 { all[0][4] }
    var battery: UInt16 { all[1][0] }
}

@Suite(.serialized)
struct InteropGATT {

    // MARK: (a) our client, Bumble's server

    @Test("our client: MTU exchange, then a full discovery that matches Bumble's own database")
    func ourClientDiscoversBumble() throws {
        try giWithBumbleServer { s in
            let ours = try s.ble.config(.mtu)
            try s.ble.gattcExchangeMtu(s.conn)
            let exchanged = try s.events.require("mtuExchanged") { $0.giMTU?.conn == s.conn }.giMTU
            let expected = min(ours, giBumbleServerMTU)
            #expect(exchanged?.mtu == expected, "we prefer \(ours), Bumble answers \(giBumbleServerMTU)")
            let bumbleMTU = try s.bumble.waitForLine(prefix: "MTU")
            #expect(try interopField("mtu", of: bumbleMTU) == String(expected))

            let discovered = try giDiscover(s.ble, s.events, s.conn)
            let reference = s.bumbleDatabase
            #expect(discovered.services == reference.services,
                    "ours: \(discovered.services)\nBumble's: \(reference.services)")
            // MicroPython's characteristic result has no declaration handle: ours are recorded as
            // value-1, which is where every server (Bumble's included) puts the declaration.
            #expect(reference.characteristics.allSatisfy { $0.handle == $0.valueHandle - 1 })
            #expect(discovered.characteristics == reference.characteristics,
                    "ours: \(discovered.characteristics)\nBumble's: \(reference.characteristics)")
            #expect(discovered.descriptors == reference.descriptors,
                    "ours: \(discovered.descriptors)\nBumble's: \(reference.descriptors)")

            // The test service as the script defines it.
            let service = try #require(discovered.service(giService), "\(discovered)")
            let uuids = discovered.characteristics(in: service).map(\.uuid)
            #expect(uuids == [giRead, giEcho, giStream, giLong, giSink, giEdge])
            #expect(try discovered.requireCharacteristic(giRead).properties == 0x02)
            #expect(try discovered.requireCharacteristic(giEcho).properties == 0x1C)
            #expect(try discovered.requireCharacteristic(giStream).properties == 0x30)
            let read = try discovered.requireCharacteristic(giRead)
            #expect(discovered.descriptors(of: read).map(\.uuid) == [BluetoothUUID(0x2901)])
            #expect(discovered.cccd(of: try discovered.requireCharacteristic(giEcho)) != nil)
            #expect(discovered.cccd(of: try discovered.requireCharacteristic(giStream)) != nil)
            #expect(discovered.service(0x1800) != nil && discovered.service(0x1801) != nil)
        }
    }

    @Test("our client: reads at MTU 23, short, descriptor, long (one result through Read Blob), exactly MTU-1, refused")
    func ourClientReads() throws {
        try giWithBumbleServer { s in
            let db = s.bumbleDatabase
            let read = try db.requireCharacteristic(giRead)
            let long = try db.requireCharacteristic(giLong)
            let edge = try db.requireCharacteristic(giEdge)
            let echo = try db.requireCharacteristic(giEcho)
            let description = try #require(db.descriptors(of: read).first { $0.uuid == BluetoothUUID(0x2901) })

            // No MTU exchange: ATT_MTU 23, so a Read answers at most 22 bytes.
            let short = try giRead(s, read.valueHandle)
            #expect(short.status == 0)
            #expect(short.results == [giReadValue])

            let desc = try giRead(s, description.handle)
            #expect(desc.status == 0)
            #expect(desc.results == [giReadDescription])

            // 600 bytes: one Read and Read Blobs, delivered as ONE gattcReadResult.
            let longRead = try giRead(s, long.valueHandle)
            #expect(longRead.status == 0)
            #expect(longRead.results.count == 1, "\(longRead.results.count) gattcReadResult events")
            #expect(longRead.results.first == giLongValue, "got \(longRead.results.first?.count ?? 0) bytes")

            // Exactly MTU-1 (22 bytes): a client that goes on with Read Blob at offset 22 gets
            // Bumble's Attribute Not Long (0x0B) and must treat it as the end of the value.
            let edgeRead = try giRead(s, edge.valueHandle)
            #expect(edgeRead.status == 0)
            #expect(edgeRead.results == [giEdgeValue])

            // ECHO has no read property: Bumble refuses with Read Not Permitted.
            let refused = try giRead(s, echo.valueHandle)
            #expect(refused.status == 0x02)
            #expect(refused.results.isEmpty)

            // Again after an exchange to 247: still one result.
            try s.ble.gattcExchangeMtu(s.conn)
            _ = try s.events.require("mtuExchanged") { $0.giMTU?.conn == s.conn }
            let longAgain = try giRead(s, long.valueHandle)
            #expect(longAgain.status == 0)
            #expect(longAgain.results == [giLongValue])
        } after: { bumble in
            // Bumble prints one READ line per Read / Read Blob request it served.
            let longRequests = bumble.process.lines(prefix: "READ char=\(giUUIDText(giLong)) ").count
            // At MTU 23: 600 bytes = 27 parts of 22 + 6, so at least 28 requests (29 if the client
            // confirms the end with one more Read Blob); at 247: 3 more.
            #expect(longRequests >= 28 + 3, "Bumble served \(longRequests) reads of LONG")
        }
    }

    @Test("our client: writes echoed back by notification, a long write, writes without response, a refused write")
    func ourClientWrites() throws {
        try giWithBumbleServer { s in
            let db = s.bumbleDatabase
            let echo = try db.requireCharacteristic(giEcho)
            let sink = try db.requireCharacteristic(giSink)
            let read = try db.requireCharacteristic(giRead)
            let echoCCCD = try #require(db.cccd(of: echo))

            // Subscribe to ECHO (Bumble echoes either way; a real client subscribes first).
            #expect(try giWrite(s, echoCCCD, [0x01, 0x00]) == 0)
            let subscribed = try s.bumble.waitForLine(prefix: "SUBSCRIBED char=\(giUUIDText(giEcho))")
            #expect(try interopField("value", of: subscribed) == "0x0001")

            // Write with response: gattcWriteDone, and the echo comes back as gattcNotify.
            let hello = Array("hello from swift".utf8)
            #expect(try giWrite(s, echo.valueHandle, hello) == 0)
            let echoed = try s.events.require("the echo of the write") {
                $0.giNotify?.conn == s.conn && $0.giNotify?.handle == echo.valueHandle
            }.giNotify
            #expect(echoed?.data == hello)
            let bumbleWrite = try s.bumble.waitForLine(prefix: "WRITE char=\(giUUIDText(giEcho))")
            #expect(try interopField("value", of: bumbleWrite) == interopHex(hello))

            // Write without response: no gattcWriteDone needed, the echo still comes back.
            let command = Array("no response".utf8)
            try s.ble.gattcWrite(s.conn, echo.valueHandle, command, .noResponse)
            let echoedCommand = try s.events.require("the echo of the write command") {
                $0.giNotify?.conn == s.conn && $0.giNotify?.handle == echo.valueHandle
            }.giNotify
            #expect(echoedCommand?.data == command)

            // A write without response longer than MTU-3 is refused locally (API.md).
            do {
                try s.ble.gattcWrite(s.conn, sink.valueHandle, [UInt8](repeating: 0x55, count: 21), .noResponse)
                Issue.record("a 21-byte write without response at MTU 23 was accepted")
            } catch let error as BLEError {
                #expect(error.errno == 22, "\(error)")
            }

            // Long write (300 bytes > MTU-3 = 20): Prepare Write x N + Execute, ONE gattcWriteDone,
            // and Bumble's SINK sees one write of 300 bytes.
            let long = (0..<300).map { UInt8(($0 * 3) & 0xFF) }
            #expect(try giWrite(s, sink.valueHandle, long) == 0)
            let second = s.events.wait(timeout: 0.5) {
                if case .gattcWriteDone(s.conn, sink.valueHandle, _) = $0 { return true }
                return false
            }
            #expect(second == nil, "a second gattcWriteDone for the long write: \(String(describing: second))")
            // Two writes without response of MTU-3 bytes, then b'END' makes Bumble print its counts.
            try s.ble.gattcWrite(s.conn, sink.valueHandle, [UInt8](repeating: 0xA5, count: 20), .noResponse)
            try s.ble.gattcWrite(s.conn, sink.valueHandle, [UInt8](repeating: 0x5A, count: 20), .noResponse)
            #expect(try giWrite(s, sink.valueHandle, Array("END".utf8)) == 0)
            let sinkLine = try s.bumble.waitForLine(prefix: "SINK")
            #expect(try interopField("writes", of: sinkLine) == "3", "\(sinkLine)")
            #expect(try interopField("bytes", of: sinkLine) == "340", "\(sinkLine)")

            // READ has no write property: Bumble refuses with Write Not Permitted.
            #expect(try giWrite(s, read.valueHandle, [0x00]) == 0x03)
        }
    }

    @Test("our client: STREAM subscription gives 10 notifications in order, then 3 indications (confirmed)")
    func ourClientNotificationsAndIndications() throws {
        try giWithBumbleServer { s in
            let db = s.bumbleDatabase
            let stream = try db.requireCharacteristic(giStream)
            let cccd = try #require(db.cccd(of: stream))

            #expect(try giWrite(s, cccd, [0x01, 0x00]) == 0)
            var sequence: [UInt32] = []
            for i in 0..<10 {
                let n = try s.events.require("notification \(i + 1) of 10") {
                    $0.giNotify?.conn == s.conn && $0.giNotify?.handle == stream.valueHandle
                }.giNotify
                let data = n?.data ?? []
                #expect(data.count == 20, "notification \(i): \(interopHex(data))")
                #expect(Array(data.dropFirst(4).prefix(4)) == [10, 0, 0, 0], "count field of \(interopHex(data))")
                sequence.append(interopSequenceNumber(data) ?? .max)
            }
            #expect(sequence == Array(UInt32(0)..<10))
            let sentNotify = try s.bumble.waitForLine(prefix: "SENT ")
            #expect(try interopField("kind", of: sentNotify) == "notify")

            #expect(try giWrite(s, cccd, [0x00, 0x00]) == 0)
            #expect(try giWrite(s, cccd, [0x02, 0x00]) == 0)
            var indicated: [UInt32] = []
            for i in 0..<3 {
                let n = try s.events.require("indication \(i + 1) of 3") {
                    $0.giIndicate?.conn == s.conn && $0.giIndicate?.handle == stream.valueHandle
                }.giIndicate
                indicated.append(interopSequenceNumber(n?.data ?? []) ?? .max)
            }
            #expect(indicated == [0, 1, 2])
            // Bumble sends an indication only after the previous one was confirmed, and prints
            // SENT after the third confirmation: every one was confirmed by our stack on its own.
            let sentIndicate = try s.bumble.waitForLine(prefix: "SENT ")
            #expect(try interopField("kind", of: sentIndicate) == "indicate")
            #expect(try interopField("count", of: sentIndicate) == "3")
            // Notifications did not turn into indications nor the other way round.
            #expect(s.events.all.filter { $0.giIndicate?.handle == stream.valueHandle }.count == 3)
            #expect(s.events.all.filter { $0.giNotify?.handle == stream.valueHandle }.count == 10)
        }
    }

    // MARK: (b) Bumble's client, our server

    @Test("Bumble discovers our database: API.md's layout and the handles gattsRegisterServices returned")
    func bumbleDiscoversOurDatabase() throws {
        try giWithBumbleClient(mtu: 247, ops: { _ in ["read:2A00"] }) { s in
            let up = try s.events.require("mtuExchanged (Bumble asks for 247)") { $0.giMTU?.conn == s.conn }.giMTU
            let expected = min(try s.ble.config(.mtu), 247)
            #expect(up?.mtu == expected)
            let line = try s.bumble.waitForLine(prefix: "MTU")
            #expect(try interopField("mtu", of: line) == String(expected))
        } after: { s in
            let db = try InteropGATTDatabase(dumpLines: s.bumble.process.lines(prefix: "GATT "))
            let h = s.handles
            #expect(h.all.map(\.count) == [5, 1], "gattsRegisterServices returned \(h.all)")

            // GAP first (handle 1), with the Device Name serving our gapName; then GATT with
            // Service Changed (indicate) and its CCCD; then ours, in order; nothing else.
            #expect(db.services.map(\.uuid) == [BluetoothUUID(0x1800), BluetoothUUID(0x1801), giOurUUID(0), BluetoothUUID(0x180F)],
                    "\(db)")
            guard db.services.count == 4 else { return }
            #expect(db.services[0].start == 0x0001)
            let name = db.characteristics(in: db.services[0]).first { $0.uuid == BluetoothUUID(0x2A00) }
            #expect(name.map { $0.properties & 0x02 != 0 } == true, "Device Name: \(String(describing: name))")
            let changed = db.characteristics(in: db.services[1]).first { $0.uuid == BluetoothUUID(0x2A05) }
            #expect(changed.map { $0.properties & 0x20 != 0 } == true, "Service Changed: \(String(describing: changed))")
            #expect(changed.flatMap { db.cccd(of: $0) } != nil, "Service Changed has no CCCD: \(db)")
            let nameLine = try #require(s.bumble.process.lines(prefix: "READ uuid=2A00 ").first)
            #expect(try interopBytes(hex: interopField("value", of: nameLine)) == Array(giOurName.utf8))

            // Service A: declaration, value, (CCCD), descriptors; value handles as returned.
            let a = db.characteristics(in: db.services[2])
            #expect(a.map(\.uuid) == [giOurUUID(1), giOurUUID(2), giOurUUID(3), giOurUUID(4)])
            #expect(a.map(\.valueHandle) == [h.read, h.write, h.notify, h.long])
            #expect(a.map(\.properties) == [0x02, 0x0C, 0x32, 0x02])
            #expect(a.allSatisfy { $0.handle == $0.valueHandle - 1 })
            if a.count == 4 {
                #expect(db.services[2].start == a[0].handle - 1)
                #expect(db.services[2].end == a[3].end)
                #expect(db.descriptors(of: a[0]) == [InteropGATTDescriptor(handle: h.readDescription, uuid: 0x2901)])
                #expect(h.readDescription == h.read + 1)
                #expect(db.descriptors(of: a[1]).isEmpty)
                #expect(db.descriptors(of: a[2]) == [InteropGATTDescriptor(handle: h.notify + 1, uuid: 0x2902)])
                #expect(db.descriptors(of: a[3]).isEmpty)
            }
            // Service B: the battery level with its CCCD right after the value.
            let b = db.characteristics(in: db.services[3])
            #expect(b.map(\.uuid) == [BluetoothUUID(0x2A19)])
            #expect(b.first?.valueHandle == h.battery)
            #expect(b.first?.properties == 0x12)
            #expect(b.first.map { db.descriptors(of: $0) } == [InteropGATTDescriptor(handle: h.battery + 1, uuid: 0x2902)])
            #expect(db.services[3].end == h.battery + 1)
        }
    }

    @Test("Bumble reads our values at MTU 23: short, descriptor, long (Read Blob), battery; a refused read")
    func bumbleReadsOurValues() throws {
        try giWithBumbleClient(mtu: 23, ops: { h in
            ["read:@\(interopHandle(h.read))", "read:@\(interopHandle(h.readDescription))",
             "read:@\(interopHandle(h.long))", "read:2A19", "readfail:@\(interopHandle(h.write))"]
        }) { _ in
        } after: { s in
            let reads = s.bumble.process.lines(prefix: "READ ")
            func value(_ handle: UInt16) throws -> [UInt8]? {
                guard let line = reads.first(where: { $0.contains("handle=\(interopHandle(handle)) ") }) else {
                    return nil
                }
                return try interopBytes(hex: interopField("value", of: line))
            }
            #expect(try value(s.handles.read) == giOurReadValue, "\(reads)")
            #expect(try value(s.handles.readDescription) == giOurDescription)
            #expect(try value(s.handles.long) == giOurLongValue, "300 bytes through Read + Read Blob at MTU 23")
            #expect(try value(s.handles.battery) == giOurBatteryLevel)
            // The write-only characteristic refuses reads (any ATT error; NimBLE: 0x02).
            let refused = try #require(reads.first { $0.contains("handle=\(interopHandle(s.handles.write)) ") })
            #expect(interopFields(refused)["status"] != nil, "\(refused)")
        }
    }

    @Test("Bumble writes: with and without response, a long write (one gattsWrite), a refused write; CCCD writes raise nothing")
    func bumbleWritesOurValues() throws {
        let hello = Array("hello from bumble".utf8)
        let command = (0..<20).map { UInt8(0xC0 + $0) }
        let long = (0..<200).map { UInt8((11 * $0 + 7) & 0xFF) }
        try giWithBumbleClient(mtu: 23, ops: { h in
            ["write:@\(interopHandle(h.write)):\(interopHex(hello))",
             "writecmd:@\(interopHandle(h.write)):\(interopHex(command))",
             "sleep:200",
             "write:@\(interopHandle(h.write)):\(interopHex(long))",
             "subscribe:@\(interopHandle(h.notify)):0", "unsubscribe:@\(interopHandle(h.notify))",
             "writefail:@\(interopHandle(h.read)):00"]
        }) { _ in
        } after: { s in
            let writes = s.writes.entries
            #expect(writes.map(\.handle) == [s.handles.write, s.handles.write, s.handles.write],
                    "gattsWrite events (handle, value at the event): \(writes)")
            #expect(writes.map(\.value) == [hello, command, long])
            #expect(s.ble.gattsRead(s.handles.write) == long)
            // The refused write left READ as it was.
            #expect(s.ble.gattsRead(s.handles.read) == giOurReadValue)
            let lines = s.bumble.process.lines(prefix: "WRITE ")
            #expect(lines.count == 3, "\(lines)")
            #expect(lines.last.flatMap { interopFields($0)["status"] } != "ok", "the write to READ: \(lines)")
        }
    }

    @Test("Bumble subscribes: our notifications (gattsNotify, gattsWrite with send_update) and indications arrive in order")
    func bumbleReceivesOurNotifications() throws {
        let notes = (0..<5).map { i in [UInt8(i), 0, 0, 0] + Array("note-\(i)".utf8) }
        let indications = (0..<3).map { i in [UInt8(i), 0, 0, 0] + Array("indication-\(i)".utf8) }
        try giWithBumbleClient(mtu: 247, notifyWait: 10_000, ops: { h in
            let n = "@\(interopHandle(h.notify))"
            return ["subscribe:\(n):5", "unsubscribe:\(n)", "indicate:\(n):3"]
        }) { s in
            let h = s.handles.notify
            let subscribed = try s.bumble.waitForLine(prefix: "SUBSCRIBE ", timeout: 20)
            #expect(try interopField("value", of: subscribed) == "0x0001", "\(subscribed)")
            try s.ble.gattsNotify(s.conn, h, notes[0])
            try s.ble.gattsNotify(s.conn, h, notes[1])
            try s.ble.gattsNotify(s.conn, h, notes[2])
            try s.ble.gattsWrite(h, notes[3], true)   // subscribed for notifications: notifies
            try s.ble.gattsWrite(h, notes[4])
            try s.ble.gattsNotify(s.conn, h)           // no data: the stored value
            #expect(s.ble.gattsRead(h) == notes[4])

            let unsubscribed = try s.bumble.waitForLine(prefix: "SUBSCRIBE ")
            #expect(try interopField("value", of: unsubscribed) == "0x0000", "\(unsubscribed)")
            let indicate = try s.bumble.waitForLine(prefix: "SUBSCRIBE ")
            #expect(try interopField("value", of: indicate) == "0x0002", "\(indicate)")
            for (i, data) in indications.enumerated() {
                try s.ble.gattsIndicate(s.conn, h, data)
                let done = try s.events.require("gattsIndicateDone \(i + 1) of 3") {
                    if case .gattsIndicateDone(s.conn, h, _) = $0 { return true }
                    return false
                }
                #expect(done == .gattsIndicateDone(connHandle: s.conn, valueHandle: h, status: 0))
            }
        } after: { s in
            let got = try s.bumble.process.lines(prefix: "NOTIFY ").map {
                try interopBytes(hex: interopField("value", of: $0))
            }
            #expect(got == notes, "Bumble's notifications: \(got.map(interopHex))")
            let indicated = try s.bumble.process.lines(prefix: "INDICATE ").map {
                try interopBytes(hex: interopField("value", of: $0))
            }
            #expect(indicated == indications, "Bumble's indications: \(indicated.map(interopHex))")
            // CCCD writes raise no gattsWrite.
            #expect(s.writes.entries.isEmpty, "\(s.writes.entries)")
        }
    }

    @Test("Bumble subscribes: 2000 notifications through Bumble's controller, with back-pressure (.noMemory, then l2capSendReady on CID 4), all in order")
    func bumbleReceivesABurstWithBackPressure() throws {
        let count = 2000
        let notes = (0..<count).map { i in [UInt8(i & 0xFF), UInt8(i >> 8)] + [UInt8](repeating: 0x5A, count: 200) }
        let waits = Locked(0)
        try giWithBumbleClient(mtu: 247, notifyWait: 30_000, ops: { h in
            ["subscribe:@\(interopHandle(h.notify)):\(count)"]
        }) { s in
            let h = s.handles.notify
            _ = try s.bumble.waitForLine(prefix: "SUBSCRIBE ", timeout: 20)
            var i = 0
            while i < count {
                do {
                    try s.ble.gattsNotify(s.conn, h, notes[i])
                    i += 1
                } catch BLEError.noMemory {
                    waits.withLock { $0 += 1 }
                    _ = try s.events.require("l2capSendReady on the ATT channel after .noMemory") {
                        if case .l2capSendReady(s.conn, 0x0004, 0) = $0 { return true }
                        return false
                    }
                }
            }
        } after: { s in
            let got = try s.bumble.process.lines(prefix: "NOTIFY ").map {
                try interopBytes(hex: interopField("value", of: $0))
            }
            #expect(got.count == count)
            #expect(got == notes, "the first difference at \(zip(got, notes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)")
            // The host queue (64 KiB) is deeper than what Bumble's controller takes at once, so the
            // sender had to wait for room at least once.
            #expect(waits.value > 0)
            print("interop back-pressure: \(count) notifications to Bumble, \(waits.value) waits for room")
        }
    }
}

// MARK: - (a) scenario: our client, Bumble's gatt-server

private struct GIClientSession: Sendable {
    let ble: BLE
    let events: InteropEventRecorder
    let bumble: BumblePeer
    let conn: UInt16
    /// What Bumble dumped of its own database before READY.
    let bumbleDatabase: InteropGATTDatabase
}

/// Starts the controllers and Bumble's gatt-server (answering MTU 247) on C1, connects to it from
/// our device on C0, runs `body`, disconnects, and checks that Bumble exited 0; then `after` runs
/// with Bumble's complete output.
private func giWithBumbleServer(_ body: (GIClientSession) throws -> Void,
                                after: (BumblePeer) throws -> Void = { _ in }) throws {
    let controllers = try BumbleControllers()
    let bumble = try BumblePeer("gatt-server", ["--name", giBumbleName, "--mtu", String(giBumbleServerMTU)],
                                controllers: controllers, index: 1, timeout: 90, script: "bumble_gatt_peer.py")
    let ready = try bumble.waitForLine(prefix: "READY")
    let peer = try InteropAddress(line: ready)
    let database = try InteropGATTDatabase(dumpLines: bumble.process.lines(prefix: "GATT "))
    #expect(database.service(giService) != nil, "Bumble's dump: \(database)")

    try withInteropDevice(try controllers.transport(0)) { ble, events in
        try ble.gapConnect(peer.type, peer.address)
        let connected = try events.require("peripheralConnect to Bumble's GATT server (\(peer))") {
            $0.giPeripheralConnect != nil
        }
        guard let up = connected.giPeripheralConnect else { throw InteropError("unexpected \(connected)") }
        _ = try bumble.waitForLine(prefix: "CONNECTED")
        try body(GIClientSession(ble: ble, events: events, bumble: bumble, conn: up, bumbleDatabase: database))
        #expect(try ble.gapDisconnect(up))
        _ = try events.require("peripheralDisconnect after gapDisconnect") { $0.giPeripheralDisconnect == up }
        _ = try bumble.waitForLine(prefix: "DISCONNECTED")
        try bumble.process.requireSuccessfulExit()
    }
    try after(bumble)
}

/// Our full discovery (services, the characteristics of each, the descriptors of each
/// characteristic) through the gattc* calls, as a database comparable with Bumble's dump.
/// Characteristic declarations are recorded at value handle - 1 (the events do not carry them).
private func giDiscover(_ ble: BLE, _ events: InteropEventRecorder, _ conn: UInt16) throws -> InteropGATTDatabase {
    var db = InteropGATTDatabase()
    try ble.gattcDiscoverServices(conn)
    services: while true {
        let e = try events.require("gattcServiceResult or gattcServiceDone") {
            switch $0 {
            case .gattcServiceResult(conn, _, _, _), .gattcServiceDone(conn, _): return true
            default: return false
            }
        }
        switch e {
        case let .gattcServiceResult(_, start, end, uuid):
            db.services.append(InteropGATTService(start: start, end: end, uuid: uuid))
        case let .gattcServiceDone(_, status):
            guard status == 0 else { throw InteropError("gattcServiceDone status \(status); so far \(db)") }
            break services
        default:
            break
        }
    }
    for service in db.services {
        try ble.gattcDiscoverCharacteristics(conn, service.start, service.end)
        characteristics: while true {
            let e = try events.require("gattcCharacteristicResult or gattcCharacteristicDone for \(service)") {
                switch $0 {
                case .gattcCharacteristicResult(conn, _, _, _, _), .gattcCharacteristicDone(conn, _): return true
                default: return false
                }
            }
            switch e {
            case let .gattcCharacteristicResult(_, end, value, properties, uuid):
                db.characteristics.append(InteropGATTCharacteristic(
                    handle: value &- 1, valueHandle: value, end: end, properties: properties, uuid: uuid))
            case let .gattcCharacteristicDone(_, status):
                guard status == 0 else { throw InteropError("gattcCharacteristicDone status \(status) for \(service)") }
                break characteristics
            default:
                break
            }
        }
    }
    for characteristic in db.characteristics where characteristic.end > characteristic.valueHandle {
        // API.md: every attribute in (start, end]: exactly this characteristic's descriptors.
        try ble.gattcDiscoverDescriptors(conn, characteristic.valueHandle, characteristic.end)
        descriptors: while true {
            let e = try events.require("gattcDescriptorResult or gattcDescriptorDone for \(characteristic)") {
                switch $0 {
                case .gattcDescriptorResult(conn, _, _), .gattcDescriptorDone(conn, _): return true
                default: return false
                }
            }
            switch e {
            case let .gattcDescriptorResult(_, handle, uuid):
                db.descriptors.append(InteropGATTDescriptor(handle: handle, uuid: uuid))
            case let .gattcDescriptorDone(_, status):
                guard status == 0 else { throw InteropError("gattcDescriptorDone status \(status) for \(characteristic)") }
                break descriptors
            default:
                break
            }
        }
    }
    return db
}

/// gattcRead: every gattcReadResult for `handle`, then the status of its gattcReadDone.
private func giRead(_ s: GIClientSession, _ handle: UInt16) throws -> (results: [[UInt8]], status: Int) {
    try s.ble.gattcRead(s.conn, handle)
    var results: [[UInt8]] = []
    while true {
        let e = try s.events.require("gattcReadResult or gattcReadDone for \(interopHandle(handle))") {
            switch $0 {
            case .gattcReadResult(s.conn, handle, _), .gattcReadDone(s.conn, handle, _): return true
            default: return false
            }
        }
        switch e {
        case let .gattcReadResult(_, _, data): results.append(data)
        case let .gattcReadDone(_, _, status): return (results, status)
        default: break
        }
    }
}

/// gattcWrite with response; the status of its gattcWriteDone.
private func giWrite(_ s: GIClientSession, _ handle: UInt16, _ data: [UInt8]) throws -> Int {
    try s.ble.gattcWrite(s.conn, handle, data, .withResponse)
    let e = try s.events.require("gattcWriteDone for \(interopHandle(handle))") {
        if case .gattcWriteDone(s.conn, handle, _) = $0 { return true }
        return false
    }
    if case let .gattcWriteDone(_, _, status) = e { return status }
    throw InteropError("unexpected event \(e)")
}

/// A UUID as bumble_gatt_peer.py prints it: 4 hex digits, or the dashed upper-case 128-bit form.
private func giUUIDText(_ uuid: BluetoothUUID) -> String {
    if uuid.width == 2, let short = uuid.shortValue {
        let hex = String(short, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
    func hex(_ v: UInt64, _ digits: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
    let h = uuid.high, l = uuid.low
    return "\(hex(h >> 32, 8))-\(hex((h >> 16) & 0xFFFF, 4))-\(hex(h & 0xFFFF, 4))-"
        + "\(hex(l >> 48, 4))-\(hex(l & 0xFFFF_FFFF_FFFF, 12))"
}

// MARK: - (b) scenario: Bumble's gatt-client, our server

/// The values of local attributes read inside the irq handler at each `.gattsWrite`, as MicroPython
/// code does (`gatts_read(attr_handle)` in `_IRQ_GATTS_WRITE`), so later writes cannot overtake.
private final class GIWriteLog: @unchecked Sendable {
    struct Entry: Sendable, Equatable, CustomStringConvertible {
        var handle: UInt16
        var value: [UInt8]
        var description: String { "\(interopHandle(handle))=\(interopHex(value))" }
    }

    private let lock = NSLock()
    private var list: [Entry] = []

    var entries: [Entry] {
        lock.lock(); defer { lock.unlock() }
        return list
    }

    /// Replaces `ble`'s handler: logs writes, then hands every event to `recorder`.
    func install(on ble: BLE, recorder: InteropEventRecorder) {
        ble.irq { [weak ble, self] event in
            if case let .gattsWrite(_, handle) = event, let ble {
                let value = ble.gattsRead(handle)
                self.lock.lock()
                self.list.append(Entry(handle: handle, value: value))
                self.lock.unlock()
            }
            recorder.record(event)
            return nil
        }
    }
}

private struct GIServerSession: Sendable {
    let ble: BLE
    let events: InteropEventRecorder
    let bumble: BumblePeer
    let conn: UInt16
    let handles: GIOurHandles
    let writes: GIWriteLog
}

/// Registers `giOurServices` (values set, buffers sized), advertises on C0, and starts Bumble's
/// gatt-client on C1 with the ops `ops` builds from our handles. `body` runs once Bumble is
/// connected; then Bumble, done with its ops, disconnects and must exit 0; then `after` runs
/// (still active, Bumble's output complete).
private func giWithBumbleClient(mtu: Int, notifyWait: Int = 5000, ops: (GIOurHandles) -> [String],
                                _ body: (GIServerSession) throws -> Void,
                                after: (GIServerSession) throws -> Void) throws {
    let controllers = try BumbleControllers()
    try withInteropDevice(try controllers.transport(0)) { ble, events in
        let writes = GIWriteLog()
        writes.install(on: ble, recorder: events)
        try ble.config(gapName: giOurName)
        let handles = GIOurHandles(all: try ble.gattsRegisterServices(giOurServices))
        guard handles.all.map(\.count) == [5, 1] else {
            throw InteropError("gattsRegisterServices returned \(handles.all), expected 5 and 1 handles")
        }
        try ble.gattsWrite(handles.read, giOurReadValue)
        try ble.gattsWrite(handles.readDescription, giOurDescription)
        try ble.gattsSetBuffer(handles.long, giOurLongValue.count)
        try ble.gattsWrite(handles.long, giOurLongValue)
        try ble.gattsSetBuffer(handles.write, 300)   // remote writes are cut to the capacity
        try ble.gattsWrite(handles.battery, giOurBatteryLevel)
        #expect(ble.gattsRead(handles.long) == giOurLongValue)

        let (ourType, ourAddress) = try ble.config(.mac)
        let us = InteropAddress(type: ourType, address: ourAddress)
        try ble.gapAdvertise(20_000, advData: giOurAdvData)

        let bumble = try BumblePeer(
            "gatt-client",
            ["--target-address", "\(us.address)", "--address-type", us.typeArgument, "--mtu", String(mtu),
             "--notify-wait", String(notifyWait), "--ops", ops(handles).joined(separator: ",")],
            controllers: controllers, index: 1, timeout: 90, script: "bumble_gatt_peer.py")
        let connected = try events.require("centralConnect from Bumble's GATT client") { $0.giCentralConnect != nil }
        guard let conn = connected.giCentralConnect else { throw InteropError("unexpected \(connected)") }
        let session = GIServerSession(ble: ble, events: events, bumble: bumble, conn: conn, handles: handles,
                                      writes: writes)
        try body(session)
        // bumble_gatt_peer.py disconnects once its ops are done, and exits 0 only if all passed.
        _ = try bumble.waitForLine(prefix: "DISCOVERED", timeout: 20)
        _ = try events.require("centralDisconnect when Bumble is done") { $0.giCentralDisconnect == conn }
        try bumble.process.requireSuccessfulExit(timeout: 20)
        try after(session)
    }
}

// MARK: - Event helpers

extension BLE.Event {
    fileprivate var giPeripheralConnect: UInt16? {
        if case let .peripheralConnect(connHandle, _, _) = self { return connHandle }
        return nil
    }

    fileprivate var giPeripheralDisconnect: UInt16? {
        if case let .peripheralDisconnect(connHandle, _, _) = self { return connHandle }
        return nil
    }

    fileprivate var giCentralDisconnect: UInt16? {
        if case let .centralDisconnect(connHandle, _, _) = self { return connHandle }
        return nil
    }

    fileprivate var giCentralConnect: UInt16? {
        if case let .centralConnect(connHandle, _, _) = self { return connHandle }
        return nil
    }

    fileprivate var giMTU: (conn: UInt16, mtu: Int)? {
        if case let .mtuExchanged(connHandle, mtu) = self { return (connHandle, mtu) }
        return nil
    }

    fileprivate var giNotify: (conn: UInt16, handle: UInt16, data: [UInt8])? {
        if case let .gattcNotify(connHandle, valueHandle, data) = self { return (connHandle, valueHandle, data) }
        return nil
    }

    fileprivate var giIndicate: (conn: UInt16, handle: UInt16, data: [UInt8])? {
        if case let .gattcIndicate(connHandle, valueHandle, data) = self { return (connHandle, valueHandle, data) }
        return nil
    }
}
