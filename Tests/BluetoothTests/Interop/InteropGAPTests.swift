// GAP interop against Google's Bumble: our stack on one stock Bumble virtual controller, a Bumble
// host (Tests/Interop/bumble_peer.py) on another, both on the same LocalLink
// (Tests/Interop/bumble_controllers.py). Each test starts its own controllers process.
//
// Needs python3 (3.11+, as bumble 0.0.236 requires) with venv, and PyPI the first time:
// scripts/setup-bumble.sh makes .venv-interop/ with bumble==0.0.236. If that fails, these tests
// fail with the script's message; they never skip.
//
// Facts about the stock controller that shape the assertions (README of the interop notes, §3-§7):
// * scanning, legacy or extended, yields LE *Extended* Advertising Reports; the advertising report
//   has event type 0x0001 (connectable; neither the legacy nor the scannable bit), and the
//   "scan response" report (0x0008) repeats the advertising data instead of carrying the
//   advertiser's scan response data, which never leaves the advertising controller
//   (bumble_controllers.py measures this at start-up and reports it as scan_rsp=echo; the tests
//   check exactly what it measured);
// * a report arrives every advertising interval (no duplicate filtering);
// * Disconnect gives both sides the reason the host passed (0x13), not 0x16 locally;
// * HCI_Reset is a no-op (a fresh controllers process per test gives a clean state).

import Foundation
import Testing
@testable import Bluetooth

private let iopBumbleName = "BUMBLE-IOP"
private let iopOurName = "SWIFT-IOP"
/// Flags (LE General Discoverable, BR/EDR not supported) + complete local name.
private let iopOurAdvData = interopAD(0x01, [0x06]) + interopAD(0x09, Array(iopOurName.utf8))
/// Manufacturer specific data: company 0xFFFF (reserved for tests) + "SWIFT-RSP".
private let iopOurRespData = interopAD(0xFF, [0xFF, 0xFF] + Array("SWIFT-RSP".utf8))

@Suite(.serialized)
struct InteropGAP {

    // MARK: (1) our scan sees Bumble

    @Test("Bumble's controller process killed mid-scan: scanDone comes with the radio off and sessionFailure saying why")
    func bumbleControllerKilledMidScan() throws {
        let controllers = try BumbleControllers()
        let ble = try BLE(transport: try controllers.transport(0))
        try ble.config(addrMode: .random)
        let seen = Locked<[String]>([])
        let events = InteropEventRecorder()
        ble.irq { [weak ble] event in
            if event == .scanDone, let ble {
                seen.withLock { $0.append("active=\(ble.active()) failure=\(ble.sessionFailure != nil)") }
            }
            events.record(event)
            return nil
        }
        try ble.active(true)
        try ble.gapScan(0, 30_000, 30_000)
        controllers.process.terminate()
        _ = try events.require("scanDone after the controller died", timeout: 10) { $0 == .scanDone }
        #expect(seen.value == ["active=false failure=true"])
        #expect(ble.active() == false)
        #expect(ble.sessionFailure?.description.contains("the session ended") == true, "\(String(describing: ble.sessionFailure))")
    }

    @Test("our active scan sees Bumble's ADV_IND with its name, and a scan response")
    func ourScanSeesBumbleAdvertisement() throws {
        let controllers = try BumbleControllers()
        let bumble = try BumblePeer("advertise", ["--name", iopBumbleName], controllers: controllers)
        let ready = try bumble.waitForLine(prefix: "READY")
        let peer = try InteropAddress(line: ready)
        let bumbleAdvData = try interopBytes(hex: interopField("adv_data", of: ready))
        let bumbleScanResponse = try interopBytes(hex: interopField("scan_response", of: ready))
        #expect(interopContains(bumbleAdvData, Array(iopBumbleName.utf8)))

        try withInteropDevice(try controllers.transport(0)) { ble, events in
            try ble.gapScan(5000, 30_000, 30_000, true)

            // The advertisement: ADV_IND with the advertising data Bumble reported.
            let adv = try #require(try events.require("an advertising report from Bumble (\(peer))") {
                guard let r = $0.iopScanResult else { return false }
                return r.addr == peer.address && r.advType != .scanRsp
            }.iopScanResult)
            #expect(adv.addrType == peer.type)
            // Stock reports it with extended event type 0x0001 (connectable, not scannable, no
            // legacy bit): connectable and undirected is what ADV_IND means.
            #expect(adv.advType == .advInd)
            #expect(adv.advData == bumbleAdvData, "advertising data \(interopHex(adv.advData))")
            #expect(interopContains(adv.advData, Array(iopBumbleName.utf8)))
            #expect(adv.rssi < 0 && adv.rssi >= -127, "rssi \(adv.rssi)")

