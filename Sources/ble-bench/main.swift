// ble-bench: performance figures of the host stack on the virtual radio. Run in release:
//   swift run -c release ble-bench [--quick] [--no-bumble] [--gatt-only] [--notify-only]
import Bluetooth
import BluetoothSimulator
import Foundation
import MallocInterposerSwift

#if canImport(Glibc)
import Glibc
#endif

let quick = CommandLine.arguments.contains("--quick")

/// Allocations are counted by malloc-interposer, which must be preloaded: the benchmark starts
/// itself again with LD_PRELOAD set to the library built next to it (once; without it, the
/// allocation figures say "n/a").
func preloadAllocationCounter() {
    guard ProcessInfo.processInfo.environment["BLE_BENCH_PRELOADED"] == nil else { return }
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let library = exe.deletingLastPathComponent().appendingPathComponent("libMallocInterposerSwift.so").path
    guard FileManager.default.fileExists(atPath: library) else { return }
    setenv("BLE_BENCH_PRELOADED", "1", 1)
    let preload = ProcessInfo.processInfo.environment["LD_PRELOAD"].map { "\(library):\($0)" } ?? library
    setenv("LD_PRELOAD", preload, 1)
    var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) } + [nil]
    execv(exe.path, &argv)
    // execv returned: run without counting.
}
preloadAllocationCounter()
let countingAllocations = ProcessInfo.processInfo.environment["BLE_BENCH_PRELOADED"] != nil
if countingAllocations { MallocInterposerSwift.initialize() }

/// Allocations (malloc calls, every thread) made while `body` runs, when they can be counted.
func countAllocations(_ body: () throws -> Void) rethrows -> Int? {
    guard countingAllocations else {
        try body()
        return nil
    }
    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    defer { MallocInterposerSwift.unhook() }
    try body()
    return MallocInterposerSwift.getStatistics().mallocCount
}

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

/// Two connected devices on a private radio; the central has exchanged the MTU.
func connectedPair(mtu: Int, aclLength: UInt16 = 251) throws -> (server: BLE, client: BLE, sconn: UInt16, cconn: UInt16,
                                                                 events: EventQueue, serverEvents: EventQueue) {
    let radio = VirtualRadio()
    let config = VirtualController.Configuration(aclDataPacketLength: aclLength, totalNumACLDataPackets: 64)
    let server = BLE(controller: VirtualController(radio: radio, configuration: config))
    let client = BLE(controller: VirtualController(radio: radio, configuration: config))
    let events = EventQueue(), serverEvents = EventQueue()
    try server.active(true)
    try client.active(true)
    try server.config(mtu: mtu)
    try client.config(mtu: mtu)
    server.irq { e in
        serverEvents.push(e)
        return nil
    }
    client.irq { e in
        events.push(e)
        return nil
    }
    let (t, a) = try server.config(.mac)
    try server.gapAdvertise(20_000)
    try client.gapConnect(t, a)
    guard case let .peripheralConnect(cconn, _, _)? = events.next(timeout: 5, where: { $0.code == 7 }),
          case let .centralConnect(sconn, _, _)? = serverEvents.next(timeout: 5, where: { $0.code == 1 }) else {
        throw BenchError.failed("no connection")
    }
    try client.gattcExchangeMtu(cconn)
    _ = events.next(timeout: 5, where: { $0.code == 21 })
    return (server, client, sconn, cconn, events, serverEvents)
}

enum BenchError: Error { case failed(String) }

