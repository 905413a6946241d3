import BluetoothCore
import Synchronization

/// The part of `open`, `send` and `close` that every descriptor transport (TCP, serial, HCI user
/// channel) shares: at most one `DescriptorLink` at a time, on a descriptor the transport makes.
/// `open` is refused while the current link is open; once it has closed (locally or because the
/// controller went away) the transport may be opened again. The link is closed when the
/// transport goes away.
final class DescriptorTransportLink: Sendable {
    let name: String
    let options: DescriptorLink.Options
    private let link = Mutex<DescriptorLink?>(nil)

    init(name: String, options: DescriptorLink.Options) {
        self.name = name
        self.options = options
    }

    /// Makes a descriptor with `makeDescriptor` (which closes it itself when it fails), wraps it
    /// in a link that delivers to `delegate`, and starts the link's reader.
    func open(delegate: HCITransportDelegate,
              makeDescriptor: () throws(TransportError) -> Int32) throws(TransportError) {
        if let current = link.withLock({ $0 }), !current.isClosed {
            throw .openFailed("\(name) is already open")
        }
        let newLink = try DescriptorLink(name: name, fd: try makeDescriptor(), options: options)
        try newLink.start(delegate: delegate)
        link.withLock { $0 = newLink }
    }

    func send(_ packet: HCIPacket) {
        link.withLock { $0 }?.send(packet)
    }

    func close() {
        link.withLock { $0 }?.close()
    }

    deinit {
        close()
    }
}