            // True against every controller: more reports for the same address (active scan:
            // a scan response; stock: also a report per advertising interval).
            _ = try events.require("a second report from Bumble (\(peer))") {
                $0.iopScanResult?.addr == peer.address
            }

            // The scan response: exactly what the controllers' probe measured. The checks never
            // pass vacuously: with `echo` or `real` a SCAN_RSP report must arrive.
            #expect(bumbleScanResponse != bumbleAdvData && !bumbleScanResponse.isEmpty)
            switch try controllers.scanResponse() {
            case .echo:
                // Stock Bumble 0.0.236 (gotcha 5): after every advertising report the scanner's
                // controller sends a report flagged SCAN_RSP that repeats the advertising data;
                // Bumble's real scan response data ("BUMBLE-RSP") never leaves its controller.
                let response = try #require(try events.require("a SCAN_RSP report from Bumble (\(peer))") {
                    guard let r = $0.iopScanResult else { return false }
                    return r.addr == peer.address && r.advType == .scanRsp
                }.iopScanResult)
                #expect(response.advData == bumbleAdvData, "scan response data \(interopHex(response.advData))")
                #expect(response.addrType == peer.type)
            case .real:
                let response = try #require(try events.require("a SCAN_RSP report from Bumble (\(peer))") {
                    guard let r = $0.iopScanResult else { return false }
                    return r.addr == peer.address && r.advType == .scanRsp
                }.iopScanResult)
                #expect(response.advData == bumbleScanResponse, "scan response data \(interopHex(response.advData))")
                #expect(response.addrType == peer.type)
            case .none:
                // Five more advertising reports from Bumble, and no SCAN_RSP among any of them.
                for i in 0..<5 {
                    _ = try events.require("advertising report \(i + 3) from Bumble") {
                        guard let r = $0.iopScanResult else { return false }
                        return r.addr == peer.address && r.advType != .scanRsp
                    }
                }
                #expect(!events.all.contains { $0.iopScanResult?.advType == .scanRsp })
            }

            try ble.gapScan(nil)
            _ = try events.require("scanDone after gapScan(nil)") { $0 == .scanDone }
        }
    }

    // MARK: (2) Bumble's scan sees us

    @Test("Bumble's active scan sees our advertisement, name and scan response")
    func bumbleScanSeesOurAdvertisement() throws {
        let controllers = try BumbleControllers()
        try withInteropDevice(try controllers.transport(0)) { ble, events in
            let (ourType, ourAddress) = try ble.config(.mac)
            let us = InteropAddress(type: ourType, address: ourAddress)
            try ble.gapAdvertise(20_000, advData: iopOurAdvData, respData: iopOurRespData)

            let scanner = try BumblePeer("scan", ["--target-name", iopOurName], controllers: controllers)
            let adv = try scanner.waitForLine(prefix: "ADV ")
            let found = try scanner.waitForLine(prefix: "FOUND")
            try scanner.process.requireSuccessfulExit()

            #expect(try InteropAddress(line: adv) == us, "Bumble saw \(adv)")
            #expect(try InteropAddress(line: found) == us)
            #expect(try interopField("name", of: adv) == iopOurName)
            #expect(try interopField("name", of: found) == iopOurName)
            #expect(try interopBytes(hex: interopField("data", of: adv)) == iopOurAdvData)

            // What Bumble's scanner got as our scan response (empty: none arrived) is exactly what
            // the controllers' probe measured.
            let response = try interopBytes(hex: interopField("scan_response", of: adv))
            switch try controllers.scanResponse() {
            case .echo:
                // Stock controller (gotcha 5): our scan response data stays in our controller;
                // Bumble's scanner gets a SCAN_RSP report repeating our advertising data.
                #expect(response == iopOurAdvData, "scan response seen by Bumble: \(interopHex(response))")
            case .real:
                #expect(response == iopOurRespData, "scan response seen by Bumble: \(interopHex(response))")
            case .none:
                #expect(response.isEmpty, "scan response seen by Bumble: \(interopHex(response))")
            }

            try ble.gapAdvertise(nil)
            #expect(!events.all.contains { $0.iopCentralConnect != nil })
        }
    }

    // MARK: (3) we connect to Bumble

    @Test("we connect to Bumble and disconnect (reason 0x13 at Bumble)")
    func weConnectAndDisconnect() throws {
        let controllers = try BumbleControllers()
        try interopWeConnect(controllers, ourIndex: 0, bumbleIndex: 1, bumbleDisconnects: false)
    }

    @Test("we connect to Bumble; Bumble disconnects us")
    func weConnectAndBumbleDisconnects() throws {
        let controllers = try BumbleControllers()
        try interopWeConnect(controllers, ourIndex: 0, bumbleIndex: 1, bumbleDisconnects: true)
    }

    @Test("we connect to Bumble advertising with its public address")
    func weConnectToPublicAddress() throws {
        let controllers = try BumbleControllers()
        try interopWeConnect(controllers, ourIndex: 0, bumbleIndex: 1, bumbleDisconnects: false,
                         bumbleOwnAddressType: "public")
    }

    // MARK: (4) Bumble connects to us

    @Test("Bumble connects to us and disconnects")
    func bumbleConnectsAndDisconnects() throws {
        let controllers = try BumbleControllers()
        try interopBumbleConnects(controllers, bumbleDisconnects: true)
    }

    @Test("Bumble connects to us; we disconnect it")
    func bumbleConnectsAndWeDisconnect() throws {
        let controllers = try BumbleControllers()
        try interopBumbleConnects(controllers, bumbleDisconnects: false)
    }

    // MARK: connect timeout against the stock controller

    /// The stock controller accepts LE Create Connection Cancel but never ends the attempt nor
    /// sends the Connection Complete it owes (gotcha 7), and refuses every later Create Connection
    /// with Command Disallowed. The host must still tell the app, every time, without hanging.
    @Test("a connect to an absent address times out, and the stack stays usable")
    func connectTimeoutWithStockCancel() throws {
        let controllers = try BumbleControllers()
        let absent = try #require(BluetoothAddress("12:34:56:78:9a:bc"))
        try withInteropDevice(try controllers.transport(0)) { ble, events in
            let t0 = ContinuousClock.now
            try ble.gapConnect(.public, absent, 300)
            // Bounded by the event (10 s: far above the 300 ms attempt plus the 1 s the host gives
            // a controller that ignores its cancel, so load cannot make it flake).
            let e = try events.require("peripheralDisconnect after the timeout", timeout: 10) {
                if case .peripheralDisconnect = $0 { return true }
                return false
            }
            #expect(e == .peripheralDisconnect(connHandle: 0xFFFF, addrType: .unknown, addr: .zero))
            // The attempt lasted its scan duration at least (a lower bound: load only lengthens it).
            #expect(ContinuousClock.now - t0 >= .milliseconds(300))
            // A second attempt ends too (refused by the stuck controller, or timed out), never hangs.
            do {
                try ble.gapConnect(.public, absent, 300)
                _ = try events.require("peripheralDisconnect for the second attempt", timeout: 10) {
                    if case .peripheralDisconnect(_, .unknown, _) = $0 { return true }
                    return false
                }
            } catch let error as BLEError {
                // Waited for the command and the controller refused it: also a clear ending.
                #expect(error.errno == 5, "\(error)")
            }
            // The rest of the stack works: scanning starts and ends.
            try ble.gapScan(200, 30_000, 30_000)
            _ = try events.require("scanDone") { $0 == .scanDone }
        }
    }

    // MARK: (5) serial transport

    @Test("serial: over a pty, we connect to Bumble and disconnect")
    func serialWeConnectAndDisconnect() throws {
        // C0 is the pty (our device, transport "serial:PATH"), C1 a TCP controller for Bumble.
        let controllers = try BumbleControllers(tcpCount: 1, withPty: true)
        let transport = try controllers.transport(0)
        #expect(transport.hasPrefix("serial:"), "C0 is \(transport)")
        try interopWeConnect(controllers, ourIndex: 0, bumbleIndex: 1, bumbleDisconnects: false)
    }
}

