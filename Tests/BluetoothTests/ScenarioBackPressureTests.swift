import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothSimulator

/// Back-pressure end to end, as on air: a receiver whose application is slow stops taking packets,
/// its controller stops taking them off the air, the sender's controller stops returning buffers,
/// the sender's host queue fills and `gattsNotify` throws `.noMemory` until `l2capSendReady`
/// (CID 4) says there is room. Memory stays bounded; nothing accepted is lost or reordered.
@Suite("Scenario: back-pressure", .serialized)
struct ScenarioBackPressureTests {
    /// Resident memory of this process in bytes (Linux: VmRSS).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }

    final class Receiver: @unchecked Sendable {
        // Safe: every field is guarded by `condition`.
        private let condition = NSCondition()
        private(set) var received = 0
        private(set) var outOfOrder = 0
        private var expected: UInt32 = 0
        func take(_ data: [UInt8]) {
            guard data.count >= 4 else { return }
            let seq = UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24
            condition.lock()
            if seq != expected { outOfOrder += 1 }
            expected = seq &+ 1
            received += 1
            if received % 1000 == 0 { condition.broadcast() }
            condition.unlock()
        }
        func wait(for count: Int, timeout: Double) -> Bool {
            let deadline = Date(timeIntervalSinceNow: timeout)
            condition.lock()
            defer { condition.unlock() }
            while received < count {
                if !condition.wait(until: deadline) { return received >= count }
            }
            return true
        }
    }

    /// 1 000 000 notifications at a receiver whose handler blocks for 1.5 s at the start and then
    /// takes 1 ms per notification for the next 300: `.noMemory` comes, the sender waits for room
    /// and goes on, every notification arrives once and in order, and memory stays bounded (the
    /// sender's queue within `maxQueuedBytes`, the process within 48 MB of where it started;
    /// without back-pressure it grew by about 170 MB).
    @Test func aMillionNotificationsAtASlowReceiver() throws {
        let radio = VirtualRadio()
        let server = BLE(controller: VirtualController(radio: radio))
        let client = BLE(controller: VirtualController(radio: radio))
        let sr = EventRecorder(server)
        let cr = EventRecorder(client)
        try server.active(true)
        try client.active(true)
        defer {
            _ = try? client.active(false)
            _ = try? server.active(false)
        }
        let handles = try server.gattsRegisterServices([
            BLE.Service(BluetoothUUID(0xFEED), [BLE.Characteristic(BluetoothUUID(0xFEE1), [.read, .notify])]),
        ])
        let h = handles[0][0]
        let (_, conn) = try ScenarioLinkTests.connect(server, client, sr, cr)
        let receiver = Receiver()
        let slow = Locked(0)
        // Only the sender's l2capSendReady matters from here on; stop recording everything else.
        let room = DispatchSemaphore(value: 0)
        server.irq { e in
            if case .l2capSendReady(_, 0x0004, _) = e { room.signal() }
            return nil
        }
        client.irq { event in
            if case let .gattcNotify(_, _, data) = event {
                let n = slow.withLock { n -> Int in
                    n += 1
                    return n
                }
                // Not a wait for an event: the sleeps *are* the slow application under test, whose
                // handler holds the receiving host's queue (1.5 s once, then 1 ms 300 times).
                if n == 1 { Thread.sleep(forTimeInterval: 1.5) } else if n <= 300 { Thread.sleep(forTimeInterval: 0.001) }
                receiver.take(data)
            }
            return nil
        }
        let total = 1_000_000
        let baseline = Self.residentBytes()
        var peakGrowth = 0, peakQueued = 0, noMemory = 0
        let limit = server.host.read { $0.config.maxQueuedBytes }
        var seq: UInt32 = 0
        var data = [UInt8](repeating: 0, count: 20)
        while Int(seq) < total {
            data[0] = UInt8(truncatingIfNeeded: seq)
            data[1] = UInt8(truncatingIfNeeded: seq >> 8)
            data[2] = UInt8(truncatingIfNeeded: seq >> 16)
            data[3] = UInt8(truncatingIfNeeded: seq >> 24)
            do {
                try server.gattsNotify(conn, h, data)
                seq += 1
            } catch BLEError.noMemory {
                noMemory += 1
                guard room.wait(timeout: .now() + 10) == .success else {
                    Issue.record("no l2capSendReady within 10 s after .noMemory (at \(seq))")
                    return
                }
            }
            if seq % 20_000 == 0 {
                peakGrowth = max(peakGrowth, Self.residentBytes() - baseline)
                peakQueued = max(peakQueued, server.host.read { $0.acl.queuedBytes(conn) })
            }
        }
        #expect(receiver.wait(for: total, timeout: 60), "received \(receiver.received) of \(total)")
        #expect(receiver.received == total)
        #expect(receiver.outOfOrder == 0)
        #expect(noMemory > 0)
        #expect(peakQueued <= limit)
        #expect(peakGrowth < 48 << 20, "resident memory grew by \(peakGrowth >> 20) MB")
        print("back-pressure storm: \(total) notifications, \(noMemory) waits for room, peak sender queue \(peakQueued) B, peak RSS growth \(peakGrowth >> 20) MB")
    }
}
