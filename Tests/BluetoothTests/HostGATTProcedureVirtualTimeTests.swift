import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothCore
import BluetoothSimulator

/// GATT client procedures through a fake HCI (`FakeLinkTransport`) in manual time: the exact PDUs
/// the host sends, the events it raises, and its timeouts to the nanosecond of virtual time; no
/// second stack, no wall clock.
@Suite("Host: GATT procedures in virtual time")
struct HostGATTProcedureVirtualTimeTests {
    static func setUp(seed: UInt64, peer: @escaping @Sendable (UInt16, [UInt8]) -> [(cid: UInt16, payload: [UInt8])])
        throws -> (VirtualRadio, FakeLinkTransport, BLE, EventRecorder)
    {
        let radio = VirtualRadio(virtualTimeSeed: seed)
        let fake = FakeLinkTransport(radio: radio, peer: peer)
        let ble = BLE(controller: fake)
        let rec = EventRecorder(ble)
        try ble.active(true)
        fake.connect()
        _ = try #require(rec.next(code: IRQ.peripheralConnect))
        return (radio, fake, ble, rec)
    }

    static func hex(_ pdus: [(cid: UInt16, payload: [UInt8])]) -> [String] {
        pdus.map { "\($0.cid): " + CodecBytes.hexString($0.payload) }
    }

    /// A server that never answers: the read ends with -110 after exactly the 30 s transaction
    /// timeout of virtual time, and the host closes the bearer by disconnecting the link.
    @Test func aReadThatIsNeverAnsweredTimesOutAfterThirtySeconds() throws {
        let (radio, fake, ble, rec) = try Self.setUp(seed: 11) { _, _ in [] }
        let executor = try #require(radio.executor)
        let start = executor.now
        try ble.gattcRead(0x0040, 0x0003)
        let done = rec.next(code: 16, timeout: 60)
        #expect(done == .gattcReadDone(connHandle: 0x0040, valueHandle: 3, status: BLEStatus.timedOut))
        #expect(executor.now - start == 30_000_000_000)
        #expect(Self.hex(fake.sent) == ["4: 0A 03 00"])
        #expect(rec.next(code: IRQ.peripheralDisconnect) != nil)
        // Nothing more went out on the dead bearer.
        #expect(fake.sent.count == 1)
        try ble.active(false)
    }

