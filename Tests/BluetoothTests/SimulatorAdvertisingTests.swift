import BluetoothCore
import BluetoothSimulator
import Testing

@Suite("Simulator: advertising and scanning")
struct SimulatorAdvertisingTests {
    static let flags: [UInt8] = [0x02, 0x01, 0x06]
    static let name: [UInt8] = [0x05, 0x09, 0x53, 0x69, 0x6D, 0x31] // "Sim1"

    /// Hosts on a fresh radio, initialized.
    func hosts(_ n: Int, configuration: VirtualController.Configuration = .init()) async throws -> [SimulatorHost] {
        let radio = VirtualRadio()
        var out: [SimulatorHost] = []
        for _ in 0..<n {
            let h = try SimulatorHost(radio: radio, configuration: configuration)
            try await h.initialize()
            out.append(h)
        }
        return out
    }

    @Test func passiveScanReportsEveryLegacyPDUType() async throws {
        let h = try await hosts(6)
        let scanner = h[0]
        try await scanner.scan()
        try await h[1].advertise(.advInd, data: Self.flags + Self.name, scanResponse: [0x02, 0x0A, 0x00])
        try await h[2].advertise(.advScanInd, data: Self.name)
        try await h[3].advertise(.advNonconnInd, data: Self.flags)
        try await h[4].advertise(.advDirectIndLowDuty, peer: scanner.address)
        try await h[5].advertise(.advDirectIndHighDuty, peer: scanner.address)

        let ind = try await scanner.report(from: h[1].address)
        #expect(ind.eventType == 0 && ind.addressType == 0 && ind.data == Self.flags + Self.name)
        #expect((-70 ... -40).contains(ind.rssi))
        let scanInd = try await scanner.report(from: h[2].address)
        #expect(scanInd.eventType == 2 && scanInd.data == Self.name)
        let nonconn = try await scanner.report(from: h[3].address)
        #expect(nonconn.eventType == 3 && nonconn.data == Self.flags)
        let direct = try await scanner.report(from: h[4].address)
        #expect(direct.eventType == 1 && direct.data.isEmpty)
        let highDuty = try await scanner.report(from: h[5].address)
        #expect(highDuty.eventType == 1 && highDuty.data.isEmpty && highDuty.addressType == 0)
        // Passive: no scan responses at all.
        #expect(!scanner.allEvents.contains { e in
            if case .leAdvertisingReport(let r) = e { return r.reports.contains { $0.eventType == 4 } }
            return false
        })
    }

    @Test func advertisingReportExactBytes() async throws {
        let radio = VirtualRadio()
        let scanner = try SimulatorHost(radio: radio)
        let adv = try SimulatorHost(radio: radio)
        try await scanner.initialize()
        try await adv.initialize()
        radio.setRSSI(-55, between: scanner.address, and: adv.address)
        try await adv.advertise(.advNonconnInd, data: Self.flags)
        try await scanner.scan()
        let p = try await scanner.next("report") { $0.type == .event && $0.bytes.first == 0x3E }
        let a = adv.address.littleEndianBytes
        // LE Meta, 15 bytes: subevent 2, 1 report, ADV_NONCONN_IND, public, address, 3 data bytes, RSSI -55.
        #expect(p.bytes == [0x3E, 0x0F, 0x02, 0x01, 0x03, 0x00] + a + [0x03, 0x02, 0x01, 0x06, 0xC9])
    }

    @Test func directedAdvertisingReachesOnlyItsTarget() async throws {
        let h = try await hosts(3)
        let target = h[0], other = h[1], adv = h[2]
        try await adv.advertise(.advDirectIndLowDuty, peer: target.address)
        try await target.scan()
        try await other.scan()
        _ = try await target.report(from: adv.address, eventType: 1)
        // Wait for the target to hear several events; the other scanner hears none of them.
        for _ in 0..<3 { _ = try await target.report(from: adv.address) }
        #expect(!other.allEvents.contains { e in
            if case .leAdvertisingReport(let r) = e { return r.reports.contains { $0.address == adv.address } }
            return false
        })
    }

    @Test func activeScanGetsScanResponsesOnlyForScannableTypes() async throws {
        let h = try await hosts(4)
        let scanner = h[0]
        try await h[1].advertise(.advInd, data: Self.flags, scanResponse: Self.name)
        try await h[2].advertise(.advScanInd, data: Self.flags, scanResponse: [])
        try await h[3].advertise(.advNonconnInd, data: Self.flags, scanResponse: Self.name)
        try await scanner.scan(active: true)
        let rsp1 = try await scanner.report(from: h[1].address, eventType: 4)
        #expect(rsp1.data == Self.name)
        let rsp2 = try await scanner.report(from: h[2].address, eventType: 4)
        #expect(rsp2.data.isEmpty)
        // Several ADV_NONCONN_IND events, never a scan response.
        for _ in 0..<3 { _ = try await scanner.report(from: h[3].address, eventType: 3) }
        #expect(!scanner.allEvents.contains { e in
            if case .leAdvertisingReport(let r) = e {
                return r.reports.contains { $0.address == h[3].address && $0.eventType == 4 }
            }
            return false
        })
    }

    func reportCount(_ host: SimulatorHost, from address: BluetoothAddress) -> Int {
        host.allEvents.reduce(0) { n, e in
            if case .leAdvertisingReport(let r) = e { return n + r.reports.filter { $0.address == address }.count }
            return n
        }
    }

    @Test func scanWindowIsHonoured() async throws {
        let h = try await hosts(3)
        let adv = h[0], full = h[1], tiny = h[2]
        try await adv.advertise(.advNonconnInd, data: Self.flags, interval: 0x20) // 20 ms
        // Continuous scan versus a 2.5 ms window every 100 ms.
        try await full.scan(interval: 0xA0, window: 0xA0)
        try await tiny.scan(interval: 0xA0, window: 0x04)
        for _ in 0..<40 { _ = try await full.report(from: adv.address) }
        try await full.ok(HCI.LESetScanEnable(enable: false))
        try await tiny.ok(HCI.LESetScanEnable(enable: false))
        let fullCount = reportCount(full, from: adv.address)
        let tinyCount = reportCount(tiny, from: adv.address)
        #expect(fullCount >= 40)
        #expect(tinyCount * 3 < fullCount, "tiny window heard \(tinyCount), continuous \(fullCount)")
    }

    @Test func filterDuplicatesReportsOncePerAddressUntilRestart() async throws {
        let h = try await hosts(3)
        let scanner = h[0], witness = h[1], adv = h[2]
        try await adv.advertise(.advInd, data: Self.flags, scanResponse: Self.name)
        try await scanner.scan(active: true, filterDuplicates: true)
        try await witness.scan()
        // The witness (no filtering) hears many events meanwhile.
        for _ in 0..<10 { _ = try await witness.report(from: adv.address) }
        _ = try await scanner.report(from: adv.address, eventType: 0)
        _ = try await scanner.report(from: adv.address, eventType: 4)
        #expect(reportCount(scanner, from: adv.address) == 2)
        // Restarting the scan clears the filter.
        try await scanner.ok(HCI.LESetScanEnable(enable: false))
        try await scanner.ok(HCI.LESetScanEnable(enable: true, filterDuplicates: true))
        _ = try await scanner.report(from: adv.address, eventType: 0)
    }

    @Test func advertisingParameterRules() async throws {
        let h = try await hosts(1)
        let host = h[0]
        // Random own address without a random address: enabling fails.
        try await host.ok(HCI.LESetAdvertisingParameters(intervalMin: 0x20, intervalMax: 0x20, type: .advInd,
                                                         ownAddressType: 1))
        #expect(try await host.status(HCI.LESetAdvertisingEnable(enable: true)) == .invalidParameters)
        let random = BluetoothAddress(value: 0xC0_11_22_33_44_55)
        try await host.ok(HCI.LESetRandomAddress(address: random))
        try await host.ok(HCI.LESetAdvertisingEnable(enable: true))
        // Not while advertising.
        #expect(try await host.status(HCI.LESetAdvertisingParameters(intervalMin: 0x20, intervalMax: 0x20, type: .advInd,
                                                                      ownAddressType: 0)) == .commandDisallowed)
        #expect(try await host.status(HCI.LESetRandomAddress(address: random)) == .commandDisallowed)
        try await host.ok(HCI.LESetAdvertisingEnable(enable: false))
        try await host.ok(HCI.LESetRandomAddress(address: random))
    }

    @Test func randomAddressIsUsedOnAir() async throws {
        let h = try await hosts(2)
        let scanner = h[0], adv = h[1]
        let random = BluetoothAddress(value: 0xC0_11_22_33_44_56)
        try await adv.ok(HCI.LESetRandomAddress(address: random))
        try await adv.advertise(.advNonconnInd, data: Self.flags, ownAddressType: 1)
        try await scanner.scan()
        let r = try await scanner.report(from: random)
        #expect(r.addressType == 1)
    }

    @Test func eventMasksFilterEvents() async throws {
        let h = try await hosts(3)
        let adv = h[0], masked = h[1], leMasked = h[2]
        try await adv.advertise(.advNonconnInd, data: Self.flags)
        // LE Meta off in the main mask: no reports at all.
        try await masked.ok(HCI.SetEventMask(mask: 0x0000_0000_0000_0010))
        try await masked.scan()
        // LE Advertising Report off in the LE mask.
        try await leMasked.ok(HCI.LESetEventMask(mask: 0x1D))
        try await leMasked.scan()
        let witness = try SimulatorHost(radio: adv.controller.radio)
        try await witness.initialize()
        try await witness.scan()
        for _ in 0..<5 { _ = try await witness.report(from: adv.address) }
        try await masked.ok(HCI.LESetScanEnable(enable: false))
        try await leMasked.ok(HCI.LESetScanEnable(enable: false))
        #expect(reportCount(masked, from: adv.address) == 0)
        #expect(reportCount(leMasked, from: adv.address) == 0)
    }

    @Test func resetRestoresDefaultEventMasks() async throws {
        let h = try await hosts(3)
        let adv = h[0], scanner = h[1], witness = h[2]
        try await adv.advertise(.advNonconnInd, data: Self.flags)
        // The default event mask has no LE Meta bit: after Reset, reports stay with the controller.
        try await scanner.ok(HCI.Reset())
        try await scanner.scan()
        try await witness.scan()
        for _ in 0..<5 { _ = try await witness.report(from: adv.address) }
        try await scanner.ok(HCI.LESetScanEnable(enable: false))
        #expect(reportCount(scanner, from: adv.address) == 0)
    }

    @Test func legacyAndExtendedCommandsDoNotMix() async throws {
        let h = try await hosts(1)
        let host = h[0]
        try await host.ok(HCI.LESetScanParameters(active: false, interval: 0x10, window: 0x10, ownAddressType: 0))
        #expect(try await host.status(HCI.LESetExtendedScanEnable(enable: false)) == .commandDisallowed)
        #expect(try await host.status(HCI.LESetExtendedAdvertisingParameters(
            handle: 0, properties: .legacyAdvInd, intervalMin: 0x20, intervalMax: 0x20, ownAddressType: 0))
            == .commandDisallowed)
        let s = try await host.status(HCI.LEExtendedCreateConnection(
            ownAddressType: 0, peerAddressType: 0, peerAddress: .zero,
            parameters: [.init(scanInterval: 0x10, scanWindow: 0x10,
                               connection: .init(intervalMin: 24, intervalMax: 40, supervisionTimeout: 200))]))
        #expect(s == .commandDisallowed)
        // Reset clears the choice; extended first, then legacy is refused.
        try await host.ok(HCI.Reset())
        #expect(try await host.status(HCI.LEReadMaximumAdvertisingDataLength()) == .success)
        #expect(try await host.status(HCI.LESetAdvertisingEnable(enable: false)) == .commandDisallowed)
        #expect(try await host.status(HCI.LESetScanParameters(active: false, interval: 0x10, window: 0x10,
                                                              ownAddressType: 0)) == .commandDisallowed)
    }
}

