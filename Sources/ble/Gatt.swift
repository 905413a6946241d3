import ArgumentParser
import Bluetooth
import Foundation

struct Gatt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to a device (by address or advertised name) and print its whole GATT database.")

    @OptionGroup var transport: TransportOption
    @Option(help: "The device's address (aa:bb:cc:dd:ee:ff).") var address: String?
    @Flag(help: "The address is a random address.") var random = false
    @Option(help: "Find the device by its advertised name instead.") var name: String?
    @Option(parsing: .unconditional, help: "Seconds to wait for each step (0.1...3600).") var timeout: Double = 10

    func validate() throws {
        try OptionCheck.check(timeout, "--timeout", "seconds", in: 0.1...3600)
    }

    func run() throws {
        let ble = try transport.makeDevice()
        let box = EventBox()
        ble.irq { e in
            box.push(e)
            return nil
        }
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        func wait(_ what: String, _ match: @escaping (BLE.Event) -> Bool) throws -> BLE.Event {
            let e = box.next(timeout: timeout, where: match)
            // The controller went away: every wait ends with it (its events report the end).
            if let failure = ble.sessionFailure { throw CLIError(description: "stopped waiting for \(what): \(failure)") }
            guard let e else { throw CLIError(description: "timed out waiting for \(what)") }
            return e
        }
        var target: (AddressType, BluetoothAddress)
        if let address {
            guard let a = BluetoothAddress(address) else { throw CLIError(description: "'\(address)' is not an address") }
            target = (random ? .random : .public, a)
        } else if let name {
            try ble.gapScan(OptionCheck.scaled(timeout, by: 1000), 30_000, 30_000, true)
            let found = try wait("a device named \"\(name)\"") { e in
                if case let .scanResult(_, _, _, _, data) = e { return AdvertisingData(parsing: data).name == name }
                return e == .scanDone
            }
            guard case let .scanResult(t, a, _, _, _) = found else {
                throw CLIError(description: "no device named \"\(name)\" found")
            }
            try ble.gapScan(nil)
            target = (t, a)
        } else {
            throw CLIError(description: "give --address or --name")
        }
        try ble.gapConnect(target.0, target.1, OptionCheck.scaled(timeout, by: 1000))
        guard case let .peripheralConnect(conn, _, _) = try wait("the connection", { $0.code == 7 || $0.code == 8 }) else {
            throw CLIError(description: "could not connect to \(target.1)")
        }
        print("connected to \(target.1) (\(target.0))")
        try ble.gattcExchangeMtu(conn)
        if case let .mtuExchanged(_, mtu) = try wait("the MTU exchange", { $0.code == 21 }) { print("MTU \(mtu)") }

        try ble.gattcDiscoverServices(conn)
        var services: [(UInt16, UInt16, BluetoothUUID)] = []
        while case let .gattcServiceResult(_, s, e, u) = try wait("services", { $0.code == 9 || $0.code == 10 }) {
            services.append((s, e, u))
        }
        for (start, end, uuid) in services {
            print("service \(uuid) handles \(start)-\(end)")
            try ble.gattcDiscoverCharacteristics(conn, start, end)
            var chars: [(UInt16, UInt16, UInt8, BluetoothUUID)] = []
            while case let .gattcCharacteristicResult(_, e, v, p, u) = try wait("characteristics", { $0.code == 11 || $0.code == 12 }) {
                chars.append((e, v, p, u))
            }
            for (charEnd, valueHandle, props, uuid) in chars {
                var line = "  characteristic \(uuid) value handle \(valueHandle) properties 0x\(String(format: "%02x", props))"
                if props & 0x02 != 0 {
                    try ble.gattcRead(conn, valueHandle)
                    let done = try wait("a read", { $0.code == 15 || $0.code == 16 })
                    if case let .gattcReadResult(_, _, data) = done {
                        _ = try wait("the read's end", { $0.code == 16 })
                        line += " value \(hexString(data))"
                        if let text = String(validating: data, as: UTF8.self), !text.isEmpty,
                           text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
                            line += " \"\(text)\""
                        }
                    } else if case let .gattcReadDone(_, _, status) = done {
                        line += " (read failed: ATT error 0x\(String(format: "%02x", status)))"
                    }
                }
                print(line)
                if charEnd > valueHandle {
                    try ble.gattcDiscoverDescriptors(conn, valueHandle, charEnd)
                    while case let .gattcDescriptorResult(_, h, u) = try wait("descriptors", { $0.code == 13 || $0.code == 14 }) {
                        print("    descriptor \(u) handle \(h)")
                    }
                }
            }
        }
        _ = try ble.gapDisconnect(conn)
        _ = box.next(timeout: timeout) { $0.code == 8 }
    }
}
