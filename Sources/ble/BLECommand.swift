import ArgumentParser
import Bluetooth
import Foundation

@main
struct BLECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ble",
        abstract: "A Bluetooth LE host stack for Swift: scan, advertise, and a demo on the virtual radio.",
        discussion: """
            Transports: virtual, virtual:NAME, tcp:HOST:PORT, serial:PATH[,BAUD], hci:N.
            Set BLE_SNOOP=path to write a btsnoop capture of every HCI packet (Wireshark reads it).
            """,
        subcommands: [Demo.self, Scan.self, Advertise.self, Gatt.self],
        defaultSubcommand: Demo.self)
}

struct TransportOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The controller: virtual, virtual:NAME, tcp:HOST:PORT, serial:PATH[,BAUD], hci:N.")
    var transport: String = ProcessInfo.processInfo.environment["BLE_TRANSPORT"] ?? "virtual"

    @Flag(help: "Use a static random address instead of the controller's public address (Bumble's stock virtual controllers route LE data by random address only).")
    var randomAddress = false

    /// A device on the chosen transport, configured by these options.
    func makeDevice() throws -> BLE {
        let ble = try BLE(transport: transport)
        if randomAddress { try ble.config(addrMode: .random) }
        return ble
    }
}

/// Collects events from an `irq` handler for a command-line flow.
final class EventBox: @unchecked Sendable {
    // Safe: `events` is only touched under `condition`.
    private let condition = NSCondition()
    private var events: [BLE.Event] = []

    func push(_ e: BLE.Event) {
        condition.lock()
        events.append(e)
        condition.broadcast()
        condition.unlock()
    }

    /// Removes and returns the first event matching `match`, waiting up to `timeout` seconds
    /// (nil: as long as it takes).
    func next(timeout: Double?, where match: (BLE.Event) -> Bool) -> BLE.Event? {
        let deadline = timeout.map { Date(timeIntervalSinceNow: $0) }
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let i = events.firstIndex(where: match) { return events.remove(at: i) }
            if let deadline {
                if !condition.wait(until: deadline) { return nil }
            } else {
                condition.wait()
            }
        }
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

func describe(_ type: AdvType) -> String {
    switch type {
    case .advInd: return "ADV_IND"
    case .advDirectInd: return "ADV_DIRECT_IND"
    case .advScanInd: return "ADV_SCAN_IND"
    case .advNonconnInd: return "ADV_NONCONN_IND"
    case .scanRsp: return "SCAN_RSP"
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
}

/// Checks of numeric options, for `validate()`: they run before a controller is opened, and the
/// `ValidationError` they throw ends the tool with status 64 and its usage. Every value converted
/// to an `Int` later must pass one of these first (a non-finite or huge `Double` traps in `Int(_:)`).
enum OptionCheck {
    /// `value` is finite and in `range`, or a message naming `option`, the range and the value.
    static func check(_ value: Double, _ option: String, _ unit: String, in range: ClosedRange<Double>,
                      note: String = "") throws {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(option) must be a finite number of \(unit) in "
                                  + "\(show(range.lowerBound))...\(show(range.upperBound))\(note), got \(show(value))")
        }
    }

    /// A number as a person wrote it: `-1`, `2.5`, `nan`, `inf`, `1e+300`.
    static func show(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// Seconds or milliseconds (already checked) as whole milliseconds or microseconds.
    static func scaled(_ value: Double, by factor: Double) -> Int {
        let x = (value * factor).rounded()
        guard x.isFinite else { return 0 }
        return Int(max(-1e15, min(1e15, x)))
    }
}
