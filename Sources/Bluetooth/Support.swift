import Foundation

/// A lock-protected counter.
final class AtomicCounter: @unchecked Sendable {
    // Safe: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let v = value
        value += 1
        return v
    }
}

enum ProcessEnvironment {
    static func get(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name]
    }
}
