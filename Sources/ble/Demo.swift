import ArgumentParser
import Bluetooth
import Foundation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A peripheral and a central on the virtual radio: find, connect, disconnect.")

    @Option(name: .shortAndLong, help: "The peripheral's controller (default: a fresh virtual radio).")
    var transport: String = "virtual:demo"
    @Option(help: "The central's controller (default: the same as --transport when it is virtual).")
    var centralTransport: String?

    func run() throws {
        let centralSpec = centralTransport ?? (transport.hasPrefix("virtual") ? transport : nil)
        guard let centralSpec else {
            throw CLIError(description: "with a hardware transport, give the central's controller with --central-transport")
        }
        let name = "swift-ble-demo"
        let peripheral = try BLE(transport: transport)
        let central = try BLE(transport: centralSpec)
        let pEvents = EventBox(), cEvents = EventBox()
        peripheral.irq { e in
            pEvents.push(e)
            return nil
        }
        central.irq { e in
            cEvents.push(e)
            return nil
        }
        let t0 = Date()
        func say(_ who: String, _ s: String) {
            print(String(format: "[%6.1f ms] %@ %@", Date().timeIntervalSince(t0) * 1000, who, s))
        }
        try peripheral.active(true)
        try central.active(true)
        defer {
            _ = try? central.active(false)
            _ = try? peripheral.active(false)
        }
        let (pType, pMac) = try peripheral.config(.mac)
        let (_, cMac) = try central.config(.mac)
        say("peripheral", "is \(pMac) (\(pType)) on \(transport)")
        say("central   ", "is \(cMac) on \(centralSpec)")

        try peripheral.gapAdvertise(20_000, advData: AdvertisingData.make(name: name),
                                    respData: AdvertisingData.make(flags: nil, manufacturerData: Array("hello".utf8)))
        say("peripheral", "advertises \"\(name)\" every 20 ms")

        try central.gapScan(5000, 30_000, 30_000, true)
        say("central   ", "scans (active)")
        var target: (AddressType, BluetoothAddress)?
        while target == nil {
            guard let e = cEvents.next(timeout: 6, where: { if case .scanResult = $0 { return true }; return $0 == .scanDone })
            else { throw CLIError(description: "no scan result") }
            if case let .scanResult(addrType, addr, advType, rssi, advData) = e,
               AdvertisingData(parsing: advData).name == name {
                say("central   ", "found \"\(name)\" at \(addr) (\(addrType)), \(describe(advType)), rssi \(rssi) dBm")
                target = (addrType, addr)
            } else if e == .scanDone {
                throw CLIError(description: "the scan ended without finding the peripheral")
            }
        }
        guard let target else { return }
        try central.gapConnect(target.0, target.1)
        say("central   ", "connects to \(target.1)")
        guard case let .peripheralConnect(cHandle, _, _)? = cEvents.next(timeout: 5, where: {
            if case .peripheralConnect = $0 { return true }
            if case .peripheralDisconnect = $0 { return true }
            return false
        }) else { throw CLIError(description: "the connection failed") }
        say("central   ", "_IRQ_PERIPHERAL_CONNECT handle \(cHandle)")
        guard case let .centralConnect(pHandle, _, addr)? = pEvents.next(timeout: 5, where: {
            if case .centralConnect = $0 { return true }; return false
        }) else { throw CLIError(description: "the peripheral saw no connection") }
        say("peripheral", "_IRQ_CENTRAL_CONNECT handle \(pHandle) from \(addr)")

        try central.gapDisconnect(cHandle)
        say("central   ", "disconnects")
        guard cEvents.next(timeout: 5, where: { if case .peripheralDisconnect = $0 { return true }; return false }) != nil
        else { throw CLIError(description: "no disconnect event on the central") }
        say("central   ", "_IRQ_PERIPHERAL_DISCONNECT")
        guard pEvents.next(timeout: 5, where: { if case .centralDisconnect = $0 { return true }; return false }) != nil
        else { throw CLIError(description: "no disconnect event on the peripheral") }
        say("peripheral", "_IRQ_CENTRAL_DISCONNECT")
        print("demo complete")
    }
}
