import Foundation
import Testing
@testable import Bluetooth

// Support for the ports of MicroPython's tests/multi_bluetooth GATT tests (ScenarioGATT*.swift).
//
// A MicroPython multi-test runs one script per board ("instance0", "instance1"); each prints lines,
// some from its irq handler and some from its main flow, and the run passes when each instance's
// output equals its part of the .exp file. Here every instance is a `GATTScenarioInstance` on a private
// virtual radio, and one test thread drives all of them in an order the scripts' synchronisation allows.
//
// The handler runs on the device's own thread exactly like MicroPython's irq: it may call `BLE`
// methods and it composes the event's printed lines at the moment the event is raised (so
// `gattsRead` inside it sees the value as it was then). The lines are appended to the instance's
// output when the test thread consumes the event with one of the `wait` calls, in event order; a
// main-flow `print` goes straight to the output. This keeps each output deterministic (a line the
// main flow prints right after a call can never race with an event line), and an unexpected event
// still shows up: its lines are printed at the next wait that passes over it, or by `lines` at the end.

/// The codes of the `_IRQ_...` events (API.md, Events).
enum GATTIRQ {
    static let centralConnect = 1
    static let centralDisconnect = 2
    static let gattsWrite = 3
    static let gattsReadRequest = 4
    static let peripheralConnect = 7
    static let peripheralDisconnect = 8
    static let gattcServiceResult = 9
    static let gattcServiceDone = 10
    static let gattcCharacteristicResult = 11
    static let gattcCharacteristicDone = 12
    static let gattcDescriptorResult = 13
    static let gattcDescriptorDone = 14
    static let gattcReadResult = 15
    static let gattcReadDone = 16
    static let gattcWriteDone = 17
    static let gattcNotify = 18
    static let gattcIndicate = 19
    static let gattsIndicateDone = 20
    static let mtuExchanged = 21
    static let getSecret = 29
    static let setSecret = 30

    static let names: [Int: String] = [
        1: "_IRQ_CENTRAL_CONNECT", 2: "_IRQ_CENTRAL_DISCONNECT", 3: "_IRQ_GATTS_WRITE", 4: "_IRQ_GATTS_READ_REQUEST",
        7: "_IRQ_PERIPHERAL_CONNECT", 8: "_IRQ_PERIPHERAL_DISCONNECT", 9: "_IRQ_GATTC_SERVICE_RESULT",
        10: "_IRQ_GATTC_SERVICE_DONE", 11: "_IRQ_GATTC_CHARACTERISTIC_RESULT", 12: "_IRQ_GATTC_CHARACTERISTIC_DONE",
        13: "_IRQ_GATTC_DESCRIPTOR_RESULT", 14: "_IRQ_GATTC_DESCRIPTOR_DONE", 15: "_IRQ_GATTC_READ_RESULT",
        16: "_IRQ_GATTC_READ_DONE", 17: "_IRQ_GATTC_WRITE_DONE", 18: "_IRQ_GATTC_NOTIFY", 19: "_IRQ_GATTC_INDICATE",
        20: "_IRQ_GATTS_INDICATE_DONE", 21: "_IRQ_MTU_EXCHANGED",
    ]

    static func name(_ code: Int) -> String { names[code] ?? "event \(code)" }
}

/// What the irq handler of a `GATTScenarioInstance` gets besides the event: the device (to call
/// any `BLE` method, as MicroPython's handlers do) and `print` for this event's output lines.
final class GATTScenarioIRQ {
    let ble: BLE
    private(set) var lines: [String] = []

    init(ble: BLE) { self.ble = ble }

    func print(_ line: String) { lines.append(line) }

    /// Runs a `BLE` call made from inside the handler. A handler cannot throw, so a failure is
    /// printed (as a Python traceback would be) and the output comparison reports it.
    func call(_ what: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch {
            lines.append("\(what) raised \(error)")
        }
    }

    /// Python's `assert` inside the handler: a failure becomes a printed line.
    func check(_ condition: Bool, _ what: String) {
        if !condition { lines.append("AssertionError: \(what)") }
    }
}

/// A wait that ran out of time, with what the instance had printed so far.
struct GATTScenarioTimeout: Error, CustomStringConvertible {
    let description: String
}

/// One test instance: a `BLE` device, its irq handler, and the lines it "prints". Its events are
/// recorded by an `EventRecorder`; the lines the handler composes for the i-th event are kept at
/// index i (the device raises one event at a time, and the recorder records each one right after
/// the handler has run).
final class GATTScenarioInstance: @unchecked Sendable {
    typealias Handler = @Sendable (GATTScenarioIRQ, BLE.Event) -> BLE.IRQResult?

