// Support for the interop tests against Google's Bumble (Python, from PyPI).
//
// Layout (all paths from the project root, found from this file's #filePath):
//   scripts/setup-bumble.sh          makes .venv-interop/ with the pinned bumble, prints its python
//   Tests/Interop/bumble_controllers.py  stock Bumble virtual controllers on one LocalLink (H4 TCP / pty)
//   Tests/Interop/bumble_peer.py     a Bumble host device: advertise / scan / connect
//   Tests/Interop/bumble_gatt_peer.py  a Bumble GATT server / GATT client (same harness)
//
// Every wait here is bounded, and every child process is terminated (SIGTERM, then SIGKILL after a
// grace period) when its owner goes away; the Python scripts also exit on their own when their
// parent dies or their --duration/--timeout elapses.

import Foundation
import Bluetooth
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Errors

struct InteropError: Error, CustomStringConvertible, Sendable {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Locations and the Python environment

enum Interop {
    /// The project root: the nearest ancestor of this file that holds Package.swift.
    static let projectRoot: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                return dir
            }
            dir = dir.deletingLastPathComponent()
        }
        // Tests/BluetoothTests/Interop/InteropSupport.swift -> four levels up.
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }()

    static var scriptsDirectory: URL { projectRoot.appendingPathComponent("Tests/Interop") }
    static var setupScript: URL { projectRoot.appendingPathComponent("scripts/setup-bumble.sh") }

    /// Runs scripts/setup-bumble.sh once per test process; the outcome (the venv's python, or the
    /// script's own message) is cached. Throws when the environment cannot be set up: the interop
    /// tests then fail with that message, they never skip silently.
    static func python() throws -> String {
        try setupResult.get()
    }

    private static let setupResult: Result<String, InteropError> = runSetup()

    private static func runSetup() -> Result<String, InteropError> {
        let script = setupScript.path
        guard FileManager.default.isExecutableFile(atPath: script) ||
              FileManager.default.fileExists(atPath: script) else {
            return .failure(InteropError("interop setup: \(script) is missing"))
        }
        let outcome: InteropProcessOutcome
        do {
            // The first run creates the venv and installs bumble from PyPI (about a minute);
            // later runs only check it.
            outcome = try interopRun(executable: "/bin/bash", arguments: [script], timeout: 600)
        } catch {
            return .failure(InteropError("interop setup: cannot run \(script): \(error)"))
        }
        guard outcome.status == 0 else {
            let why = outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure(InteropError(
                "interop setup failed (\(script) exited with \(outcome.statusDescription)): " +
                (why.isEmpty ? outcome.stdout : why)))
        }
        let lines = outcome.stdout.split(separator: "\n").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        guard let python = lines.last, FileManager.default.isExecutableFile(atPath: python) else {
            return .failure(InteropError(
                "interop setup: \(script) did not print an executable python path " +
                "(stdout: \(outcome.stdout.debugDescription), stderr: \(outcome.stderr.debugDescription))"))
        }
        return .success(python)
    }
}

// MARK: - Running a process to completion

struct InteropProcessOutcome: Sendable {
    var status: Int32
    var signaled: Bool
    var stdout: String
    var stderr: String
    var statusDescription: String { signaled ? "signal \(status)" : "status \(status)" }
}

/// Runs a command, collecting its output, and kills it if it outlives `timeout` seconds.
func interopRun(executable: String, arguments: [String], timeout: Double) throws -> InteropProcessOutcome {
    let child = try InteropProcess(name: URL(fileURLWithPath: arguments.first ?? executable).lastPathComponent,
                                 executable: executable, arguments: arguments)
    defer { child.terminate() }
    guard let status = child.waitForExit(timeout: timeout) else {
        throw InteropError("\(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s; "
                           + "stderr: \(child.stderrText)")
    }
    child.waitForStdoutClosed(timeout: 10)
    return InteropProcessOutcome(status: status.code, signaled: status.signaled,
                          stdout: child.stdoutLines.joined(separator: "\n"), stderr: child.stderrText)
}

