import ArgumentParser
import Bluetooth
import Foundation

struct Advertise: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Advertise a name and report connections.")

    @OptionGroup var transport: TransportOption
    @Option(help: "The name to advertise.") var name: String = "swift-ble"
    @Option(help: "Advertising interval in ms.") var intervalMs: Double = 100
    @Option(help: "Stop after this many seconds (0: until interrupted).") var duration: Double = 0
    @Flag(help: "Advertise as not connectable (ADV_SCAN_IND).") var nonConnectable = false

    func run() throws {
        let ble = try transport.makeDevice()
        let intervalUs = Int(intervalMs * 1000)
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
        if duration > 0 {
            Thread.sleep(forTimeInterval: duration)
            try ble.gapAdvertise(nil)
            print("stopped")
        } else {
            while true { Thread.sleep(forTimeInterval: 3600) }
        }
    }
}