    let label: String
    let ble: BLE
    private let recorder: EventRecorder
    /// The lines of each event, in event order (appended by the handler).
    private let eventLines = Locked<[[String]]>([])
    // Safe: `consumed` and `printed` are only touched under `lock`.
    private let lock = NSLock()
    private var consumed = 0
    private var printed: [String] = []

    /// A device on `transport` (not yet active) with `handler` as its irq handler.
    init(_ label: String, transport: String, irq handler: Handler? = nil) throws {
        self.label = label
        let ble = try BLE(transport: transport)
        self.ble = ble
        let eventLines = self.eventLines
        // `ble` is captured weakly: the handler is stored in the device itself.
        recorder = EventRecorder(ble) { [weak ble] event in
            var lines: [String] = []
            var result: BLE.IRQResult?
            if let ble {
                let irq = GATTScenarioIRQ(ble: ble)
                result = handler?(irq, event)
                lines = irq.lines
            }
            eventLines.value.append(lines)  // only this device's thread writes it
            return result
        }
    }

    func activate() throws {
        try ble.active(true)
    }

    /// `ble.active(0)`, for the `defer` that ends every test.
    func deactivate() {
        _ = try? ble.active(false)
    }

    /// A line printed by the instance's main flow.
    func print(_ line: String) {
        lock.lock()
        printed.append(line)
        lock.unlock()
    }

    /// Takes the next recorded event (waiting until `deadline`) and prints its lines.
    private func consumeNext(until deadline: Date) -> BLE.Event? {
        guard let event = recorder.next(timeout: max(0, deadline.timeIntervalSinceNow), where: { _ in true }) else {
            return nil
        }
        let all = eventLines.value
        lock.lock()
        defer { lock.unlock() }
        if consumed < all.count { printed += all[consumed] }
        consumed += 1
        return event
    }

    /// MicroPython's `wait_for_event`: consumes events in order (printing their lines) until
    /// `extract` returns a value for one, and returns that value.
    func waitFor<T>(_ what: String, timeout: Double = 5, _ extract: (BLE.Event) -> T?) throws -> T {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while let event = consumeNext(until: deadline) {
            if let value = extract(event) { return value }
        }
        throw GATTScenarioTimeout(description: "\(label): no \(what) within \(timeout) s; printed so far: \(lines)")
    }

    /// Waits for the next event that matches `match`.
    @discardableResult
    func wait(_ what: String, timeout: Double = 5, where match: (BLE.Event) -> Bool) throws -> BLE.Event {
        try waitFor(what, timeout: timeout) { match($0) ? $0 : nil }
    }

    /// Waits for the next event with this `_IRQ_` code.
    @discardableResult
    func wait(code: Int, timeout: Double = 5) throws -> BLE.Event {
        try wait(GATTIRQ.name(code), timeout: timeout) { $0.code == code }
    }

    /// Consumes events until `done` holds over the events consumed by this call; returns them.
    @discardableResult
    func waitUntil(_ what: String, timeout: Double = 5, _ done: ([BLE.Event]) -> Bool) throws -> [BLE.Event] {
        var seen: [BLE.Event] = []
        if done(seen) { return seen }
        return try waitFor(what, timeout: timeout) { event -> [BLE.Event]? in
            seen.append(event)
            return done(seen) ? seen : nil
        }
    }

    /// Waits for `_IRQ_CENTRAL_CONNECT` or `_IRQ_PERIPHERAL_CONNECT` and returns its connection handle.
    func waitConnect(_ code: Int, timeout: Double = 5) throws -> UInt16 {
        try waitFor(GATTIRQ.name(code), timeout: timeout) { event -> UInt16? in
            switch event {
            case let .centralConnect(connHandle, _, _) where code == GATTIRQ.centralConnect: return connHandle
            case let .peripheralConnect(connHandle, _, _) where code == GATTIRQ.peripheralConnect: return connHandle
            default: return nil
            }
        }
    }

    /// Everything printed: the events that have arrived so far are consumed first, so an event
    /// no wait asked for still appears (and fails the comparison if the .exp has no such line).
    var lines: [String] {
        while consumeNext(until: .distantPast) != nil {}
        lock.lock()
        defer { lock.unlock() }
        return printed
    }

    /// Every event raised so far, consumed or not.
    var events: [BLE.Event] { recorder.all }
}