@Suite("Simulator: extended advertising and scanning")
struct SimulatorExtendedTests {
    func pair() async throws -> (scanner: SimulatorHost, advertiser: SimulatorHost) {
        let radio = VirtualRadio()
        let s = try SimulatorHost(radio: radio)
        let a = try SimulatorHost(radio: radio)
        try await s.initialize()
        try await a.initialize()
        return (s, a)
    }

    func extendedAdvertise(_ host: SimulatorHost, handle: UInt8 = 0, properties: UInt16, data: [UInt8] = [],
                           scanResponse: [UInt8]? = nil, peer: BluetoothAddress = .zero,
                           duration: UInt16 = 0, maxEvents: UInt8 = 0) async throws {
        let r = try await host.command(HCI.LESetExtendedAdvertisingParameters(
            handle: handle, properties: .init(rawValue: properties), intervalMin: 0x20, intervalMax: 0x20,
            ownAddressType: 0, peerAddress: peer, sid: 3))
        #expect(r.first == 0x00)
        if !data.isEmpty || properties & 0x10 != 0 {
            try await host.ok(HCI.LESetExtendedAdvertisingData(handle: handle, data: data))
        }
        if let sr = scanResponse { try await host.ok(HCI.LESetExtendedScanResponseData(handle: handle, data: sr)) }
        try await host.ok(HCI.LESetExtendedAdvertisingEnable(enable: true, sets: [
            .init(handle: handle, duration: duration, maxEvents: maxEvents),
        ]))
    }

