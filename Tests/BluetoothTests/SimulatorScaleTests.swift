import BluetoothCore
import BluetoothSimulator
import Foundation
import Testing

/// Counts the reports of each advertiser (used inside a waiting predicate).
final class AddressCollector: @unchecked Sendable {
    // Safe: only touched inside SimulatorHost's predicate evaluation, which holds the host's lock.
    var heard: [BluetoothAddress: Int] = [:]
}

@Suite("Simulator: scale")
struct SimulatorScaleTests {
    @Test func threeHundredAdvertisersHeardByOneScanner() async throws {
        let radio = VirtualRadio()
        let clock = ContinuousClock()
        let setupStart = clock.now
        var advertisers: [SimulatorHost] = []
        for i in 0..<300 {
            let h = try SimulatorHost(radio: radio)
            // 100 ms interval; every controller a different name.
            try await h.advertise(.advNonconnInd, data: [0x05, 0x09, 0x53, 0x69, UInt8(i >> 8), UInt8(i & 0xFF)],
                                  interval: 0xA0)
            advertisers.append(h)
        }
        let setup = clock.now - setupStart
        #expect(radio.controllerCount == 300)

        let scanner = try SimulatorHost(radio: radio)
        try await scanner.initialize()
        let expected = Set(advertisers.map(\.address))
        let collector = AddressCollector()
        let start = clock.now
        try await scanner.scan(interval: 0xA0, window: 0xA0)
        // Bounded by events, not by the wall clock: the scanner listens all the time, so every
        // advertiser is heard once per advertising event of its own, and before any advertiser
        // is heard a third time (two of its intervals), each of the 300 has had an event and been
        // heard. A loaded machine runs the radio late, but in deadline order, so that holds
        // whatever the load. The 30 s is only a bound for a radio that stopped.
        _ = try await scanner.next("all 300 advertisers", timeout: .seconds(30)) { p in
            guard p.type == .event, case .leAdvertisingReport(let r)? = try? HCIEvent(parsing: p.bytes) else {
                return false
            }
            for rep in r.reports where expected.contains(rep.address) { collector.heard[rep.address, default: 0] += 1 }
            return collector.heard.count == expected.count
        }
        let heardAll = clock.now - start
        let mostHeard = collector.heard.values.max() ?? 0  // the predicate runs no more
        try await scanner.ok(HCI.LESetScanEnable(enable: false))
        let reports = scanner.allEvents.filter { e in
            if case .leAdvertisingReport = e { return true }
            return false
        }.count
        print("scale: 300 advertisers set up in \(setup), all heard in \(heardAll) (\(reports) reports; "
              + "no advertiser more than \(mostHeard) times before the last was first heard)")
        #expect(mostHeard <= 2, "an advertiser was heard \(mostHeard) times before all 300 were heard once")
        for h in advertisers { h.controller.close() }
        scanner.controller.close()
        #expect(radio.controllerCount == 0)
    }
}
