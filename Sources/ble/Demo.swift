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

        // The peripheral's GATT database: a readable, writable, notifying characteristic.
        let serviceUUID = try BluetoothUUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")
        let charUUID = try BluetoothUUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E")
        let handles = try peripheral.gattsRegisterServices([
            BLE.Service(serviceUUID, [BLE.Characteristic(charUUID, [.read, .write, .notify])]),
        ])
        let valueHandle = handles[0][0]
        try peripheral.gattsWrite(valueHandle, Array("hello from the peripheral".utf8))
        say("peripheral", "serves \(serviceUUID) with \(charUUID) at handle \(valueHandle)")
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

        // GATT: MTU, discovery, read, subscribe, notification, write.
        func wait(_ box: EventBox, _ what: String, _ match: @escaping (BLE.Event) -> Bool) throws -> BLE.Event {
            guard let e = box.next(timeout: 5, where: match) else { throw CLIError(description: "no \(what)") }
            return e
        }
        try central.gattcExchangeMtu(cHandle)
        if case let .mtuExchanged(_, mtu) = try wait(cEvents, "MTU exchange", { $0.code == 21 }) {
            say("central   ", "_IRQ_MTU_EXCHANGED mtu \(mtu)")
        }
        try central.gattcDiscoverServices(cHandle, serviceUUID)
        guard case let .gattcServiceResult(_, start, end, _) = try wait(cEvents, "service", { $0.code == 9 }) else { return }
        _ = try wait(cEvents, "service discovery end", { $0.code == 10 })
        say("central   ", "_IRQ_GATTC_SERVICE_RESULT \(serviceUUID) handles \(start)-\(end)")
        try central.gattcDiscoverCharacteristics(cHandle, start, end)
        guard case let .gattcCharacteristicResult(_, _, vh, props, uuid) = try wait(cEvents, "characteristic", { $0.code == 11 })
        else { return }
        _ = try wait(cEvents, "characteristic discovery end", { $0.code == 12 })
        say("central   ", "_IRQ_GATTC_CHARACTERISTIC_RESULT \(uuid) value handle \(vh) properties 0x\(String(props, radix: 16))")
        try central.gattcRead(cHandle, vh)
        if case let .gattcReadResult(_, _, data) = try wait(cEvents, "read", { $0.code == 15 }) {
            say("central   ", "_IRQ_GATTC_READ_RESULT \"\(String(decoding: data, as: UTF8.self))\"")
        }
        try central.gattcWrite(cHandle, vh + 1, [0x01, 0x00], .withResponse)  // its CCCD: notifications on
        _ = try wait(cEvents, "subscription", { $0.code == 17 })
        try peripheral.gattsWrite(valueHandle, Array("a notification".utf8), true)
        if case let .gattcNotify(_, _, data) = try wait(cEvents, "notification", { $0.code == 18 }) {
            say("central   ", "_IRQ_GATTC_NOTIFY \"\(String(decoding: data, as: UTF8.self))\"")
        }
        try central.gattcWrite(cHandle, vh, Array("hello from the central".utf8), .withResponse)
        _ = try wait(cEvents, "write", { $0.code == 17 })
        _ = try wait(pEvents, "gatts write", { $0.code == 3 })
        say("peripheral", "_IRQ_GATTS_WRITE \"\(String(decoding: peripheral.gattsRead(valueHandle), as: UTF8.self))\"")

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
