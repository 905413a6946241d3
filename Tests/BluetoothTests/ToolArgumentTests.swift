import Foundation
import Testing

/// The `ble` tool given bad numbers and a bad environment: every numeric option is checked before
/// a controller is opened, and a bad value ends in status 64 with a message naming the option and
/// the value, never a trap (SIGILL, status 132) or a backtrace.
@Suite("Tool: ble arguments")
struct ToolArgumentTests {
    /// A subcommand, one of its numeric options, and what else it needs to get that far.
    struct NumericOption: Sendable, CustomTestStringConvertible {
        let command: String
        let option: String
        let rest: [String]
        var testDescription: String { "\(command) \(option)" }
    }

    static let numericOptions: [NumericOption] = [
        NumericOption(command: "scan", option: "--duration", rest: []),
        NumericOption(command: "scan", option: "--interval-ms", rest: []),
        NumericOption(command: "scan", option: "--window-ms", rest: []),
        NumericOption(command: "advertise", option: "--interval-ms", rest: []),
        NumericOption(command: "advertise", option: "--duration", rest: []),
        NumericOption(command: "gatt", option: "--timeout", rest: ["--name", "nobody"]),
    ]

    /// Bad values as typed, and as the message shows them.
    static let badValues: [(typed: String, shown: String)] = [
        ("nan", "nan"), ("inf", "inf"), ("-1", "-1"), ("1e300", "1e+300"),
    ]

    /// A radio of its own, so nothing another test runs is heard or connected.
    static func transport() -> [String] { ["--transport", "virtual:args-\(UUID().uuidString.prefix(8))"] }

    static func expectNoTrap(_ status: Int32, _ out: String) {
        #expect(status != 132 && status != 134, "trapped:\n\(out)")
        #expect(!out.contains("Backtrace") && !out.contains("Fatal error"), "\(out)")
    }

    @Test(arguments: numericOptions, badValues.indices)
    func badNumberIsAUsageError(_ o: NumericOption, _ valueIndex: Int) throws {
        let (typed, shown) = Self.badValues[valueIndex]
        // Both spellings: the value as the next argument (a negative one too) and after '='.
        for args in [[o.option, typed], ["\(o.option)=\(typed)"]] {
            let (status, out) = try ToolTests.run([o.command] + args + o.rest + Self.transport(), timeout: 20)
            Self.expectNoTrap(status, out)
            #expect(status == 64, "ble \(o.command) \(args.joined(separator: " ")):\n\(out)")
            #expect(out.contains("Error: \(o.option) must be a finite number of"), "\(out)")
            #expect(out.contains("got \(shown)"), "\(out)")
            #expect(out.contains("Usage: ble \(o.command)"), "\(out)")
        }
    }