    func extendedScan(_ host: SimulatorHost, active: Bool, duration: UInt16 = 0, filterDuplicates: UInt8 = 0) async throws {
        try await host.ok(HCI.LESetExtendedScanParameters(ownAddressType: 0, parameters: [
            .init(active: active, interval: 0x10, window: 0x10),
        ]))
        try await host.ok(HCI.LESetExtendedScanEnable(enable: true, filterDuplicates: filterDuplicates,
                                                      duration: duration))
    }

    @Test func legacyPDUsThroughExtendedCommandsHaveTheRightBits() async throws {
        let radio = VirtualRadio()
        var advertisers: [SimulatorHost] = []
        let scanner = try SimulatorHost(radio: radio)
        try await scanner.initialize()
        for _ in 0..<4 {
            let a = try SimulatorHost(radio: radio)
            try await a.initialize()
            advertisers.append(a)
        }
        try await extendedAdvertise(advertisers[0], properties: 0x13, data: [1, 2], scanResponse: [3])
        try await extendedAdvertise(advertisers[1], properties: 0x12, data: [4], scanResponse: [5, 6])
        try await extendedAdvertise(advertisers[2], properties: 0x10, data: [7])
        try await extendedAdvertise(advertisers[3], properties: 0x15, peer: scanner.address)
        try await extendedScan(scanner, active: true)

        let advInd = try await scanner.extendedReport(from: advertisers[0].address, eventType: 0x13)
        #expect(advInd.data == [1, 2] && advInd.sid == 0xFF && advInd.secondaryPHY == 0 && advInd.primaryPHY == 1)
        #expect(try await scanner.extendedReport(from: advertisers[0].address, eventType: 0x1B).data == [3])
        #expect(try await scanner.extendedReport(from: advertisers[1].address, eventType: 0x12).data == [4])
        #expect(try await scanner.extendedReport(from: advertisers[1].address, eventType: 0x1A).data == [5, 6])
        #expect(try await scanner.extendedReport(from: advertisers[2].address, eventType: 0x10).data == [7])
        let direct = try await scanner.extendedReport(from: advertisers[3].address, eventType: 0x15)
        #expect(direct.directAddress == scanner.address && direct.data.isEmpty)
    }