// MARK: - Scenarios

/// Bumble advertises on controller `bumbleIndex`; we connect from `ourIndex`; one side disconnects.
private func interopWeConnect(_ controllers: BumbleControllers, ourIndex: Int, bumbleIndex: Int,
                          bumbleDisconnects: Bool, bumbleOwnAddressType: String = "random") throws {
    var arguments = ["--name", iopBumbleName, "--own-address-type", bumbleOwnAddressType]
    if bumbleDisconnects { arguments += ["--disconnect-after", "300"] }
    let bumble = try BumblePeer("advertise", arguments, controllers: controllers, index: bumbleIndex)
    let ready = try bumble.waitForLine(prefix: "READY")
    let peer = try InteropAddress(line: ready)
    #expect(peer.typeArgument == bumbleOwnAddressType)

    try withInteropDevice(try controllers.transport(ourIndex)) { ble, events in
        let (ourType, ourAddress) = try ble.config(.mac)
        let us = InteropAddress(type: ourType, address: ourAddress)

        try ble.gapConnect(peer.type, peer.address)
        let up = try #require(try events.require("peripheralConnect to \(peer)") {
            $0.iopPeripheralConnect != nil
        }.iopPeripheralConnect)
        #expect(up.addr == peer.address)
        #expect(up.addrType == peer.type)

        let connected = try bumble.waitForLine(prefix: "CONNECTED")
        #expect(try interopField("role", of: connected) == "peripheral")
        #expect(try InteropAddress(line: connected, addressKey: "peer", typeKey: "peer_type") == us,
                "Bumble saw \(connected); our config(.mac) is \(us)")

        if bumbleDisconnects {
            let down = try #require(try events.require("peripheralDisconnect after Bumble disconnected") {
                $0.iopPeripheralDisconnect?.connHandle == up.connHandle
            }.iopPeripheralDisconnect)
            #expect(down.addr == peer.address)
            #expect(down.addrType == peer.type)
            let line = try bumble.waitForLine(prefix: "DISCONNECTED")
            #expect(try interopField("initiator", of: line) == "local")
            #expect(try interopField("reason", of: line) == "0x13")  // remote user terminated connection
            #expect(try ble.gapDisconnect(up.connHandle) == false, "the link is already down")
        } else {
            #expect(try ble.gapDisconnect(up.connHandle))
            let down = try #require(try events.require("peripheralDisconnect after gapDisconnect") {
                $0.iopPeripheralDisconnect?.connHandle == up.connHandle
            }.iopPeripheralDisconnect)
            #expect(down.addr == peer.address)
            #expect(down.addrType == peer.type)
            let line = try bumble.waitForLine(prefix: "DISCONNECTED")
            #expect(try interopField("initiator", of: line) == "remote")
            #expect(try interopField("reason", of: line) == "0x13")  // remote user terminated connection
        }
        // bumble_peer.py serves one connection (--cycles 1) and then exits 0.
        try bumble.process.requireSuccessfulExit()
        #expect(!events.all.contains { $0.iopCentralConnect != nil })
    }
}