// MARK: - A child process with line-oriented stdout

/// A child process whose stdout is read line by line on a background thread and whose stderr is
/// captured for failure messages. `terminate()` (also run by `deinit`) sends SIGTERM, then SIGKILL
/// after a grace period, so nothing outlives its owner.
final class InteropProcess: @unchecked Sendable, CustomStringConvertible {
    struct ExitStatus: Sendable, Equatable {
        var code: Int32
        var signaled: Bool
    }

    /// What the reader threads and the termination handler share with the waiting test thread.
    /// It is separate from InteropProcess so that those threads do not keep the InteropProcess alive:
    /// its deinit (and so the termination of the child) runs when its owner lets it go.
    private final class Output: @unchecked Sendable {
        let condition = NSCondition()
        // Guarded by `condition`.
        var lines: [String] = []
        var consumed = Set<Int>()
        var partial = Data()
        var stdoutClosed = false
        var stderrData = Data()
        var exitStatus: ExitStatus?

        func pump(_ handle: FileHandle, isStdout: Bool) {
            while true {
                let chunk = handle.availableData  // blocks; empty at end of file
                condition.lock()
                if chunk.isEmpty {
                    if isStdout {
                        if !partial.isEmpty {
                            lines.append(String(decoding: partial, as: UTF8.self))
                            partial.removeAll()
                        }
                        stdoutClosed = true
                    }
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                if isStdout {
                    partial.append(chunk)
                    while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                        var line = String(decoding: partial[partial.startIndex..<newline], as: UTF8.self)
                        if line.hasSuffix("\r") { line.removeLast() }
                        lines.append(line)
                        partial.removeSubrange(partial.startIndex...newline)
                    }
                } else {
                    stderrData.append(chunk)
                    if stderrData.count > 256 * 1024 {  // keep the tail only
                        stderrData.removeFirst(stderrData.count - 128 * 1024)
                    }
                }
                condition.broadcast()
                condition.unlock()
            }
        }

        func exited(_ status: ExitStatus) {
            condition.lock()
            exitStatus = status
            condition.broadcast()
            condition.unlock()
        }
    }

    let name: String
    private let process = Process()
    private let output = Output()

