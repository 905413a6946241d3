import ArgumentParser
import Bluetooth
import Foundation

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Scan for advertising devices and print what they send.")

    @OptionGroup var transport: TransportOption
    @Option(help: "How long to scan, in seconds.") var duration: Double = 5
    @Flag(help: "Active scan: also ask for scan responses.") var active = false
    @Flag(help: "Print every report, not only the first one of each device.") var all = false
    @Option(help: "Scan interval in ms.") var intervalMs: Double = 100
    @Option(help: "Scan window in ms.") var windowMs: Double = 100

    func run() throws {
        let ble = try transport.makeDevice()
        let box = EventBox()
        let seen = SeenSet()
        let printAll = all
        ble.irq { event in
            switch event {
            case let .scanResult(addrType, addr, advType, rssi, advData):
                if printAll || seen.insert("\(addr)/\(advType.rawValue)") {
                    let ad = AdvertisingData(parsing: advData)
                    let name = ad.name.map { " name=\"\($0)\"" } ?? ""
                    print("\(addr) (\(addrType)) \(describe(advType)) rssi=\(rssi)\(name) data=\(hexString(advData))")
                }
            case .scanDone:
                box.push(event)
            default:
                break
            }
            return nil
        }
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        let (_, mac) = try ble.config(.mac)
        print("scanning for \(duration) s on \(transport.transport) as \(mac)\(active ? " (active)" : "")")
        try ble.gapScan(Int(duration * 1000), Int(intervalMs * 1000), Int(windowMs * 1000), active)
        guard box.next(timeout: duration + 10, where: { $0 == .scanDone }) != nil else {
            throw CLIError(description: "the scan did not end")
        }
        print("scan done: \(seen.count) device report type(s)")
    }
}

final class SeenSet: @unchecked Sendable {
    // Safe: `set` is only touched under `lock`.
    private let lock = NSLock()
    private var set: Set<String> = []
    func insert(_ s: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return set.insert(s).inserted
    }
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return set.count
    }
}
