import BluetoothCore
import BluetoothHost
import Foundation
import BluetoothSimulator
import BluetoothTransport

/// Makes the transport of one device from its transport string. A virtual controller is made once
/// and kept, so the device keeps its address across `active(false)`/`active(true)`, as a chip does.
final class TransportFactory: Sendable {
    let spec: TransportSpec?
    let deviceIndex: Int
    /// The virtual controller of a `virtual` spec, or a transport given by the caller.
    private let fixed: HCITransport?

    init(spec: TransportSpec, deviceIndex: Int) throws {
        self.spec = spec
        self.deviceIndex = deviceIndex
        if case .virtual(let name) = spec {
            fixed = VirtualController(radio: VirtualRadio.named(name ?? "default"))
        } else {
            fixed = nil
        }
    }

    init(transport: HCITransport, deviceIndex: Int) {
        spec = nil
        self.deviceIndex = deviceIndex
        fixed = transport
    }

    /// The virtual controller behind this device, if it has one.
    var virtualController: VirtualController? { fixed as? VirtualController }

    func open() throws -> HCITransport {
        let base: HCITransport
        switch spec {
        case .none, .virtual:
            guard let fixed else { throw TransportError.unavailable("no controller") }
            base = fixed
        case let .tcp(host, port): base = TCPTransport(host: host, port: port)
        case let .serial(path, baud): base = SerialTransport(path: path, baud: baud)
        case let .hci(index): base = HCIUserChannelTransport(index: index)
        }
        if let path = capturePath.value {
            return SnoopingTransport(wrapping: base, writer: try Self.captureWriter(path, givenBy: "capture(to:)"))
        }
        if let template = ProcessEnvironment.get(Snoop.environmentVariable), !template.isEmpty {
            let path = Snoop.path(forDevice: deviceIndex, template: template)
            return SnoopingTransport(wrapping: base,
                                     writer: try Self.captureWriter(path, givenBy: "\(Snoop.environmentVariable)=\(template)"))
        }
        return base
    }

    /// A writer for a capture that was asked for: when the file cannot be created, `active(true)`
    /// fails with an error naming where the path came from (not "cannot open transport": the
    /// controller is fine), rather than running on without the capture.
    private static func captureWriter(_ path: String, givenBy origin: String) throws -> BtsnoopWriter {
        do {
            return try BtsnoopWriter(path: path)
        } catch {
            let why: String
            switch error {
            case let .openFailed(s): why = s
            default: why = error.description
            }
            throw BLEError.io("\(origin): \(why)")
        }
    }

    /// A btsnoop file to write from the next activation on (overrides `BLE_SNOOP`).
    let capturePath = Locked<String?>(nil)
}

/// A value behind a lock.
final class Locked<Value: Sendable>: @unchecked Sendable {
    // Safe: `stored` is only touched under `lock`.
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&stored)
    }
    var value: Value {
        get {
            lock.lock()
            defer { lock.unlock() }
            return stored
        }
        set {
            lock.lock()
            stored = newValue
            lock.unlock()
        }
    }
}
