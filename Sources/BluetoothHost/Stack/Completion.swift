import Foundation

/// Lets a public call made off the device's queue wait for the HCI commands it issued. Every
/// command has a bounded life (a timeout waiting for a credit, another for its answer), so a
/// completion always finishes within seconds; `wait` adds a safety bound on top.
final class Completion: @unchecked Sendable {
    // Safe: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var pending = 0
    private var sealed = false
    private var error: BLEError?

    func begin() {
        condition.lock()
        pending += 1
        condition.unlock()
    }

    func end(_ failure: BLEError?) {
        condition.lock()
        pending -= 1
        if error == nil, let failure { error = failure }
        if sealed && pending <= 0 { condition.broadcast() }
        condition.unlock()
    }

    func seal() {
        condition.lock()
        sealed = true
        if pending <= 0 { condition.broadcast() }
        condition.unlock()
    }

    /// True once sealed and every command finished.
    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return sealed && pending <= 0
    }

    /// Waits until every command finished; returns the first error.
    func wait(timeoutSeconds: Double) -> BLEError? {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        condition.lock()
        defer { condition.unlock() }
        while !(sealed && pending <= 0) {
            if !condition.wait(until: deadline) { return .timedOut }
        }
        return error
    }
}
