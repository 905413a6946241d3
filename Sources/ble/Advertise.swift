import ArgumentParser
import Bluetooth
import Foundation

struct Advertise: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Advertise a name and report connections.")

    @OptionGroup var transport: TransportOption
    @Option(help: "The name to advertise.") var name: String = "swift-ble"
    @Option(parsing: .unconditional, help: "Advertising interval in ms (20...10240).") var intervalMs: Double = 100
    @Option(parsing: .unconditional, help: "Stop after this many seconds (0: until interrupted).") var duration: Double = 0
    @Flag(help: "Advertise as not connectable (ADV_SCAN_IND).") var nonConnectable = false

    func validate() throws {
        try OptionCheck.check(intervalMs, "--interval-ms", "milliseconds", in: 20...10_240)
        try OptionCheck.check(duration, "--duration", "seconds", in: 0...86_400, note: " (0: until interrupted)")
    }

    func run() throws {
        let ble = try transport.makeDevice()
        let intervalUs = OptionCheck.scaled(intervalMs, by: 1000)
        let connectable = !nonConnectable
        ble.irq { [ble] event in
            switch event {
            case let .centralConnect(handle, addrType, addr):
                print("central \(addr) (\(addrType)) connected, handle \(handle)")
            case let .centralDisconnect(handle, _, addr):
                print("central \(addr) disconnected, handle \(handle); advertising again")
                do {
                    try ble.gapAdvertise(intervalUs, connectable: connectable)
                } catch {
                    print("cannot advertise again: \(error)")
                }
            default:
                break
            }
            return nil
        }
        try ble.active(true)
        defer { _ = try? ble.active(false) }
        try ble.config(gapName: name)
        let adv = AdvertisingData.make(name: name)
        try ble.gapAdvertise(intervalUs, advData: adv, respData: [], connectable: connectable)
        let (type, mac) = try ble.config(.mac)
        print("advertising \"\(name)\" as \(mac) (\(type)) every \(intervalMs) ms on \(transport.transport)")
        // Until the duration ends (or forever), unless the controller goes away meanwhile.
        let end = duration > 0 ? Date(timeIntervalSinceNow: duration) : Date.distantFuture
        while Date() < end {
            Thread.sleep(until: min(end, Date(timeIntervalSinceNow: 0.25)))
            if let failure = ble.sessionFailure { throw CLIError(description: "advertising ended: \(failure)") }
        }
        try ble.gapAdvertise(nil)
        print("stopped")
    }
}