    /// Starts `executable` with `arguments`. `environment` entries are added to the inherited ones.
    init(name: String, executable: String, arguments: [String], environment: [String: String] = [:]) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.currentDirectoryURL = Interop.projectRoot
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let output = self.output
        process.terminationHandler = { finished in
            output.exited(ExitStatus(code: finished.terminationStatus,
                                     signaled: finished.terminationReason == .uncaughtSignal))
        }
        try process.run()
        let outHandle = out.fileHandleForReading, errHandle = err.fileHandleForReading
        Thread.detachNewThread { output.pump(outHandle, isStdout: true) }
        Thread.detachNewThread { output.pump(errHandle, isStdout: false) }
    }

    deinit {
        terminate()
    }

    var pid: Int32 { process.processIdentifier }

    // MARK: Output

    /// Every stdout line so far.
    var stdoutLines: [String] {
        output.condition.lock(); defer { output.condition.unlock() }
        return output.lines
    }

    /// The stderr captured so far (its tail if it is long).
    var stderrText: String {
        output.condition.lock(); defer { output.condition.unlock() }
        return String(decoding: output.stderrData, as: UTF8.self)
    }

    /// Waits for a stdout line starting with `prefix` that no earlier call returned, and returns
    /// it (each line is returned at most once, so successive waits for the same prefix see
    /// successive lines). Throws when `timeout` seconds pass, or when the process has closed its
    /// stdout without printing such a line; the error carries stdout, stderr and the exit status.
    @discardableResult
    func waitForLine(prefix: String, timeout: Double = 15) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        let o = output
        o.condition.lock()
        defer { o.condition.unlock() }
        while true {
            for (index, line) in o.lines.enumerated() where !o.consumed.contains(index) && line.hasPrefix(prefix) {
                o.consumed.insert(index)
                return line
            }
            if o.stdoutClosed {
                // Give the exit status a moment to arrive, for the message.
                if o.exitStatus == nil { _ = o.condition.wait(until: Date(timeIntervalSinceNow: 0.5)) }
                throw InteropError("\(name): ended without printing a line starting with '\(prefix)'\n"
                                   + reportLocked())
            }
            if !o.condition.wait(until: deadline) && Date() >= deadline {
                throw InteropError("\(name): no line starting with '\(prefix)' within \(timeout) s\n"
                                   + reportLocked())
            }
        }
    }

    /// Every stdout line so far that starts with `prefix` (consumed or not), in order.
    func lines(prefix: String) -> [String] {
        output.condition.lock(); defer { output.condition.unlock() }
        return output.lines.filter { $0.hasPrefix(prefix) }
    }

    /// Whether a line starting with `prefix` was printed (consumed or not).
    func hasLine(prefix: String) -> Bool {
        output.condition.lock(); defer { output.condition.unlock() }
        return output.lines.contains { $0.hasPrefix(prefix) }
    }

    // MARK: Lifetime

    /// Waits for the process to exit; nil if it is still running after `timeout` seconds.
    func waitForExit(timeout: Double) -> ExitStatus? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        let o = output
        o.condition.lock()
        defer { o.condition.unlock() }
        while o.exitStatus == nil {
            if !o.condition.wait(until: deadline) && Date() >= deadline { break }
        }
        return o.exitStatus
    }

    /// Waits until the reader has seen the end of stdout (after an exit, the last lines may still
    /// be in the pipe); false after `timeout` seconds.
    @discardableResult
    func waitForStdoutClosed(timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        let o = output
        o.condition.lock()
        defer { o.condition.unlock() }
        while !o.stdoutClosed {
            if !o.condition.wait(until: deadline) && Date() >= deadline { break }
        }
        return o.stdoutClosed
    }

    /// Waits for the process to exit and throws unless it exits with status 0.
    func requireSuccessfulExit(timeout: Double = 15) throws {
        guard let status = waitForExit(timeout: timeout) else {
            throw InteropError("\(name): still running after \(timeout) s\n\(report())")
        }
        guard status == ExitStatus(code: 0, signaled: false) else {
            throw InteropError("\(name): exited with \(status.signaled ? "signal" : "status") \(status.code)\n\(report())")
        }
    }

    var isRunning: Bool {
        output.condition.lock(); defer { output.condition.unlock() }
        return output.exitStatus == nil
    }

    /// SIGTERM, then SIGKILL if the process is still there after `grace` seconds. Idempotent.
    func terminate(grace: Double = 3) {
        guard isRunning else { return }
        let pid = process.processIdentifier
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        if waitForExit(timeout: grace) == nil {
            kill(pid, SIGKILL)
            _ = waitForExit(timeout: 5)
        }
    }

    // MARK: Diagnostics

    /// stdout, stderr (tail) and the exit status, for failure messages.
    func report() -> String {
        output.condition.lock(); defer { output.condition.unlock() }
        return reportLocked()
    }

    private func reportLocked() -> String {
        let o = output
        let status = o.exitStatus.map { $0.signaled ? "killed by signal \($0.code)" : "exit status \($0.code)" }
            ?? "still running"
        var err = String(decoding: o.stderrData, as: UTF8.self)
        if err.count > 4000 { err = "..." + String(err.suffix(4000)) }
        return "--- \(name) (pid \(process.processIdentifier), \(status)) stdout:\n"
            + o.lines.joined(separator: "\n")
            + (o.partial.isEmpty ? "" : "\n" + String(decoding: o.partial, as: UTF8.self))
            + "\n--- \(name) stderr:\n" + err
    }

    var description: String { "\(name) (pid \(process.processIdentifier))" }
}

// MARK: - Parsing the scripts' lines

