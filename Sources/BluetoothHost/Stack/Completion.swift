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
    /// Run once when sealed and every command finished (the non-blocking form).
    private var onFinish: (@Sendable (BLEError?) -> Void)?

    func begin() {
        condition.lock()
        pending += 1
        condition.unlock()
    }

    func end(_ failure: BLEError?) {
        condition.lock()
        pending -= 1
        if error == nil, let failure { error = failure }
        finishIfDone()
    }

    func seal() {
        condition.lock()
        sealed = true
        finishIfDone()
    }

    /// Seals, and calls `done` with the first failure once every command finished (at once if
    /// they all have), instead of a caller waiting.
    func seal(then done: @escaping @Sendable (BLEError?) -> Void) {
        condition.lock()
        onFinish = done
        sealed = true
        finishIfDone()
    }

    /// Called with `condition` locked; unlocks it.
    private func finishIfDone() {
        guard sealed && pending <= 0 else {
            condition.unlock()
            return
        }
        condition.broadcast()
        let done = onFinish
        onFinish = nil
        let failure = error
        condition.unlock()
        done?(failure)
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