/// Python's `repr(bytes)`, so a line can match the .exp text verbatim: `b'\x02\x01MPY'`.
func pyBytes(_ bytes: [UInt8]) -> String {
    let singleQuote = UInt8(ascii: "'"), doubleQuote = UInt8(ascii: "\"")
    let quote = bytes.contains(singleQuote) && !bytes.contains(doubleQuote) ? doubleQuote : singleQuote
    let hex = Array("0123456789abcdef".unicodeScalars)
    var s = "b" + String(UnicodeScalar(quote))
    for byte in bytes {
        switch byte {
        case quote, UInt8(ascii: "\\"):
            s += "\\" + String(UnicodeScalar(byte))
        case UInt8(ascii: "\t"): s += "\\t"
        case UInt8(ascii: "\n"): s += "\\n"
        case UInt8(ascii: "\r"): s += "\\r"
        case 0x20..<0x7F: s.unicodeScalars.append(UnicodeScalar(byte))
        default:
            s += "\\x"
            s.unicodeScalars.append(hex[Int(byte >> 4)])
            s.unicodeScalars.append(hex[Int(byte & 0x0F)])
        }
    }
    s.unicodeScalars.append(UnicodeScalar(quote))
    return s
}

/// Python's `str(bool)`: `True` / `False` (as in `print("gap_disconnect:", ble.gap_disconnect(h))`).
func pyBool(_ value: Bool) -> String { value ? "True" : "False" }

/// Python's `chr(byte)` for the one-character prints of the MTU tests.
func pyChr(_ byte: UInt8?) -> String {
    guard let byte else { return "<no data>" }
    return String(Character(UnicodeScalar(byte)))
}

/// The lines of one instance's part of an .exp file, written as a multi-line literal.
func expLines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
}

/// The helpers themselves (these pass without GATT).
@Suite("Scenario: GATT support")
struct ScenarioGATTSupportTests {
    @Test func pyBytesIsPythonsRepr() {
        #expect(pyBytes([0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8)) == #"b'\x02\x01\x06\x04\xffMPY'"#)
        #expect(pyBytes([]) == "b''")
        #expect(pyBytes(Array("central0".utf8)) == "b'central0'")
        #expect(pyBytes(Array("it's".utf8)) == #"b"it's""#)
        #expect(pyBytes(Array("'\"".utf8)) == #"b'\'"'"#)
        #expect(pyBytes([0x5C, 0x09, 0x0A, 0x0D, 0x00, 0x7F, 0x80]) == #"b'\\\t\n\r\x00\x7f\x80'"#)
        #expect(pyBool(true) == "True" && pyBool(false) == "False")
        #expect(pyChr(UInt8(ascii: "a")) == "a")
        #expect(expLines("a\nb") == ["a", "b"])
    }

    /// The instance harness on GAP alone (MicroPython's ble_gap_connect, first half, with its .exp
    /// lines verbatim): handler lines appear when a wait consumes their event, main-flow lines in
    /// place, and `lines` flushes what no wait asked for.
    @Test func harnessOnGAPConnect() throws {
        let handler: GATTScenarioInstance.Handler = { irq, event in
            switch event {
            case .centralConnect: irq.print("_IRQ_CENTRAL_CONNECT")
            case .centralDisconnect: irq.print("_IRQ_CENTRAL_DISCONNECT")
            case .peripheralConnect: irq.print("_IRQ_PERIPHERAL_CONNECT")
            case .peripheralDisconnect: irq.print("_IRQ_PERIPHERAL_DISCONNECT")
            default: break
            }
            return nil
        }
        let radio = uniqueRadio()
        let instance0 = try GATTScenarioInstance("instance0", transport: radio, irq: handler)
        let instance1 = try GATTScenarioInstance("instance1", transport: radio, irq: handler)
        defer {
            instance0.deactivate()
            instance1.deactivate()
        }
        try instance0.activate()
        try instance1.activate()
        let bdaddr = try instance0.ble.config(.mac)
        instance0.print("gap_advertise")
        try instance0.ble.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06, 0x04, 0xFF] + Array("MPY".utf8))
        instance1.print("gap_connect")
        try instance1.ble.gapConnect(bdaddr.0, bdaddr.1)
        let conn1 = try instance1.waitConnect(GATTIRQ.peripheralConnect)
        instance1.print("gap_disconnect: \(pyBool(try instance1.ble.gapDisconnect(conn1)))")
        try instance1.wait(code: GATTIRQ.peripheralDisconnect)
        // instance0 waits for both of its events at once.
        let both = try instance0.waitUntil("connect and disconnect") { events in
            events.contains { $0.code == GATTIRQ.centralDisconnect }
        }
        #expect(both.map(\.code).filter { $0 <= GATTIRQ.centralDisconnect }
            == [GATTIRQ.centralConnect, GATTIRQ.centralDisconnect])
        #expect(throws: GATTScenarioTimeout.self) { try instance1.wait(code: GATTIRQ.gattcNotify, timeout: 0.05) }
        #expect(instance0.lines == ["gap_advertise", "_IRQ_CENTRAL_CONNECT", "_IRQ_CENTRAL_DISCONNECT"])
        #expect(instance1.lines == ["gap_connect", "_IRQ_PERIPHERAL_CONNECT", "gap_disconnect: True",
                                    "_IRQ_PERIPHERAL_DISCONNECT"])
    }
}
