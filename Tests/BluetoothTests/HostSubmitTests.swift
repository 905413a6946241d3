import Foundation
import Testing
@testable import Bluetooth
import BluetoothSimulator

/// `submit`, the non-blocking form of every call, and how a call made inside an `irq` handler
/// reports its failure.
@Suite("Host: non-blocking calls")
struct HostSubmitTests {
    /// A completion's result, waited for with a timeout.
    final class Outcome: @unchecked Sendable {
        // Safe: guarded by `condition`.
        private let condition = NSCondition()
        private var results: [BLEError?] = []
        func add(_ e: BLEError?) {
            condition.lock()
            results.append(e)
            condition.broadcast()
            condition.unlock()
        }
        var all: [BLEError?] {
            condition.lock()
            defer { condition.unlock() }
            return results
        }
        func wait(count: Int = 1, timeout: Double = 5) -> [BLEError?] {
            let deadline = Date(timeIntervalSinceNow: timeout)
            condition.lock()
            defer { condition.unlock() }
            while results.count < count, condition.wait(until: deadline) {}
            return results
        }
    }

    @Test func submitReturnsAtOnceAndReportsSuccess() throws {
        let ble = BLE(controller: VirtualController(radio: VirtualRadio()))
        let rec = EventRecorder(ble)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        let outcome = Outcome()
        ble.submit({ try $0.gapScan(30, 30_000, 30_000) }, completion: { outcome.add($0) })
        #expect(outcome.wait().count == 1)
        #expect(outcome.all.first == .some(nil))
        #expect(rec.next(code: IRQ.scanDone) != nil)
        // An error the body throws is the completion's.
        ble.submit({ try $0.gapConnect(.unknown, .zero) }, completion: { outcome.add($0) })
        let results = outcome.wait(count: 2)
        if case .invalidArgument? = results.last ?? nil {} else { Issue.record("got \(results)") }
    }

    /// A command the controller never answers: the caller is not held; the completion gets
    /// `.timedOut` after the command timeout.
    @Test func submitReportsAnHCIFailureWithoutBlocking() throws {
        let controller = SwallowingTransport(VirtualController(radio: VirtualRadio()), swallowing: [0x200A, 0x2039])
        let ble = BLE(controller: controller, commandTimeout: 0.3)
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        let outcome = Outcome()
        ble.submit({ try $0.gapAdvertise(100_000) }, completion: { outcome.add($0) })
        // The command is still waiting for its answer (0.3 s): the caller got control back first.
        #expect(outcome.all.isEmpty)
        #expect(outcome.wait() == [.timedOut])
    }

    /// Inside an `irq` handler a blocking call cannot wait: it returns at once, and its failure
    /// shows in `lastCommandError`; `submit` from the handler reports it to its completion.
    @Test func aCallInsideAHandlerReportsItsFailure() throws {
        let controller = SwallowingTransport(VirtualController(radio: VirtualRadio()), swallowing: [0x200A, 0x2039])
        let ble = BLE(controller: controller, commandTimeout: 0.3)
        let outcome = Outcome()
        let returned = Locked(false)
        let rec = EventRecorder(ble) { [weak ble] event in
            guard event == .scanDone, let ble else { return nil }
            // Blocking form: returns without waiting for the controller.
            try? ble.gapAdvertise(100_000)
            returned.value = true
            ble.submit({ try $0.gapAdvertise(nil) ; try $0.gapAdvertise(200_000) }, completion: { outcome.add($0) })
            return nil
        }
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        #expect(ble.lastCommandError == nil)
        try ble.gapScan(20, 30_000, 30_000)
        #expect(rec.next(code: IRQ.scanDone) != nil)
        #expect(returned.value)
        #expect(outcome.wait() == [.timedOut])
        #expect(ble.lastCommandError == .timedOut)
    }
}
