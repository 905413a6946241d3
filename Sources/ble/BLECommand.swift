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

    /// Removes and returns the first event matching `match`, waiting up to `timeout` seconds.
    func next(timeout: Double, where match: (BLE.Event) -> Bool) -> BLE.Event? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let i = events.firstIndex(where: match) { return events.remove(at: i) }
            if !condition.wait(until: deadline) { return nil }
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
