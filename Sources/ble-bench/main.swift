// ble-bench: performance figures of the host stack on the virtual radio. Run in release:
//   swift run -c release ble-bench [--quick]
import Bluetooth
import Foundation

#if canImport(Glibc)
import Glibc
#endif

let quick = CommandLine.arguments.contains("--quick")

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

final class Counter: @unchecked Sendable {
    // Safe: guarded by `condition`.
    private let condition = NSCondition()
    private var value = 0
    func add(_ n: Int = 1) {
        condition.lock()
        value += n
        condition.broadcast()
        condition.unlock()
    }
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return value
    }
    func wait(atLeast n: Int, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while value < n {
            if !condition.wait(until: deadline) { return value >= n }
        }
        return true
    }
}

func header() {
    print("ble-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, virtual radio, release build")
}

/// Connect/disconnect cycles between `pairs` independent central/peripheral pairs on one radio.
/// The peripheral re-advertises (20 ms) from its handler; the central reconnects from its handler.
func connectCycles(pairs: Int, seconds: Double) throws {
    let radio = "virtual:bench-connect-\(pairs)"
    let cycles = Counter()
    var devices: [BLE] = []
    let running = Flag()
    for _ in 0..<pairs {
        let p = try BLE(transport: radio), c = try BLE(transport: radio)
        try p.active(true)
        try c.active(true)
        let (pt, pa) = try p.config(.mac)
        p.irq { [p] e in
            if case .centralDisconnect = e { try? p.gapAdvertise(20_000) }
            return nil
        }
        c.irq { [c] e in
            switch e {
            case let .peripheralConnect(h, _, _):
                _ = try? c.gapDisconnect(h)
            case .peripheralDisconnect:
                cycles.add()
                if running.value { try? c.gapConnect(pt, pa) }
            default: break
            }
            return nil
        }
        try p.gapAdvertise(20_000)
        devices += [p, c]
    }
    let t0 = Date(), cpu0 = cpuSeconds()
    for i in stride(from: 1, to: devices.count, by: 2) {
        let p = devices[i - 1], c = devices[i]
        let (pt, pa) = try p.config(.mac)
        try c.gapConnect(pt, pa)
    }
    Thread.sleep(forTimeInterval: seconds)
    running.value = false
    let n = cycles.count
    let wall = Date().timeIntervalSince(t0), cpu = cpuSeconds() - cpu0
    print(String(format: "connect/disconnect: %d pair(s): %.0f cycles/s (%d in %.1f s), %.0f µs CPU per cycle (advertising every 20 ms)",
                 pairs, Double(n) / wall, n, wall, cpu / Double(max(n, 1)) * 1e6))
    Thread.sleep(forTimeInterval: 0.2)
    for d in devices { _ = try? d.active(false) }
}

/// `advertisers` devices advertising every `intervalMs` and one scanner (interval = window):
/// advertising reports handled per second by the scanner's host.
func advertisingReports(advertisers: Int, intervalMs: Int, seconds: Double) throws {
    let radio = "virtual:bench-adv-\(advertisers)"
    var devices: [BLE] = []
    for i in 0..<advertisers {
        let d = try BLE(transport: radio)
        try d.active(true)
        try d.gapAdvertise(intervalMs * 1000, advData: AdvertisingData.make(name: "adv-\(i)"), connectable: false)
        devices.append(d)
    }
    let scanner = try BLE(transport: radio)
    let reports = Counter(), done = Counter()
    let distinct = DistinctSet()
    scanner.irq { e in
        switch e {
        case let .scanResult(_, addr, _, _, _):
            reports.add()
            distinct.insert(addr)
        case .scanDone: done.add()
        default: break
        }
        return nil
    }
    try scanner.active(true)
    let t0 = Date(), cpu0 = cpuSeconds()
    try scanner.gapScan(Int(seconds * 1000), 30_000, 30_000)
    _ = done.wait(atLeast: 1, timeout: seconds + 30)
    let wall = Date().timeIntervalSince(t0), cpu = cpuSeconds() - cpu0
    let offered = Double(advertisers) * 1000 / Double(intervalMs)
    print(String(format: "advertising reports: %d advertisers @ %d ms (%.0f/s offered): %.0f reports/s handled, %d/%d advertisers heard, process CPU %.0f%% of one core",
                 advertisers, intervalMs, offered, Double(reports.count) / wall, distinct.count, advertisers,
                 cpu / wall * 100))
    _ = try? scanner.active(false)
    for d in devices { _ = try? d.active(false) }
}

final class Flag: @unchecked Sendable {
    // Safe: guarded by `lock`.
    private let lock = NSLock()
    private var v = true
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return v }
        set { lock.lock(); v = newValue; lock.unlock() }
    }
}

final class DistinctSet: @unchecked Sendable {
    // Safe: guarded by `lock`.
    private let lock = NSLock()
    private var set: Set<BluetoothAddress> = []
    func insert(_ a: BluetoothAddress) {
        lock.lock()
        set.insert(a)
        lock.unlock()
    }
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return set.count
    }
}

header()
do {
    let secs = quick ? 1.0 : 3.0
    try connectCycles(pairs: 1, seconds: secs)
    try connectCycles(pairs: quick ? 10 : 50, seconds: secs)
    try advertisingReports(advertisers: quick ? 100 : 1000, intervalMs: 100, seconds: secs)
    try advertisingReports(advertisers: quick ? 20 : 100, intervalMs: 20, seconds: secs)
    try advertisingReports(advertisers: quick ? 200 : 1000, intervalMs: 20, seconds: secs)
} catch {
    print("benchmark failed: \(error)")
    exit(1)
}