/// We advertise on C0; Bumble connects from C1; one side disconnects.
private func interopBumbleConnects(_ controllers: BumbleControllers, bumbleDisconnects: Bool) throws {
    try withInteropDevice(try controllers.transport(0)) { ble, events in
        let (ourType, ourAddress) = try ble.config(.mac)
        let us = InteropAddress(type: ourType, address: ourAddress)
        try ble.gapAdvertise(20_000, advData: iopOurAdvData)

        var arguments = ["--target-address", "\(us.address)", "--address-type", us.typeArgument]
        if bumbleDisconnects { arguments += ["--disconnect-after", "300"] }
        let bumble = try BumblePeer("connect", arguments, controllers: controllers, index: 1)
        let powered = try bumble.waitForLine(prefix: "POWERED")
        // Bumble connects with its static random address.
        guard let bumbleAddress = BluetoothAddress(try interopField("address", of: powered).lowercased()) else {
            throw InteropError("bad address in \(powered)")
        }

        let up = try #require(try events.require("centralConnect from Bumble (\(bumbleAddress))") {
            $0.iopCentralConnect != nil
        }.iopCentralConnect)
        #expect(up.addr == bumbleAddress)
        #expect(up.addrType == .random)

        let connected = try bumble.waitForLine(prefix: "CONNECTED")
        #expect(try interopField("role", of: connected) == "central")
        #expect(try InteropAddress(line: connected, addressKey: "peer", typeKey: "peer_type") == us,
                "Bumble connected to \(connected); our config(.mac) is \(us)")

        if bumbleDisconnects {
            let down = try #require(try events.require("centralDisconnect after Bumble disconnected") {
                $0.iopCentralDisconnect?.connHandle == up.connHandle
            }.iopCentralDisconnect)
            #expect(down.addr == bumbleAddress)
            #expect(down.addrType == .random)
            let line = try bumble.waitForLine(prefix: "DISCONNECTED")
            #expect(try interopField("initiator", of: line) == "local")
            #expect(try interopField("reason", of: line) == "0x13")
        } else {
            #expect(try ble.gapDisconnect(up.connHandle))
            let down = try #require(try events.require("centralDisconnect after gapDisconnect") {
                $0.iopCentralDisconnect?.connHandle == up.connHandle
            }.iopCentralDisconnect)
            #expect(down.addr == bumbleAddress)
            let line = try bumble.waitForLine(prefix: "DISCONNECTED")
            #expect(try interopField("initiator", of: line) == "remote")
            #expect(try interopField("reason", of: line) == "0x13")
        }
        // bumble_peer.py connect exits 0 once the link is down, whichever side ended it.
        try bumble.process.requireSuccessfulExit()
        #expect(!events.all.contains { $0.iopPeripheralConnect != nil })
    }
}