    @Test func extendedAdvertisingDataIsReassembledAndSplit() async throws {
        let (scanner, adv) = try await pair()
        // Non-legacy, non-connectable, non-scannable; 400 bytes in two fragments.
        let data = (0..<400).map { UInt8(truncatingIfNeeded: $0) }
        try await adv.ok(HCI.LESetExtendedAdvertisingParameters(handle: 1, properties: [], intervalMin: 0x20,
                                                                intervalMax: 0x20, ownAddressType: 0, sid: 5))
        try await adv.ok(HCI.LESetExtendedAdvertisingData(handle: 1, operation: 1, data: Array(data[0..<200])))
        try await adv.ok(HCI.LESetExtendedAdvertisingData(handle: 1, operation: 2, data: Array(data[200...])))
        try await adv.ok(HCI.LESetExtendedAdvertisingEnable(enable: true, sets: [.init(handle: 1)]))
        try await extendedScan(scanner, active: false)
        let first = try await scanner.extendedReport(from: adv.address, eventType: 0x20)
        let last = try await scanner.extendedReport(from: adv.address, eventType: 0x00)
        #expect(first.data.count == 229 && first.sid == 5 && first.secondaryPHY == 1)
        #expect(first.data + last.data == data)
    }

    @Test func extendedDataRules() async throws {
        let (_, adv) = try await pair()
        // No such set.
        #expect(try await adv.status(HCI.LESetExtendedAdvertisingData(handle: 7, data: [1])) == HCIStatus(0x42))
        try await adv.ok(HCI.LESetExtendedAdvertisingParameters(handle: 0, properties: .legacyAdvInd,
                                                                intervalMin: 0x20, intervalMax: 0x20, ownAddressType: 0))
        // Legacy PDUs carry at most 31 bytes, in one operation.
        #expect(try await adv.status(HCI.LESetExtendedAdvertisingData(handle: 0, data: [UInt8](repeating: 1, count: 32)))
            == .invalidParameters)
        #expect(try await adv.status(HCI.LESetExtendedAdvertisingData(handle: 0, operation: 1, data: [1]))
            == .invalidParameters)
        // Connectable and scannable together is legacy-only.
        #expect(try await adv.status(HCI.LESetExtendedAdvertisingParameters(
            handle: 1, properties: [.connectable, .scannable], intervalMin: 0x20, intervalMax: 0x20,
            ownAddressType: 0)) == .invalidParameters)
        // Continuing fragments without a first one.
        try await adv.ok(HCI.LESetExtendedAdvertisingParameters(handle: 2, properties: [], intervalMin: 0x20,
                                                                intervalMax: 0x20, ownAddressType: 0))
        #expect(try await adv.status(HCI.LESetExtendedAdvertisingData(handle: 2, operation: 2, data: [1]))
            == .commandDisallowed)
        #expect(try await adv.status(HCI.LERemoveAdvertisingSet(handle: 9)) == HCIStatus(0x42))
        try await adv.ok(HCI.LERemoveAdvertisingSet(handle: 2))
        try await adv.ok(HCI.LEClearAdvertisingSets())
        let n = try await adv.command(HCI.LEReadNumberOfSupportedAdvertisingSets())
        #expect(n == [0x00, 16])
        let m = try await adv.command(HCI.LEReadMaximumAdvertisingDataLength())
        #expect(m == [0x00, 0x72, 0x06])
    }

    @Test func durationEndsWithAdvertisingSetTerminated() async throws {
        let (_, adv) = try await pair()
        try await extendedAdvertise(adv, handle: 4, properties: 0x10, data: [1], duration: 10) // 100 ms
        let e = try await adv.event("set terminated") { e in
            if case .leAdvertisingSetTerminated = e { return true }
            return false
        }
        guard case .leAdvertisingSetTerminated(let t) = e else { return }
        #expect(t.status == .advertisingTimeout && t.advertisingHandle == 4 && t.connectionHandle == 0)
        #expect(t.completedEvents >= 1)
    }

    @Test func maxEventsEndsWithLimitReached() async throws {
        let (scanner, adv) = try await pair()
        try await extendedScan(scanner, active: false)
        try await extendedAdvertise(adv, handle: 2, properties: 0x10, data: [9], maxEvents: 3)
        let e = try await adv.event("set terminated") { e in
            if case .leAdvertisingSetTerminated = e { return true }
            return false
        }
        #expect(e == .leAdvertisingSetTerminated(.init(status: HCIStatus(0x43), advertisingHandle: 2,
                                                       connectionHandle: 0, completedEvents: 3)))
        let heard = scanner.allEvents.filter { e in
            if case .leExtendedAdvertisingReport(let r) = e { return r.reports.contains { $0.address == adv.address } }
            return false
        }
        #expect(heard.count <= 3)
    }

    @Test func extendedScanDurationEndsWithScanTimeout() async throws {
        let (scanner, adv) = try await pair()
        try await extendedScan(scanner, active: false, duration: 5) // 50 ms
        try await scanner.event("scan timeout") { $0 == .leScanTimeout }
        // Scanning is off: while another scanner hears an advertiser 5 times, this one hears nothing.
        let witness = try SimulatorHost(radio: adv.controller.radio)
        try await witness.initialize()
        try await extendedAdvertise(adv, handle: 1, properties: 0x10, data: [7])
        try await extendedScan(witness, active: false)
        for _ in 0..<5 { _ = try await witness.extendedReport(from: adv.address, eventType: 0x10) }
        func heard() -> Int {
            scanner.allEvents.filter { e in
                if case .leExtendedAdvertisingReport(let r) = e { return r.reports.contains { $0.address == adv.address } }
                return false
            }.count
        }
        #expect(heard() == 0)
        // Disabling it is harmless, twice; enabling it again works: it hears and times out again.
        try await scanner.ok(HCI.LESetExtendedScanEnable(enable: false))
        try await scanner.ok(HCI.LESetExtendedScanEnable(enable: false))
        try await extendedScan(scanner, active: false, duration: 5)
        _ = try await scanner.extendedReport(from: adv.address, eventType: 0x10)
        try await scanner.event("second scan timeout") { $0 == .leScanTimeout }
    }

    @Test func anonymousAdvertisingHidesTheAddress() async throws {
        let (scanner, adv) = try await pair()
        try await extendedAdvertise(adv, handle: 0, properties: 0x20, data: [0xAB])
        try await extendedScan(scanner, active: false)
        let e = try await scanner.event("anonymous report") { e in
            guard case .leExtendedAdvertisingReport(let r) = e else { return false }
            return r.reports.contains { $0.data == [0xAB] }
        }
        guard case .leExtendedAdvertisingReport(let r) = e, let rep = r.reports.first else { return }
        #expect(rep.addressType == 0xFF && rep.address == .zero && rep.eventType.rawValue == 0x00)
    }

    @Test func legacyScannerIgnoresExtendedPDUs() async throws {
        let radio = VirtualRadio()
        let legacyScanner = try SimulatorHost(radio: radio)
        let extScanner = try SimulatorHost(radio: radio)
        let adv = try SimulatorHost(radio: radio)
        for h in [legacyScanner, extScanner, adv] { try await h.initialize() }
        try await extendedAdvertise(adv, handle: 0, properties: 0x00, data: [1, 2, 3])
        try await extendedAdvertise(adv, handle: 1, properties: 0x10, data: [4])
        try await legacyScanner.scan()
        try await extendedScan(extScanner, active: false)
        _ = try await extScanner.extendedReport(from: adv.address, eventType: 0x00)
        let legacy = try await legacyScanner.report(from: adv.address)
        #expect(legacy.eventType == 3 && legacy.data == [4])
        for _ in 0..<3 { _ = try await legacyScanner.report(from: adv.address) }
        #expect(!legacyScanner.allEvents.contains { e in
            if case .leAdvertisingReport(let r) = e { return r.reports.contains { $0.data == [1, 2, 3] } }
            return false
        })
    }
}