/// Notifications (server -> client) or writes without response (client -> server) of `payload`
/// bytes at `mtu`, as fast as the API accepts them; timed until the last one arrives.
@discardableResult
func gattThroughput(notify: Bool, mtu: Int, payload: Int, count: Int, aclLength: UInt16 = 251) throws -> Double {
    let received = Counter()
    let pair = try connectedPair(mtu: mtu, aclLength: aclLength)
    let handles = try pair.server.gattsRegisterServices([
        BLE.Service(0xBE00, [BLE.Characteristic(0xBE01, [.read, .notify, .writeNoResponse])]),
    ])
    let h = handles[0][0]
    try pair.server.gattsSetBuffer(h, payload)
    // A sender that outruns the link gets .noMemory and waits for l2capSendReady on the ATT
    // channel (CID 4) before going on, as an application does.
    let room = DispatchSemaphore(value: 0)
    var stalls = 0
    let onRoom: @Sendable (BLE.Event) -> Void = { e in
        if case .l2capSendReady(_, 0x0004, _) = e { room.signal() }
    }
    if notify {
        pair.client.irq { e in
            if case .gattcNotify = e { received.add() }
            return nil
        }
        pair.server.irq { e in
            onRoom(e)
            return nil
        }
    } else {
        pair.server.irq { e in
            if case .gattsWrite = e { received.add() }
            return nil
        }
        pair.client.irq { e in
            onRoom(e)
            return nil
        }
    }
    let data = [UInt8](repeating: 0x5A, count: payload)
    let t0 = Date(), cpu0 = cpuSeconds()
    var sent = 0
    var ok = false
    let allocations = try countAllocations {
        while sent < count {
            do {
                if notify {
                    try pair.server.gattsNotify(pair.sconn, h, data)
                } else {
                    try pair.client.gattcWrite(pair.cconn, h, data, .noResponse)
                }
                sent += 1
            } catch BLEError.noMemory {
                stalls += 1
                guard room.wait(timeout: .now() + 5) == .success else { throw BenchError.failed("no room after .noMemory") }
            }
        }
        ok = received.wait(atLeast: count, timeout: 60)
    }
    let wall = Date().timeIntervalSince(t0), cpu = cpuSeconds() - cpu0
    let rate = Double(received.count) / wall
    let perMessage = allocations.map { String(format: "%.1f", Double($0) / Double(max(received.count, 1))) } ?? "n/a"
    print(String(format: "%@ mtu=%d payload=%d acl=%d: %.0f msgs/s, %.0f kB/s (%d/%d in %.2f s, %.1f µs CPU and %@ allocations each, both ends; %d waits for room)%@",
                 notify ? "notify" : "write-without-response", mtu, payload, Int(aclLength), rate, rate * Double(payload) / 1000,
                 received.count, count, wall, cpu / Double(max(received.count, 1)) * 1e6, perMessage, stalls, ok ? "" : " INCOMPLETE"))
    _ = try? pair.client.active(false)
    _ = try? pair.server.active(false)
    return rate
}

/// A full discovery (services, characteristics, descriptors) of a 10-service database.
@discardableResult
func discovery() throws -> Double {
    let pair = try connectedPair(mtu: 23, aclLength: 27)
    var services: [BLE.Service] = []
    for i in 0..<10 {
        let base = UInt16(0xD000 + i * 16)
        // 128-bit UUIDs, as Benchmarks/bumble_gatt_bench.py uses.
        func uuid(_ v: UInt16) -> BluetoothUUID { BluetoothUUID(high: 0x3C5B_0000_6E0A_4B5E | UInt64(v) << 32, low: 0x9C2D_2F1A_7D3E_8B10) }
        services.append(BLE.Service(uuid(base), [
            BLE.Characteristic(uuid(base + 1), [.read]),
            BLE.Characteristic(uuid(base + 2), [.write, .writeNoResponse]),
            BLE.Characteristic(uuid(base + 3), [.notify]),
        ]))
    }
    _ = try pair.server.gattsRegisterServices(services)
    let c = pair.client, conn = pair.cconn, ev = pair.events
    var runs: [Double] = []
    var found = (0, 0, 0)
    for _ in 0..<20 {
        let t0 = Date()
        try c.gattcDiscoverServices(conn)
        var svcs: [(UInt16, UInt16)] = []
        while case let .gattcServiceResult(_, s, e, _)? = ev.next(timeout: 5, where: { $0.code == 9 || $0.code == 10 }) {
            svcs.append((s, e))
        }
        var chars = 0, descs = 0
        for (s, e) in svcs {
            try c.gattcDiscoverCharacteristics(conn, s, e)
            var list: [(UInt16, UInt16)] = []
            while case let .gattcCharacteristicResult(_, end, v, _, _)? = ev.next(timeout: 5, where: { $0.code == 11 || $0.code == 12 }) {
                list.append((v, end))
            }
            chars += list.count
            for (v, end) in list where end > v {
                try c.gattcDiscoverDescriptors(conn, v, end)
                while case .gattcDescriptorResult? = ev.next(timeout: 5, where: { $0.code == 13 || $0.code == 14 }) { descs += 1 }
            }
        }
        runs.append(Date().timeIntervalSince(t0) * 1000)
        found = (svcs.count, chars, descs)
    }
    runs.sort()
    print(String(format: "discovery of 10 services: %.2f ms median (%d services, %d characteristics, %d descriptors, MTU 23, 128-bit UUIDs)",
                 runs[runs.count / 2], found.0, found.1, found.2))
    _ = try? pair.client.active(false)
    _ = try? pair.server.active(false)
    return runs[runs.count / 2]
}