// MARK: - Event helpers

private struct InteropScanReport {
    var addrType: AddressType
    var addr: BluetoothAddress
    var advType: AdvType
    var rssi: Int
    var advData: [UInt8]
}

private struct InteropLinkEvent {
    var connHandle: UInt16
    var addrType: AddressType
    var addr: BluetoothAddress
}

extension BLE.Event {
    fileprivate var iopScanResult: InteropScanReport? {
        if case let .scanResult(addrType, addr, advType, rssi, advData) = self {
            return InteropScanReport(addrType: addrType, addr: addr, advType: advType, rssi: rssi, advData: advData)
        }
        return nil
    }

    fileprivate var iopPeripheralConnect: InteropLinkEvent? {
        if case let .peripheralConnect(connHandle, addrType, addr) = self {
            return InteropLinkEvent(connHandle: connHandle, addrType: addrType, addr: addr)
        }
        return nil
    }

    fileprivate var iopPeripheralDisconnect: InteropLinkEvent? {
        if case let .peripheralDisconnect(connHandle, addrType, addr) = self {
            return InteropLinkEvent(connHandle: connHandle, addrType: addrType, addr: addr)
        }
        return nil
    }

    fileprivate var iopCentralConnect: InteropLinkEvent? {
        if case let .centralConnect(connHandle, addrType, addr) = self {
            return InteropLinkEvent(connHandle: connHandle, addrType: addrType, addr: addr)
        }
        return nil
    }

    fileprivate var iopCentralDisconnect: InteropLinkEvent? {
        if case let .centralDisconnect(connHandle, addrType, addr) = self {
            return InteropLinkEvent(connHandle: connHandle, addrType: addrType, addr: addr)
        }
        return nil
    }
}

private func interopContains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty else { return true }
    guard haystack.count >= needle.count else { return false }
    for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
        return true
    }
    return false
}
