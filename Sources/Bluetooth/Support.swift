import Foundation

enum ProcessEnvironment {
    static func get(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name]
    }
}