    @Test func messagesSayTheRangeAndTheUnit() throws {
        let cases: [([String], String)] = [
            (["scan", "--duration=-inf"], "--duration must be a finite number of seconds in 0...86400 (0: until interrupted), got -inf"),
            (["scan", "--duration", "nan"], "--duration must be a finite number of seconds in 0...86400 (0: until interrupted), got nan"),
            (["scan", "--interval-ms", "2"], "--interval-ms must be a finite number of milliseconds in 2.5...10240, got 2"),
            (["scan", "--window-ms", "1e300"], "--window-ms must be a finite number of milliseconds in 2.5...10240, got 1e+300"),
            (["scan", "--window-ms", "200", "--interval-ms", "100"], "--window-ms (200) must not be longer than --interval-ms (100)"),
            (["advertise", "--interval-ms", "19.5"], "--interval-ms must be a finite number of milliseconds in 20...10240, got 19.5"),
            (["advertise", "--duration", "-1"], "--duration must be a finite number of seconds in 0...86400 (0: until interrupted), got -1"),
            (["gatt", "--timeout", "-1", "--name", "x"], "--timeout must be a finite number of seconds in 0.1...3600, got -1"),
            (["gatt", "--timeout", "0", "--address", "aa:bb:cc:dd:ee:ff"], "--timeout must be a finite number of seconds in 0.1...3600, got 0"),
        ]
        for (args, message) in cases {
            let (status, out) = try ToolTests.run(args + Self.transport(), timeout: 20)
            Self.expectNoTrap(status, out)
            #expect(status == 64, "ble \(args.joined(separator: " ")):\n\(out)")
            #expect(out.contains("Error: \(message)\n"), "ble \(args.joined(separator: " ")):\n\(out)")
            // Nothing about a scan in the timeout's message (it used to say "scan duration").
            if args[0] == "gatt" { #expect(!out.contains("scan")) }
        }
    }

    /// The ends of each range are accepted and run.
    @Test func rangeEndsAreAccepted() throws {
        let (aStatus, aOut) = try ToolTests.run(["advertise", "--interval-ms", "20", "--duration", "0.2"] + Self.transport())
        #expect(aStatus == 0, "\(aOut)")
        #expect(aOut.contains("every 20.0 ms") && aOut.contains("stopped"), "\(aOut)")
        let (sStatus, sOut) = try ToolTests.run(["scan", "--duration", "0.2", "--interval-ms", "10240", "--window-ms", "2.5"]
            + Self.transport())
        #expect(sStatus == 0, "\(sOut)")
        #expect(sOut.contains("scan done: 0"), "\(sOut)")
        // The shortest timeout: the named device is not there, and the tool says so (the scan and
        // the wait for it both last the timeout, so either message may come).
        let (gStatus, gOut) = try ToolTests.run(["gatt", "--name", "nobody", "--timeout", "0.1"] + Self.transport())
        Self.expectNoTrap(gStatus, gOut)
        #expect(gStatus == 1, "\(gOut)")
        #expect(gOut.contains("named \"nobody\""), "\(gOut)")
    }

    /// `--duration 0` is `gap_scan(0)`: scan until interrupted. The tool keeps scanning (no
    /// "the scan did not end" after 10 s), and Ctrl-C ends the scan as a timed one ends.
    @Test func scanWithDurationZeroRunsUntilInterrupted() throws {
        let tool = try RunningTool(["scan", "--duration", "0"] + Self.transport())
        defer { tool.kill() }
        #expect(tool.waitForOutput(containing: "scanning until interrupted", timeout: 20), "\(tool.output)")
        // Still scanning 2 s on (a bounded wait for the process to end, which must not come).
        #expect(!tool.waitForExit(timeout: 2), "ended on its own:\n\(tool.output)")
        tool.interrupt()
        #expect(tool.waitForExit(timeout: 10), "SIGINT did not end it:\n\(tool.output)")
        #expect(tool.status == 0, "\(tool.output)")
        #expect(tool.output.contains("scan done: 0"), "\(tool.output)")
        #expect(!tool.output.contains("did not end"))
    }

    /// A `BLE_SNOOP` that cannot be created stops the tool with a message naming the variable and
    /// the path (it used to be "cannot open transport", and the tool ran on without a capture).
    @Test func badSnoopPathIsNamed() throws {
        let path = "/nonexistent-\(UUID().uuidString.prefix(8))/dir/x.btsnoop"
        let (status, out) = try ToolTests.run(["scan", "--duration", "0.2"] + Self.transport(),
                                              environment: ["BLE_SNOOP": path], timeout: 20)
        Self.expectNoTrap(status, out)
        #expect(status == 1, "\(out)")
        #expect(out.contains("BLE_SNOOP=\(path): cannot create the btsnoop capture '\(path)'"), "\(out)")
        #expect(out.contains("No such file or directory"), "\(out)")
        #expect(!out.contains("cannot open transport"), "\(out)")
        #expect(!out.contains("scan done"), "\(out)")
    }
}

/// The `ble` executable running in the background: its output so far, its end, signals.
final class RunningTool: @unchecked Sendable {
    // Safe: `text` and `ended` are guarded by `condition`; `process` is set up before `run`.
    private let process = Process()
    private let condition = NSCondition()
    private var text = Data()
    private var ended = false

    init(_ arguments: [String]) throws {
        process.executableURL = try ToolTests.executable()
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.terminationHandler = { [self] _ in
            condition.lock()
            ended = true
            condition.broadcast()
            condition.unlock()
        }
        try process.run()
        let reader = Thread { [self] in
            while true {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                condition.lock()
                text.append(chunk)
                condition.broadcast()
                condition.unlock()
            }
        }
        reader.start()
    }

    var output: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: text, as: UTF8.self)
    }

    /// Exit status, once `waitForExit` returned true.
    var status: Int32 { process.terminationStatus }

    private func wait(timeout: Double, until done: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !done() {
            if !condition.wait(until: deadline) { return done() }
        }
        return true
    }

    func waitForOutput(containing s: String, timeout: Double) -> Bool {
        wait(timeout: timeout) { String(decoding: text, as: UTF8.self).contains(s) }
    }

    func waitForExit(timeout: Double) -> Bool {
        wait(timeout: timeout) { ended }
    }

    func interrupt() { process.interrupt() }

    /// Ends it if it still runs (the test failed on the way).
    func kill() {
        if process.isRunning {
            process.terminate()
            _ = waitForExit(timeout: 5)
        }
    }
}