    /// A full discovery, request by request: the exact bytes, and the results in order.
    @Test func aServiceDiscoveryAsksForExactlyWhatRemains() throws {
        let (_, fake, ble, rec) = try Self.setUp(seed: 12) { _, pdu in
            switch (pdu.first, pdu.count >= 3 ? pdu[1] : 0) {
            case (0x10, 0x01): return [(4, [0x11, 0x06, 0x01, 0x00, 0x07, 0x00, 0x00, 0x18])]
            case (0x10, 0x08): return [(4, [0x11, 0x14, 0x08, 0x00, 0x0F, 0x00] + [UInt8](0..<16))]
            default: return [(4, [0x01, 0x10, pdu.count >= 3 ? pdu[1] : 0, 0x00, 0x0A])]
            }
        }
        try ble.gattcDiscoverServices(0x0040)
        #expect(rec.next(code: 10) == .gattcServiceDone(connHandle: 0x0040, status: 0))
        #expect(Self.hex(fake.sent) == ["4: 10 01 00 FF FF 00 28", "4: 10 08 00 FF FF 00 28", "4: 10 10 00 FF FF 00 28"])
        #expect(rec.all.filter { $0.code == 9 } == [
            .gattcServiceResult(connHandle: 0x0040, startHandle: 1, endHandle: 7, uuid: 0x1800),
            .gattcServiceResult(connHandle: 0x0040, startHandle: 8, endHandle: 15,
                                uuid: try BluetoothUUID(bytes: [UInt8](0..<16))),
        ])
        try ble.active(false)
    }

    /// The server exchanges the MTU while the first Prepare Write is in flight: the write
    /// completes with parts of the new size, in manual time.
    @Test func aLongWriteCompletesThroughAnMTUExchange() throws {
        let (_, fake, ble, rec) = try Self.setUp(seed: 13) { cid, pdu in
            guard cid == 4, let op = pdu.first else { return [] }
            switch op {
            case 0x16 where pdu[3] == 0 && pdu[4] == 0: return [(4, [0x02, 100, 0x00]), (4, [0x17] + pdu.dropFirst())]
            case 0x16: return [(4, [0x17] + pdu.dropFirst())]
            case 0x18: return [(4, [0x19])]
            default: return []
            }
        }
        try ble.config(mtu: 200)
        let value = [UInt8](repeating: 0x33, count: 150)
        try ble.gattcWrite(0x0040, 0x0010, value, .withResponse)
        #expect(rec.next(code: 17) == .gattcWriteDone(connHandle: 0x0040, valueHandle: 0x10, status: 0))
        let prepares = fake.sent.filter { $0.payload.first == 0x16 }.map { $0.payload.count - 5 }
        #expect(prepares == [18, 95, 37])
        #expect(fake.sent.contains { $0.cid == 4 && $0.payload == [0x03, 200, 0x00] })  // our MTU response
        #expect(fake.sent.last.map { CodecBytes.hexString($0.payload) } == "18 01")
        try ble.active(false)
    }

    /// A controller that never answers a command: the call fails with `.timedOut` after exactly
    /// the command timeout (3 s) of virtual time, and the host goes on.
    @Test func aCommandNeverAnsweredTimesOutInVirtualTime() throws {
        let radio = VirtualRadio(virtualTimeSeed: 14)
        // LE Set Advertising Enable and LE Set Extended Advertising Enable are lost.
        let fake = FakeLinkTransport(radio: radio, swallowing: [0x200A, 0x2039]) { _, _ in [] }
        let ble = BLE(controller: fake)
        try ble.active(true)
        let executor = try #require(radio.executor)
        let start = executor.now
        #expect(throws: BLEError.timedOut) { try ble.gapAdvertise(100_000) }
        #expect(executor.now - start == 3_000_000_000)
        #expect(ble.host.read { $0.lastCommandFailure } == .timeout(HCIOpcode(rawValue: 0x2039), seconds: 3))
        let rec = EventRecorder(ble)
        try ble.gapScan(20, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone) != nil)
        try ble.active(false)
    }

    /// MTU exchange, characteristics, descriptors, a long read and a write, request by request.
    @Test func everyProcedureSendsExactlyItsRequests() throws {
        let value = [UInt8](0..<40)
        let (_, fake, ble, rec) = try Self.setUp(seed: 15) { cid, pdu in
            guard cid == 4, let op = pdu.first else { return [] }
            switch op {
            case 0x02: return [(4, [0x03, 0x17, 0x00])]  // server MTU 23
            case 0x08 where pdu[1] == 0x01:
                return [(4, [0x09, 0x07, 0x02, 0x00, 0x0A, 0x03, 0x00, 0x34, 0x12])]
            case 0x08: return [(4, [0x01, 0x08, pdu[1], pdu[2], 0x0A])]
            case 0x04: return [(4, [0x05, 0x01, 0x04, 0x00, 0x02, 0x29])]
            case 0x0A: return [(4, [0x0B] + value[0..<22])]
            case 0x0C: return [(4, [0x0D] + value[22...])]
            case 0x12: return [(4, [0x13])]
            default: return [(4, [0x01, op, 0x00, 0x00, 0x06])]
            }
        }
        try ble.gattcExchangeMtu(0x0040)
        #expect(rec.next(code: 21) == .mtuExchanged(connHandle: 0x0040, mtu: 23))
        try ble.gattcDiscoverCharacteristics(0x0040, 1, 5)
        #expect(rec.next(code: 12) == .gattcCharacteristicDone(connHandle: 0x0040, status: 0))
        #expect(rec.all.contains(.gattcCharacteristicResult(connHandle: 0x0040, endHandle: 5, valueHandle: 3,
                                                            properties: 0x0A, uuid: 0x1234)))
        try ble.gattcDiscoverDescriptors(0x0040, 3, 4)
        #expect(rec.next(code: 14) == .gattcDescriptorDone(connHandle: 0x0040, status: 0))
        try ble.gattcRead(0x0040, 3)
        #expect(rec.next(code: 15) == .gattcReadResult(connHandle: 0x0040, valueHandle: 3, charData: value))
        try ble.gattcWrite(0x0040, 3, [0xAA, 0xBB], .withResponse)
        #expect(rec.next(code: 17) == .gattcWriteDone(connHandle: 0x0040, valueHandle: 3, status: 0))
        #expect(Self.hex(fake.sent) == [
            "4: 02 00 01",                      // our MTU, 256
            "4: 08 01 00 05 00 03 28", "4: 08 03 00 05 00 03 28",
            "4: 04 04 00 04 00",
            "4: 0A 03 00", "4: 0C 03 00 16 00",
            "4: 12 03 00 AA BB",
        ])
        try ble.active(false)
    }

    /// A PDU longer than an L2CAP basic header can count is refused, never sent with a cut length;
    /// the longest one goes whole.
    @Test func aPDUOverTheBasicHeaderLimitIsRefused() throws {
        let (_, fake, ble, rec) = try Self.setUp(seed: 16) { _, _ in [] }
        _ = rec
        #expect(try ble.host.perform { $0.sendL2CAP(handle: 0x0040, cid: 0x0040, payload: [UInt8](repeating: 1, count: 65_536)) } == false)
        #expect(try ble.host.perform { $0.sendL2CAP(handle: 0x0040, cid: 0x0040, payload: [UInt8](repeating: 2, count: 65_535)) })
        ble.host.queue.executor?.run(forAtMost: 1_000_000_000) { fake.sent.count == 1 }
        #expect(fake.sent.map(\.payload.count) == [65_535])
        try ble.active(false)
    }
}