/// The `key=value` fields of a line (the first word and other words without `=` are ignored;
/// a value runs to the next space).
func interopFields(_ line: String) -> [String: String] {
    var fields: [String: String] = [:]
    for word in line.split(separator: " ") {
        guard let eq = word.firstIndex(of: "=") else { continue }
        fields[String(word[..<eq])] = String(word[word.index(after: eq)...])
    }
    return fields
}

/// A required field, with the whole line in the error.
func interopField(_ key: String, of line: String) throws -> String {
    guard let value = interopFields(line)[key] else {
        throw InteropError("no field '\(key)=' in line: \(line)")
    }
    return value
}

/// Bytes from hex (`"0201ff"`); an empty string gives `[]`.
func interopBytes(hex: String) throws -> [UInt8] {
    let chars = Array(hex.utf8)
    guard chars.count % 2 == 0 else { throw InteropError("odd-length hex: \(hex)") }
    var out: [UInt8] = []
    out.reserveCapacity(chars.count / 2)
    var i = 0
    while i < chars.count {
        guard let byte = UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16) else {
            throw InteropError("bad hex: \(hex)")
        }
        out.append(byte)
        i += 2
    }
    return out
}

func interopHex(_ data: [UInt8]) -> String {
    data.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// One advertising data structure: length, AD type, value.
func interopAD(_ type: UInt8, _ value: [UInt8]) -> [UInt8] {
    [UInt8(value.count + 1), type] + value
}

/// A Bluetooth address and its kind as the scripts print them (`address=AA:.. type=public|random`).
struct InteropAddress: Sendable, Equatable, CustomStringConvertible {
    var type: AddressType
    var address: BluetoothAddress

    init(type: AddressType, address: BluetoothAddress) {
        self.type = type
        self.address = address
    }

    /// From the `address=` (or `addressKey`) and `type=` (or `typeKey`) fields of a line.
    init(line: String, addressKey: String = "address", typeKey: String = "type") throws {
        let text = try interopField(addressKey, of: line)
        guard let address = BluetoothAddress(text.lowercased()) else {
            throw InteropError("bad address '\(text)' in line: \(line)")
        }
        switch try interopField(typeKey, of: line) {
        case "public": type = .public
        case "random": type = .random
        case let other: throw InteropError("bad address type '\(other)' in line: \(line)")
        }
        self.address = address
    }

    /// The spelling of bumble_peer.py's `--address-type`.
    var typeArgument: String { type == .public ? "public" : "random" }
    var description: String { "\(address) (\(typeArgument))" }
}

// MARK: - The controllers process

/// `bumble_controllers.py`: stock Bumble virtual controllers on one LocalLink, one process per test.
final class BumbleControllers: @unchecked Sendable {
    let process: InteropProcess
    let readyLine: String
    private let fields: [String: String]
    private let ptyDirectory: URL?

    /// Starts `tcpCount` TCP controllers, preceded by one pty controller when `withPty` is true
    /// (then C0 is the pty). Waits for the READY line.
    init(tcpCount: Int = 2, withPty: Bool = false, duration: Int = 120) throws {
        let python = try Interop.python()
        var arguments = [Interop.scriptsDirectory.appendingPathComponent("bumble_controllers.py").path,
                         "--duration", String(duration), "-n", String(tcpCount)]
        if withPty {
            let dir = FileManager.default.temporaryDirectory
                .appendingPathComponent("ble-interop-\(getpid())-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            ptyDirectory = dir
            arguments += ["--pty", dir.appendingPathComponent("hci-pty").path]
        } else {
            ptyDirectory = nil
        }
        process = try InteropProcess(name: "bumble_controllers.py", executable: python,
                                   arguments: ["-u"] + arguments, environment: ["PYTHONUNBUFFERED": "1"])
        readyLine = try process.waitForLine(prefix: "READY", timeout: 15)
        fields = interopFields(readyLine)
    }

    deinit {
        process.terminate()
        if let ptyDirectory { try? FileManager.default.removeItem(at: ptyDirectory) }
    }

    /// Our stack's transport string for controller `index`: `tcp:127.0.0.1:PORT` or `serial:PATH`.
    func transport(_ index: Int) throws -> String {
        guard let spec = fields["C\(index)"] else {
            throw InteropError("controllers: no C\(index) in \(readyLine)")
        }
        return spec
    }

    /// The Bumble transport string for controller `index` (`tcp-client:HOST:PORT` or `serial:PATH`).
    func bumbleTransport(_ index: Int) throws -> String {
        let spec = try transport(index)
        if spec.hasPrefix("tcp:") { return "tcp-client:" + spec.dropFirst("tcp:".count) }
        return spec
    }

    /// What these controllers report as a scan response, as bumble_controllers.py measured it at
    /// start-up (`scan_rsp=` of its READY line; README gotcha 5).
    enum ScanResponse: String, Sendable {
        /// The report flagged as a scan response repeats the advertising data (stock Bumble
        /// 0.0.236: the advertiser's scan response data never leaves its controller).
        case echo
        /// It carries the advertiser's scan response data.
        case real
        /// No report flagged as a scan response reaches a scanner.
        case none
    }

    /// The measured scan-response behaviour; throws for a value the tests do not know (so an
    /// unexpected controller fails the test instead of passing a weaker branch).
    func scanResponse() throws -> ScanResponse {
        guard let raw = fields["scan_rsp"], let value = ScanResponse(rawValue: raw) else {
            throw InteropError("controllers: scan_rsp=\(fields["scan_rsp"] ?? "(missing)") in \(readyLine)")
        }
        return value
    }
}

// MARK: - A Bumble peer process

/// `bumble_peer.py MODE ...` (or another script of Tests/Interop with the same harness, such as
/// `bumble_gatt_peer.py`) on one of the controllers.
final class BumblePeer: @unchecked Sendable {
    let process: InteropProcess

    /// `arguments` follow the mode (e.g. `["--name", "BUMBLE-IOP"]`). `timeout` bounds the whole
    /// Python run (its own --timeout). `script` is a file name in Tests/Interop.
    init(_ mode: String, _ arguments: [String], controllers: BumbleControllers, index: Int = 1,
         timeout: Int = 30, script scriptName: String = "bumble_peer.py") throws {
        let python = try Interop.python()
        let script = Interop.scriptsDirectory.appendingPathComponent(scriptName).path
        process = try InteropProcess(
            name: "\(scriptName) \(mode)", executable: python,
            arguments: ["-u", script, "--transport", try controllers.bumbleTransport(index),
                        "--timeout", String(timeout), mode] + arguments,
            environment: ["PYTHONUNBUFFERED": "1"])
    }

    deinit { process.terminate() }

    @discardableResult
    func waitForLine(prefix: String, timeout: Double = 15) throws -> String {
        try process.waitForLine(prefix: prefix, timeout: timeout)
    }
}

// MARK: - Our events

/// Records every event of one `BLE` (feed it from `ble.irq`) and lets a test wait for them.
final class InteropEventRecorder: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [BLE.Event] = []
    private var consumed = Set<Int>()

    /// The handler to give to `ble.irq`: records the event and returns nil ("accept / nothing").
    var handler: @Sendable (BLE.Event) -> BLE.IRQResult? {
        { [self] event in
            self.record(event)
            return nil
        }
    }

    func record(_ event: BLE.Event) {
        condition.lock()
        events.append(event)
        condition.broadcast()
        condition.unlock()
    }

    var all: [BLE.Event] {
        condition.lock(); defer { condition.unlock() }
        return events
    }

    /// The first recorded event matching `predicate` that no earlier wait returned, waiting up to
    /// `timeout` seconds for it; nil on timeout.
    func wait(timeout: Double, where predicate: (BLE.Event) -> Bool) -> BLE.Event? {
        let deadline = Date(timeIntervalSinceNow: min(timeout, 15))
        condition.lock()
        defer { condition.unlock() }
        var searched = 0
        while true {
            while searched < events.count {
                let index = searched
                searched += 1
                if !consumed.contains(index) && predicate(events[index]) {
                    consumed.insert(index)
                    return events[index]
                }
            }
            if !condition.wait(until: deadline) && Date() >= deadline { return nil }
        }
    }

    /// Like `wait`, but throws an error naming `what` and listing what was received.
    func require(_ what: String, timeout: Double = 15, where predicate: (BLE.Event) -> Bool) throws -> BLE.Event {
        if let event = wait(timeout: timeout, where: predicate) { return event }
        throw InteropError("no \(what) within \(min(timeout, 15)) s; events received: \(summary())")
    }

    /// A short listing of the recorded events (the last 40), for failure messages.
    func summary() -> String {
        let list = all
        let shown = list.suffix(40).map { "\($0)" }
        return "\(list.count) event(s)" + (list.count > 40 ? ", last 40" : "") + ": ["
            + shown.joined(separator: ", ") + "]"
    }
}

// MARK: - Our device

/// Creates a `BLE` on `transport`, records its events, activates it, runs `body`, and always
/// deactivates it (`active(false)`) afterwards, also when `body` throws.
///
/// The device uses a static random address: Bumble's stock LocalLink sends LE data from a
/// controller's *random* address whatever address it connected with (bumble/link.py
/// `send_acl_data`), so a link made with a public address gets no ACL through ("no connection
/// for ..."). Bumble's own hosts always use random addresses, which hides this.
func withInteropDevice<T>(_ transport: String, addrMode: AddressMode = .random,
                          _ body: (BLE, InteropEventRecorder) throws -> T) throws -> T {
    let ble = try BLE(transport: transport)
    try ble.config(addrMode: addrMode)
    let events = InteropEventRecorder()
    ble.irq(events.handler)
    try ble.active(true)
    let result: T
    do {
        result = try body(ble, events)
    } catch {
        _ = try? ble.active(false)
        ble.irq(nil)
        throw error
    }
    try ble.active(false)
    ble.irq(nil)
    return result
}

// MARK: - GATT database dumps (bumble_gatt_peer.py)

/// One `GATT service start=0x0001 end=0x0005 uuid=1800` line.
struct InteropGATTService: Sendable, Equatable, CustomStringConvertible {
    var start: UInt16
    var end: UInt16
    var uuid: BluetoothUUID
    var description: String { "service \(interopHandle(start))-\(interopHandle(end)) \(uuid)" }
}

/// One `GATT char handle=0x0002 value_handle=0x0003 end=0x0003 props=0x02 uuid=2A00` line:
/// `handle` is the declaration, `end` the last handle of the characteristic (its last descriptor,
/// else its value), as MicroPython's characteristic result reports it.
struct InteropGATTCharacteristic: Sendable, Equatable, CustomStringConvertible {
    var handle: UInt16
    var valueHandle: UInt16
    var end: UInt16
    var properties: UInt8
    var uuid: BluetoothUUID
    var description: String {
        "char decl=\(interopHandle(handle)) value=\(interopHandle(valueHandle)) end=\(interopHandle(end)) "
            + "props=0x\(String(properties, radix: 16)) \(uuid)"
    }
}

/// One `GATT desc handle=0x0004 uuid=2902` line.
struct InteropGATTDescriptor: Sendable, Equatable, CustomStringConvertible {
    var handle: UInt16
    var uuid: BluetoothUUID
    var description: String { "desc \(interopHandle(handle)) \(uuid)" }
}

/// A GATT database as bumble_gatt_peer.py dumps it: its own (gatt-server, before READY) or what it
/// discovered (gatt-client, before DISCOVERED). Also built from our own client's discovery events.
struct InteropGATTDatabase: Sendable, Equatable, CustomStringConvertible {
    var services: [InteropGATTService] = []
    var characteristics: [InteropGATTCharacteristic] = []
    var descriptors: [InteropGATTDescriptor] = []

    init() {}

    /// From stdout lines; lines not starting with `GATT ` are skipped.
    init(dumpLines: [String]) throws {
        for line in dumpLines where line.hasPrefix("GATT ") {
            let words = line.split(separator: " ")
            guard words.count >= 2 else { continue }
            switch words[1] {
            case "service":
                services.append(InteropGATTService(
                    start: try interopHandleField("start", of: line), end: try interopHandleField("end", of: line),
                    uuid: try interopUUIDField("uuid", of: line)))
            case "char":
                let props = try interopField("props", of: line)
                guard let properties = UInt8(props.dropFirst(props.hasPrefix("0x") ? 2 : 0), radix: 16) else {
                    throw InteropError("bad props in line: \(line)")
                }
                characteristics.append(InteropGATTCharacteristic(
                    handle: try interopHandleField("handle", of: line),
                    valueHandle: try interopHandleField("value_handle", of: line),
                    end: try interopHandleField("end", of: line), properties: properties,
                    uuid: try interopUUIDField("uuid", of: line)))
            case "desc":
                descriptors.append(InteropGATTDescriptor(
                    handle: try interopHandleField("handle", of: line), uuid: try interopUUIDField("uuid", of: line)))
            default:
                throw InteropError("unknown GATT dump line: \(line)")
            }
        }
    }

    /// The first characteristic with `uuid`.
    func characteristic(_ uuid: BluetoothUUID) -> InteropGATTCharacteristic? {
        characteristics.first { $0.uuid == uuid }
    }

    /// The first characteristic with `uuid`, or an error listing the database.
    func requireCharacteristic(_ uuid: BluetoothUUID) throws -> InteropGATTCharacteristic {
        guard let c = characteristic(uuid) else {
            throw InteropError("no characteristic \(uuid) in \(self)")
        }
        return c
    }

    func service(_ uuid: BluetoothUUID) -> InteropGATTService? {
        services.first { $0.uuid == uuid }
    }

    /// The characteristics inside `service`'s handle range, in handle order.
    func characteristics(in service: InteropGATTService) -> [InteropGATTCharacteristic] {
        characteristics.filter { $0.handle > service.start && $0.handle <= service.end }
    }

    /// The descriptors of `characteristic`: the attributes in (value handle, end].
    func descriptors(of characteristic: InteropGATTCharacteristic) -> [InteropGATTDescriptor] {
        descriptors.filter { $0.handle > characteristic.valueHandle && $0.handle <= characteristic.end }
    }

    /// The CCCD (0x2902) of `characteristic`, if it has one.
    func cccd(of characteristic: InteropGATTCharacteristic) -> UInt16? {
        descriptors(of: characteristic).first { $0.uuid == BluetoothUUID(0x2902) }?.handle
    }

    var description: String {
        var out: [String] = []
        for s in services {
            out.append(s.description)
            for c in characteristics(in: s) {
                out.append("  " + c.description)
                for d in descriptors(of: c) { out.append("    " + d.description) }
            }
        }
        return "[" + out.joined(separator: "; ") + "]"
    }
}

/// `0x0010`
func interopHandle(_ handle: UInt16) -> String {
    let hex = String(handle, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
}

/// A `0x0010` field of a line.
func interopHandleField(_ key: String, of line: String) throws -> UInt16 {
    let text = try interopField(key, of: line)
    guard text.hasPrefix("0x"), let value = UInt16(text.dropFirst(2), radix: 16) else {
        throw InteropError("bad handle '\(text)' for '\(key)' in line: \(line)")
    }
    return value
}

/// A UUID field of a line (`2A00`, `12345678` or the dashed 128-bit form).
func interopUUIDField(_ key: String, of line: String) throws -> BluetoothUUID {
    let text = try interopField(key, of: line)
    do {
        return try BluetoothUUID(text)
    } catch {
        throw InteropError("bad UUID '\(text)' for '\(key)' in line: \(line)")
    }
}

/// The u32 little-endian sequence number at the start of a STREAM payload.
func interopSequenceNumber(_ data: [UInt8]) -> UInt32? {
    guard data.count >= 4 else { return nil }
    return UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24
}
