import BluetoothCore
import BluetoothSimulator
import BluetoothTransport

/// Makes the transport of one device from its transport string. A virtual controller is made once
/// and kept, so the device keeps its address across `active(false)`/`active(true)`, as a chip does.
final class TransportFactory: Sendable {
    let spec: TransportSpec
    let deviceIndex: Int
    private let virtualController: VirtualController?

    init(spec: TransportSpec, deviceIndex: Int) throws {
        self.spec = spec
        self.deviceIndex = deviceIndex
        if case .virtual(let name) = spec {
            virtualController = VirtualController(radio: VirtualRadio.named(name ?? "default"))
        } else {
            virtualController = nil
        }
    }

    func open() throws -> HCITransport {
        let base: HCITransport
        switch spec {
        case .virtual:
            guard let virtualController else { throw TransportError.unavailable("no virtual controller") }
            base = virtualController
        case let .tcp(host, port): base = TCPTransport(host: host, port: port)
        case let .serial(path, baud): base = SerialTransport(path: path, baud: baud)
        case let .hci(index): base = HCIUserChannelTransport(index: index)
        }
        if let writer = Snoop.fromEnvironment(deviceIndex: deviceIndex) {
            return SnoopingTransport(wrapping: base, writer: writer)
        }
        return base
    }
}
