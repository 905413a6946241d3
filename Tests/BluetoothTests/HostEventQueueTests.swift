import Foundation
import Testing
@testable import Bluetooth

/// Events are queued and delivered after the state change that caused them, one at a time: a call
/// made inside a handler raises its events after that handler returns, never inside it.
@Suite("Host: event delivery")
struct HostEventQueueTests {
    /// `gapScan(nil)` inside a `scanResult` handler: `scanDone` comes after the handler returned,
    /// and no scan result follows it.
    @Test func scanDoneFromAHandlerComesAfterTheHandlerReturns() throws {
        let radio = uniqueRadio()
        let advertiser = try BLE(transport: radio)
        let scanner = try BLE(transport: radio)
        try advertiser.active(true)
        try scanner.active(true)
        defer {
            _ = try? scanner.active(false)
            _ = try? advertiser.active(false)
        }
        try advertiser.gapAdvertise(20_000, advData: [0x02, 0x01, 0x06])
        let log = Locked<[String]>([])
        let rec = EventRecorder(scanner) { [weak scanner] event in
            switch event {
            case .scanResult:
                let first = log.withLock { entries -> Bool in
                    let isFirst = !entries.contains("stop-begin")
                    entries.append(isFirst ? "stop-begin" : "result")
                    return isFirst
                }
                if first {
                    do {
                        try scanner?.gapScan(nil)
                    } catch {
                        log.withLock { $0.append("error \(error)") }
                    }
                    log.withLock { $0.append("stop-end") }
                }
            case .scanDone:
                log.withLock { $0.append("done") }
            default:
                break
            }
            return nil
        }
        try scanner.gapScan(0, 30_000, 30_000)
        _ = try #require(rec.next(code: IRQ.scanDone, timeout: 5))
        let entries = log.value
        #expect(entries.first == "stop-begin")
        #expect(entries.dropFirst().first == "stop-end", "\(entries)")
        #expect(entries.last == "done", "\(entries)")
        #expect(entries.filter { $0 == "done" }.count == 1, "\(entries)")
    }

    /// A procedure that ends at once (descriptors of an empty range) called from a handler: its
    /// done event is delivered after the handler returns, never nested inside it.
    @Test func aProcedureThatEndsAtOnceDoesNotNestItsEvent() throws {
        let radio = uniqueRadio()
        let p = try BLE(transport: radio)
        let c = try BLE(transport: radio)
        let pr = EventRecorder(p)
        try p.active(true)
        try c.active(true)
        defer {
            _ = try? c.active(false)
            _ = try? p.active(false)
        }
        let depth = Locked(0)
        let maxDepth = Locked(0)
        let order = Locked<[String]>([])
        let cr = EventRecorder(c) { [weak c] event in
            let d = depth.withLock { $0 += 1; return $0 }
            maxDepth.withLock { $0 = max($0, d) }
            order.withLock { $0.append(event.name) }
            if case let .peripheralConnect(conn, _, _) = event {
                try? c?.gattcDiscoverDescriptors(conn, 5, 5)
                order.withLock { $0.append("returned") }
            }
            depth.withLock { $0 -= 1 }
            return nil
        }
        _ = try ScenarioLinkTests.connect(p, c, pr, cr)
        #expect(cr.next(code: 14, timeout: 5) != nil)
        #expect(maxDepth.value == 1)
        #expect(order.value == ["_IRQ_PERIPHERAL_CONNECT", "returned", "_IRQ_GATTC_DESCRIPTOR_DONE"])
    }
}
