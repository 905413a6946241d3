import Foundation
import Testing

/// The `ble` command-line tool, run as a user would.
@Suite("Tool: ble")
struct ToolTests {
    static var projectRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The built `ble` executable next to this test bundle.
    static func executable() throws -> URL {
        let products = Bundle.main.bundleURL
        for dir in [products, products.deletingLastPathComponent(), projectRoot.appendingPathComponent(".build/debug")] {
            let candidate = dir.appendingPathComponent("ble")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw CLIToolError(description: "the ble executable is not built (run swift build)")
    }

    struct CLIToolError: Error, CustomStringConvertible { let description: String }

    /// Runs the tool with a time limit; returns (exit status, output).
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 30) throws
        -> (Int32, String)
    {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        let data = Collector()
        let drained = DispatchSemaphore(value: 0)
        let reader = Thread {
            while true {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
            }
            drained.signal()
        }
        reader.start()
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = done.wait(timeout: .now() + 5)
            throw CLIToolError(description: "ble \(arguments.joined(separator: " ")) did not finish in \(timeout) s:\n\(data.text)")
        }
        // Let the reader drain the pipe (EOF comes once the process and its children are gone).
        _ = drained.wait(timeout: .now() + 5)
        return (process.terminationStatus, data.text)
    }

    @Test func demoFindsConnectsAndDisconnects() throws {
        let (status, out) = try Self.run(["demo"])
        #expect(status == 0, "\(out)")
        for line in ["advertises \"swift-ble-demo\"", "found \"swift-ble-demo\"", "_IRQ_PERIPHERAL_CONNECT",
                     "_IRQ_CENTRAL_CONNECT", "_IRQ_PERIPHERAL_DISCONNECT", "_IRQ_CENTRAL_DISCONNECT", "demo complete"] {
            #expect(out.contains(line), "missing \(line) in:\n\(out)")
        }
    }

    @Test func scanOnAnEmptyRadioEndsCleanly() throws {
        let (status, out) = try Self.run(["scan", "--duration", "0.2", "--transport", "virtual:empty-\(UUID().uuidString)"])
        #expect(status == 0, "\(out)")
        #expect(out.contains("scan done: 0"))
    }

    @Test func badTransportIsAClearError() throws {
        let (status, out) = try Self.run(["scan", "--transport", "nonsense"])
        #expect(status != 0)
        #expect(out.contains("invalid"))
    }
}

final class Collector: @unchecked Sendable {
    // Safe: guarded by `lock`.
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) {
        lock.lock()
        data.append(d)
        lock.unlock()
    }
    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