/// Runs Benchmarks/bumble_gatt_bench.py (two Bumble devices on Bumble's in-process virtual link)
/// and returns its figures: key ("notify mtu=23") -> msgs/s, or median ms for discovery.
func bumbleFigures() -> [String: Double]? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let python = root.appendingPathComponent(".venv-interop/bin/python").path
    let script = root.appendingPathComponent("Benchmarks/bumble_gatt_bench.py").path
    guard FileManager.default.isExecutableFile(atPath: python), FileManager.default.fileExists(atPath: script) else {
        print("(Bumble figures: run scripts/setup-bumble.sh first)")
        return nil
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: python)
    p.arguments = [script, "--count", quick ? "2000" : "5000", "--runs", quick ? "1" : "3"]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    var out: [String: Double] = [:]
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("BUMBLE ") {
        let words = line.split(separator: " ")
        guard words.count > 2 else { continue }
        let fields = Dictionary(words.compactMap { w -> (String, String)? in
            let kv = w.split(separator: "=", maxSplits: 1)
            return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
        }, uniquingKeysWith: { a, _ in a })
        let key = "\(words[1]) \(words[2])"
        if let v = fields["msgs_per_s"].flatMap(Double.init) ?? fields["median_ms"].flatMap(Double.init) { out[key] = v }
    }
    return out
}

/// Events from a handler, consumed in order by the benchmark thread.
final class EventQueue: @unchecked Sendable {
    // Safe: guarded by `condition`.
    private let condition = NSCondition()
    private var events: [BLE.Event] = []
    func push(_ e: BLE.Event) {
        condition.lock()
        events.append(e)
        condition.broadcast()
        condition.unlock()
    }
    func next(timeout: Double, where match: (BLE.Event) -> Bool) -> BLE.Event? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let i = events.firstIndex(where: match) {
                let e = events[i]
                events.removeSubrange(0...i)
                return e
            }
            if !condition.wait(until: deadline) { return nil }
        }
    }
}

header()
do {
    let secs = quick ? 1.0 : 3.0
    if let i = CommandLine.arguments.firstIndex(of: "--one"), CommandLine.arguments.count > i + 3,
       let mtu = Int(CommandLine.arguments[i + 2]), let acl = UInt16(CommandLine.arguments[i + 3]) {
        // For profiling: `--one notify|write MTU ACL_LENGTH`, one GATT workload alone.
        let notify = CommandLine.arguments[i + 1] == "notify"
        try gattThroughput(notify: notify, mtu: mtu, payload: mtu - 3, count: quick ? 5_000 : 50_000, aclLength: acl)
        exit(0)
    }
    if CommandLine.arguments.contains("--notify-only") {
        // For profiling (valgrind --tool=callgrind): one GATT workload alone.
        try gattThroughput(notify: true, mtu: 23, payload: 20, count: quick ? 5_000 : 50_000, aclLength: 27)
        exit(0)
    }
    if !CommandLine.arguments.contains("--gatt-only") {
        try connectCycles(pairs: 1, seconds: secs)
        try connectCycles(pairs: quick ? 10 : 50, seconds: secs)
        try advertisingReports(advertisers: quick ? 100 : 1000, intervalMs: 100, seconds: secs)
        try advertisingReports(advertisers: quick ? 20 : 100, intervalMs: 20, seconds: secs)
        try advertisingReports(advertisers: quick ? 200 : 1000, intervalMs: 20, seconds: secs)
    }
    let n = quick ? 5_000 : 50_000
    // Bumble's stock controller has 27-byte ACL buffers: the same workload for the comparison.
    // (Our virtual controller's default is 251 bytes, as most current chips; shown too.)
    try gattThroughput(notify: true, mtu: 247, payload: 244, count: n, aclLength: 251)
    try gattThroughput(notify: false, mtu: 247, payload: 244, count: n, aclLength: 251)
    let ours: [(String, Double)] = [
        ("notify mtu=23", try gattThroughput(notify: true, mtu: 23, payload: 20, count: n, aclLength: 27)),
        ("notify mtu=247", try gattThroughput(notify: true, mtu: 247, payload: 244, count: n, aclLength: 27)),
        ("write_cmd mtu=23", try gattThroughput(notify: false, mtu: 23, payload: 20, count: n, aclLength: 27)),
        ("write_cmd mtu=247", try gattThroughput(notify: false, mtu: 247, payload: 244, count: n, aclLength: 27)),
        ("discovery mtu=23", try discovery()),
    ]
    if !CommandLine.arguments.contains("--no-bumble"), let bumble = bumbleFigures() {
        print("beside Bumble 0.0.236 (two devices on Bumble's in-process virtual link, same machine, same run; both with 27-byte ACL buffers):")
        for (key, mine) in ours {
            guard let theirs = bumble[key] else { continue }
            if key.hasPrefix("discovery") {
                print(String(format: "  %-18@ ours %9.2f ms   Bumble %9.2f ms   %.0fx faster", key as NSString, mine, theirs, theirs / mine))
            } else {
                print(String(format: "  %-18@ ours %9.0f/s    Bumble %9.0f/s    %.0fx", key as NSString, mine, theirs, mine / theirs))
            }
        }
    }
} catch {
    print("benchmark failed: \(error)")
    exit(1)
}
