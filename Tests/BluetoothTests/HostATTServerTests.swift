import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost

/// The ATT server answering malformed and hostile requests, checked byte for byte
/// (Core Vol 3 Part F 3.4).
@Suite("Host: ATT server replies")
struct HostATTServerTests {
    final class Replies: @unchecked Sendable {
        // Safe: guarded by `condition`.
        private let condition = NSCondition()
        private var items: [[UInt8]] = []
        func add(_ p: [UInt8]) {
            condition.lock()
            items.append(p)
            condition.broadcast()
            condition.unlock()
        }
        func next(timeout: Double = 3) -> [UInt8]? {
            let deadline = Date(timeIntervalSinceNow: timeout)
            condition.lock()
            defer { condition.unlock() }
            while items.isEmpty {
                if !condition.wait(until: deadline) { return nil }
            }
            return items.removeFirst()
        }
    }

    /// Hex to bytes; a bad token fails the test (`CodecBytes.hex`).
    static func h(_ s: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
        CodecBytes.hex(s, sourceLocation: sourceLocation)
    }

    @Test func everyBadRequestGetsTheRightError() throws {
        let radio = uniqueRadio()
        let server = try BLE(transport: radio), client = try BLE(transport: radio)
        let sr = EventRecorder(server), cr = EventRecorder(client)
        try server.active(true)
        try client.active(true)
        defer {
            _ = try? server.active(false)
            _ = try? client.active(false)
        }
        // 10 service, 11/12 A (read), 13/14 B (write), 15/16/17 C (notify + CCCD).
        let hs = try server.gattsRegisterServices([BLE.Service(0xCC00, [
            BLE.Characteristic(0xCC01, .read), BLE.Characteristic(0xCC02, .write), BLE.Characteristic(0xCC03, .notify),
        ])])
        #expect(hs == [[12, 14, 16]])
        try server.gattsWrite(12, Array("hi".utf8))
        let (st, sa) = try server.config(.mac)
        try server.gapAdvertise(20_000)
        try client.gapConnect(st, sa)
        let conn = try #require(cr.next(code: IRQ.peripheralConnect)?.connHandle)
        #expect(sr.next(code: IRQ.centralConnect) != nil)
        let replies = Replies()
        client.host.read { $0.receivedL2CAP = { _, cid, pdu in if cid == 4 { replies.add(pdu) } } }
        func ask(_ hex: String) throws -> [UInt8]? {
            try client.host.perform { #expect($0.sendL2CAP(handle: conn, cid: 4, payload: Self.h(hex))) }
            return replies.next()
        }
        let expectations: [(String, String)] = [
            ("0A 00 00", "01 0A 00 00 01"),                 // read handle 0: invalid handle
            ("0A 00 01", "01 0A 00 01 01"),                 // read past the database
            ("0A 0C 00", "0B 68 69"),                       // read A
            ("0C 0C 00 02 00", "0D"),                       // blob at the end: empty
            ("0C 0C 00 03 00", "01 0C 0C 00 07"),           // blob past the end: invalid offset
            ("0C 0B 00 01 00", "01 0C 0B 00 0B"),           // blob on a declaration: attribute not long
            ("0A 0E 00", "01 0A 0E 00 02"),                 // read a write-only value
            ("12 0C 00 01", "01 12 0C 00 03"),              // write a read-only value
            ("12 0B 00 01", "01 12 0B 00 03"),              // write a declaration
            ("12 11 00 01 00 00", "01 12 11 00 0D"),        // CCCD of 3 bytes
            ("12 11 00 01 00", "13"),                       // subscribe C
            ("0A 11 00", "0B 01 00"),                       // read the CCCD back
            ("04 05 00 01 00", "01 04 05 00 01"),           // reversed range
            ("04 00 00 FF FF", "01 04 00 00 01"),           // start handle 0
            ("04 12 00 FF FF", "01 04 12 00 0A"),           // nothing there
            ("04 10 00 11 00", "05 01 10 00 03 CC 11 00 02 29"),
            ("10 01 00 FF FF 03 28", "01 10 01 00 10"),     // group type that is not a service
            ("10 00 01 FF FF 00 28", "01 10 00 01 0A"),
            ("10 01 00 FF FF 00 28", "11 06 01 00 05 00 00 18 06 00 09 00 01 18 0A 00 11 00 00 CC"),
            ("08 01 00 FF FF 00 2A", "09 0B 03 00 53 77 69 66 74 20 42 4C 45"),  // Device Name by type
            ("06 01 00 FF FF 00 28 00 CC", "07 0A 00 11 00"),
            ("06 01 00 FF FF 00 28 FF FF", "01 06 01 00 0A"),
            ("3F 01 02", "01 3F 00 00 06"),                 // unknown request opcode
            ("02 17", "01 02 00 00 04"),                    // malformed Exchange MTU
            ("0A", "01 0A 00 00 04"),                       // truncated read
            ("0E 0C 00", "01 0E 00 00 04"),                 // Read Multiple needs two handles
            ("0E 0C 00 0E 00", "01 0E 0E 00 02"),           // one of them unreadable
            ("20 0C 00 11 00", "21 02 00 68 69 02 00 01 00"),
            ("16 0E 00 05 00 41", "17 0E 00 05 00 41"),     // prepare at offset 5 of an empty value...
            ("18 01", "01 18 0E 00 07"),                    // ...fails at execution: invalid offset
            ("16 0C 00 00 00 41", "01 16 0C 00 03"),        // prepare on a read-only value
            ("18 02", "01 18 00 00 04"),                    // execute with bad flags
            ("18 00", "19"),                                // cancel with nothing queued
        ]
        for (request, reply) in expectations {
            let got = try ask(request)
            #expect(got == Self.h(reply), "request \(request): got \(got.map { $0.map { String(format: "%02X", $0) }.joined(separator: " ") } ?? "nothing")")
        }
        // Commands get no answer, even malformed or unknown: the next reply is the read's.
        _ = try client.host.perform { $0.sendL2CAP(handle: conn, cid: 4, payload: Self.h("52 0C 00 01")) }
        _ = try client.host.perform { $0.sendL2CAP(handle: conn, cid: 4, payload: Self.h("7F 01")) }
        _ = try client.host.perform { $0.sendL2CAP(handle: conn, cid: 4, payload: Self.h("D2 0E 00 01")) }
        #expect(try ask("0A 0C 00") == Self.h("0B 68 69"))
        // A full prepare queue.
        for i in 0..<64 { #expect(try ask(String(format: "16 0E 00 %02X 00 41", i)) != nil) }
        #expect(try ask("16 0E 00 40 00 41") == Self.h("01 16 0E 00 09"))
        #expect(try ask("18 00") == Self.h("19"))
        // A 512-byte value reads back in MTU-1 pieces.
        let big = (0..<512).map { UInt8(truncatingIfNeeded: $0) }
        try server.gattsWrite(12, big)
        #expect(try ask("0A 0C 00") == [0x0B] + Array(big[0..<22]))
        #expect(try ask("0C 0C 00 F6 01") == [0x0D] + Array(big[502..<512]))
        // The server survived everything and still serves its own client.
        try client.gattcRead(conn, 12)
        #expect(cr.next(code: 16) == .gattcReadDone(connHandle: conn, valueHandle: 12, status: 0))
    }
}
