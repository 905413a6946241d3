import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost

/// GATT client procedures against a scripted server on a fake link (`HostileController.fakeLink`):
/// the exact requests the host sends, and how it takes what the server answers.
@Suite("Host: GATT client procedures")
struct HostGATTClientProcedureTests {
    /// A server that keeps what it is sent, answering with `answer`.
    final class ScriptedServer: @unchecked Sendable {
        // Safe: `requests` is guarded by `condition`; `answer` is immutable.
        private let condition = NSCondition()
        private var requests: [[UInt8]] = []
        let answer: @Sendable (_ pdu: [UInt8], _ index: Int) -> [[UInt8]]
        init(answer: @escaping @Sendable (_ pdu: [UInt8], _ index: Int) -> [[UInt8]]) { self.answer = answer }
        func handle(_ cid: UInt16, _ pdu: [UInt8]) -> [(cid: UInt16, payload: [UInt8])] {
            guard cid == 0x0004 else { return [] }
            condition.lock()
            requests.append(pdu)
            let index = requests.count - 1
            condition.broadcast()
            condition.unlock()
            return answer(pdu, index).map { (0x0004, $0) }
        }
        var received: [[UInt8]] {
            condition.lock()
            defer { condition.unlock() }
            return requests
        }
        /// Waits until what the server received satisfies `predicate`.
        func wait(timeout: Double = 5, _ predicate: ([[UInt8]]) -> Bool) -> Bool {
            let deadline = Date(timeIntervalSinceNow: timeout)
            condition.lock()
            defer { condition.unlock() }
            while !predicate(requests) {
                if !condition.wait(until: deadline) { return predicate(requests) }
            }
            return true
        }
    }

    static func setUp(_ server: ScriptedServer, handle: UInt16 = 0x0040)
        throws -> (HostileController, BLE, EventRecorder)
    {
        let hostile = try HostileController()
        let ble = HostileControllerTests.device(hostile)
        let rec = EventRecorder(ble)
        try ble.active(true)
        hostile.fakeLink(handle: handle) { server.handle($0, $1) }
        _ = try #require(rec.next(code: IRQ.peripheralConnect))
        return (hostile, ble, rec)
    }

    /// The server exchanges the MTU (23 -> 100) while the client's first Prepare Write is in
    /// flight: the write goes on with larger parts and completes; the server gets the value whole.
    @Test func aLongWriteSurvivesAnMTUExchangeInTheMiddle() throws {
        let value = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let server = ScriptedServer { pdu, _ in
            switch pdu.first {
            case 0x16 where pdu.count >= 5 && pdu[3] == 0 && pdu[4] == 0:
                // The first part: ask for MTU 100 before answering it.
                return [[0x02, 100, 0x00], [0x17] + pdu.dropFirst()]
            case 0x16: return [[0x17] + pdu.dropFirst()]
            case 0x18: return [[0x19]]
            default: return []
            }
        }
        let (hostile, ble, rec) = try Self.setUp(server)
        defer {
            _ = try? ble.active(false)
            hostile.stop()
        }
        try ble.gattcWrite(0x0040, 0x0010, value, .withResponse)
        let done = try #require(rec.next(code: 17, timeout: 5))
        #expect(done == .gattcWriteDone(connHandle: 0x0040, valueHandle: 0x0010, status: 0))
        // Parts: 18 bytes at MTU 23, then 95 at MTU 100; the server's parts rebuild the value.
        let prepares = server.received.filter { $0.first == 0x16 }
        #expect(prepares.map { $0.count - 5 } == [18, 95, 95, 92])
        var rebuilt: [UInt8] = []
        for p in prepares {
            #expect(Int(p[3]) | Int(p[4]) << 8 == rebuilt.count)
            rebuilt += p[5...]
        }
        #expect(rebuilt == value)
        #expect(server.wait { $0.contains([0x18, 0x01]) })
        #expect(rec.all.contains(.mtuExchanged(connHandle: 0x0040, mtu: 100)))
    }

    /// A server that echoes a part changed: the client cancels the queued write (Execute Write
    /// with flags 0) and reports `protocolError`.
    @Test func aChangedEchoCancelsTheLongWrite() throws {
        let server = ScriptedServer { pdu, _ in
            switch pdu.first {
            case 0x16: return [[0x17] + pdu.dropFirst().dropLast() + [0xEE]]
            case 0x18: return [[0x19]]
            default: return []
            }
        }
        let (hostile, ble, rec) = try Self.setUp(server)
        defer {
            _ = try? ble.active(false)
            hostile.stop()
        }
        try ble.gattcWrite(0x0040, 0x0010, [UInt8](repeating: 1, count: 40), .withResponse)
        let done = try #require(rec.next(code: 17, timeout: 5))
        #expect(done == .gattcWriteDone(connHandle: 0x0040, valueHandle: 0x0010, status: BLEStatus.protocolError))
        #expect(server.received.filter { $0.first == 0x16 }.count == 1)
        #expect(server.wait { $0.last == [0x18, 0x00] })
    }

    /// A server that never answers: the connection's queue takes `maxClientProcedures`
    /// procedures, then `gattc*` calls throw `.noMemory` (writes without response still go); the
    /// link's end ends every queued procedure with -107.
    @Test func theClientQueueIsBounded() throws {
        let server = ScriptedServer { _, _ in [] }
        let (hostile, ble, rec) = try Self.setUp(server)
        defer { hostile.stop() }
        let limit = ble.host.read { $0.config.maxClientProcedures }
        for i in 0..<limit { try ble.gattcRead(0x0040, UInt16(1 + i)) }
        #expect(throws: BLEError.noMemory) { try ble.gattcRead(0x0040, 1) }
        #expect(throws: BLEError.noMemory) { try ble.gattcDiscoverServices(0x0040) }
        #expect(throws: BLEError.noMemory) { try ble.gattcWrite(0x0040, 1, [1], .withResponse) }
        try ble.gattcWrite(0x0040, 1, [1], .noResponse)
        #expect(server.wait { $0.contains([0x52, 0x01, 0x00, 0x01]) })
        // Only the head is on the air.
        #expect(server.received.filter { $0.first == 0x0A } == [[0x0A, 0x01, 0x00]])
        hostile.inject(event: HCI.DisconnectionComplete(handle: 0x0040, reason: .remoteUserTerminated))
        #expect(rec.waitUntil { $0.filter { $0.code == 16 }.count == limit })
        #expect(rec.all.filter { $0.code == 16 }.allSatisfy {
            if case let .gattcReadDone(_, _, status) = $0 { return status == BLEStatus.notConnected }
            return false
        })
        _ = try? ble.active(false)
    }
}
