import Foundation
import BluetoothCore
@testable import BluetoothHost
@testable import Bluetooth

/// Records the events of one device and lets a test wait for one, with a timeout (never a sleep).
/// On a virtual-time radio, waiting drives the radio's executor and the timeout is virtual.
final class EventRecorder: @unchecked Sendable {
    // Safe: every field is guarded by `condition`; `executor` is immutable.
    private let condition = NSCondition()
    private var events: [BLE.Event] = []
    private var cursor = 0
    private let executor: VirtualTimeExecutor?

    /// Attaches to `ble` as its irq handler; `onEvent` may act on events (it runs on the device's queue).
    init(_ ble: BLE, onEvent: (@Sendable (BLE.Event) -> BLE.IRQResult?)? = nil) {
        executor = ble.host.queue.executor
        ble.irq { [self] event in
            // The test's own reaction runs first, so a waiter that wakes on this event sees its effects.
            let result = onEvent?(event)
            condition.lock()
            events.append(event)
            condition.broadcast()
            condition.unlock()
            return result
        }
    }

    /// Every event so far.
    var all: [BLE.Event] {
        condition.lock()
        defer { condition.unlock() }
        return events
    }

    /// Event names (MicroPython's `_IRQ_...`) in order, optionally only some codes.
    func names(codes: Set<Int>? = nil) -> [String] {
        all.filter { codes?.contains($0.code) ?? true }.map(\.name)
    }

    /// Waits for the next event (after the last one returned by `next`) that matches; events
    /// skipped on the way stay recorded in `all`.
    @discardableResult
    func next(timeout: Double = 5, where match: (BLE.Event) -> Bool) -> BLE.Event? {
        if let executor {
            var found: BLE.Event?
            executor.run(forAtMost: DeviceQueue.nanoseconds(seconds: timeout)) {
                condition.lock()
                defer { condition.unlock() }
                while found == nil, cursor < events.count {
                    let e = events[cursor]
                    cursor += 1
                    if match(e) { found = e }
                }
                return found != nil
            }
            return found
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            while cursor < events.count {
                let e = events[cursor]
                cursor += 1
                if match(e) { return e }
            }
            if !condition.wait(until: deadline) { return nil }
        }
    }

    func next(code: Int, timeout: Double = 5) -> BLE.Event? {
        next(timeout: timeout) { $0.code == code }
    }

    /// Waits until `predicate` holds over all events.
    func waitUntil(timeout: Double = 5, _ predicate: ([BLE.Event]) -> Bool) -> Bool {
        if let executor {
            return executor.run(forAtMost: DeviceQueue.nanoseconds(seconds: timeout)) {
                condition.lock()
                defer { condition.unlock() }
                return predicate(events)
            }
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(events) {
            if !condition.wait(until: deadline) { return predicate(events) }
        }
        return true
    }
}

enum IRQ {
    static let centralConnect = 1
    static let centralDisconnect = 2
    static let scanResult = 5
    static let scanDone = 6
    static let peripheralConnect = 7
    static let peripheralDisconnect = 8
    static let connectionUpdate = 27
}

extension BLE.Event {
    var connHandle: UInt16? {
        switch self {
        case let .centralConnect(h, _, _), let .centralDisconnect(h, _, _), let .peripheralConnect(h, _, _),
             let .peripheralDisconnect(h, _, _):
            return h
        default:
            return nil
        }
    }
}

/// A fresh radio name per test, so tests can run in parallel.
func uniqueRadio(_ base: String = #function) -> String {
    "virtual:\(base)-\(UUID().uuidString.prefix(8))"
}
