import Foundation
import Testing
@testable import Bluetooth
@testable import BluetoothHost

/// A real session of the host (init, advertising, scanning, connecting, ACL, disconnecting)
/// captured with btsnoop must decode in Wireshark's tshark with no malformed packet.
@Suite("Scenario: btsnoop capture")
struct ScenarioCaptureTests {
    @Test func hostSessionCaptureDecodesInTshark() throws {
        guard let tshark = TransportTsharkTests.findTshark() else {
            Issue.record("tshark is not installed (not found on PATH); run scripts/install-tshark.sh")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ble-capture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let radio = uniqueRadio()
        let p = try BLE(transport: radio), c = try BLE(transport: radio)
        let pPath = dir.appendingPathComponent("peripheral.btsnoop").path
        let cPath = dir.appendingPathComponent("central.btsnoop").path
        p.capture(to: pPath)
        c.capture(to: cPath)
        let pr = EventRecorder(p), cr = EventRecorder(c)
        try p.active(true)
        try c.active(true)
        let (pt, pa) = try p.config(.mac)
        try p.gapAdvertise(20_000, advData: AdvertisingData.make(name: "capture"), respData: [0x03, 0xFF, 0x01, 0x02])
        try c.gapScan(200, 30_000, 30_000, true)
        #expect(cr.next(code: IRQ.scanDone, timeout: 3) != nil)
        try c.gapConnect(pt, pa)
        let e = try #require(cr.next(code: IRQ.peripheralConnect, timeout: 4))
        #expect(pr.next(code: IRQ.centralConnect, timeout: 4) != nil)
        // An ATT Exchange MTU Request from the central: the peripheral answers, so both
        // directions of ACL end up in the captures.
        let handle = try #require(e.connHandle)
        let answered = Signal()
        c.host.read { $0.receivedL2CAP = { _, cid, pdu in if cid == 0x0004, pdu.first == 0x03 { answered.fire() } } }
        try c.host.perform { #expect($0.sendL2CAP(handle: handle, cid: 0x0004, payload: [0x02, 0x17, 0x00])) }
        // Wait for the Exchange MTU Response before disconnecting, so no packet races the disconnection.
        #expect(answered.wait(timeout: 3))
        #expect(try c.gapDisconnect(handle))
        #expect(cr.next(code: IRQ.peripheralDisconnect, timeout: 4) != nil)
        try p.active(false)
        try c.active(false)

        for path in [pPath, cPath] {
            let out = dir.appendingPathComponent("tshark-\(URL(fileURLWithPath: path).lastPathComponent).txt").path
            let result = try TransportTsharkTests.run(tshark, ["-r", path, "-T", "fields", "-E", "separator=|",
                                                              "-e", "frame.number", "-e", "frame.protocols",
                                                              "-e", "_ws.malformed", "-e", "_ws.expert.severity"],
                                                      outputFile: out)
            let (status, output) = try #require(result, "tshark did not finish")
            #expect(status == 0)
            let lines = output.split(separator: "\n")
            #expect(lines.count > 20, "\(path): only \(lines.count) frames")
            #expect(lines.contains { $0.contains("btatt") }, "no ATT frame in \(path)")
            for line in lines {
                let fields = line.split(separator: "|", omittingEmptySubsequences: false)
                #expect(fields.count >= 3 && fields[2].isEmpty, "malformed frame in \(path): \(line)")
                let severities = fields.count > 3 ? fields[3].split(separator: ",").compactMap { Int($0) } : []
                #expect(severities.allSatisfy { $0 < 0x60_0000 }, "expert warning in \(path): \(line)")
            }
        }
    }
}

/// A one-shot signal a test can wait on with a timeout.
final class Signal: @unchecked Sendable {
    // Safe: guarded by `condition`.
    private let condition = NSCondition()
    private var fired = false
    func fire() {
        condition.lock()
        fired = true
        condition.broadcast()
        condition.unlock()
    }
    func wait(timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !fired {
            if !condition.wait(until: deadline) { return fired }
        }
        return true
    }
}
