import ArgumentParser
import Bluetooth
import Foundation

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Scan for advertising devices and print what they send.")

    @OptionGroup var transport: TransportOption
    @Option(parsing: .unconditional, help: "How long to scan, in seconds (0: until interrupted).") var duration: Double = 5
    @Flag(help: "Active scan: also ask for scan responses.") var active = false
    @Flag(help: "Print every report, not only the first one of each device.") var all = false
    @Option(parsing: .unconditional, help: "Scan interval in ms (2.5...10240).") var intervalMs: Double = 100
    @Option(parsing: .unconditional, help: "Scan window in ms (2.5...10240, at most the interval).") var windowMs: Double = 100

    func validate() throws {
        try OptionCheck.check(duration, "--duration", "seconds", in: 0...86_400, note: " (0: until interrupted)")
        try OptionCheck.check(intervalMs, "--interval-ms", "milliseconds", in: 2.5...10_240)
        try OptionCheck.check(windowMs, "--window-ms", "milliseconds", in: 2.5...10_240)
        guard windowMs <= intervalMs else {
            throw ValidationError("--window-ms (\(OptionCheck.show(windowMs))) must not be longer than "
                                  + "--interval-ms (\(OptionCheck.show(intervalMs)))")
        }
    }

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
        // --duration 0 scans until interrupted (gap_scan(0)): Ctrl-C stops the scan, which ends as a timed one does.
        let untilInterrupted = duration == 0
        let interrupt = untilInterrupted ? stopScan(ble, onSignal: SIGINT) : nil
        defer { interrupt?.cancel() }
        print("scanning \(untilInterrupted ? "until interrupted" : "for \(duration) s") on \(transport.transport) as \(mac)"
              + "\(active ? " (active)" : "")")
        fflush(nil)  // the line reaches a pipe before the scan, which may last
        try ble.gapScan(OptionCheck.scaled(duration, by: 1000), OptionCheck.scaled(intervalMs, by: 1000),
                        OptionCheck.scaled(windowMs, by: 1000), active)
        guard box.next(timeout: untilInterrupted ? nil : duration + 10, where: { $0 == .scanDone }) != nil else {
            throw CLIError(description: "the scan did not end")
        }
        // A scan also ends when the controller goes away (unplugged, killed, sending garbage): then
        // the radio is off and sessionFailure says why.
        if let failure = ble.sessionFailure {
            throw CLIError(description: "the scan ended early (\(seen.count) device report type(s) so far): \(failure)")
        }
        print("scan done: \(seen.count) device report type(s)")
    }
}

/// On `signal`, stops the scan of `ble` (its scanDone then ends the command); a second signal
/// does what it does by default.
private func stopScan(_ ble: BLE, onSignal signo: Int32) -> DispatchSourceSignal {
    signal(signo, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
    source.setEventHandler { [ble] in
        signal(signo, SIG_DFL)
        _ = try? ble.gapScan(nil)
    }
    source.resume()
    return source
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
