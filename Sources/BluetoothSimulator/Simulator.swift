// TEMPORARY: replaced by the real simulator when the simulator branch merges.
import BluetoothCore
import BluetoothTransport
public final class VirtualRadio: Sendable {
    public static func named(_ name: String) -> VirtualRadio { VirtualRadio() }
    public init() {}
}
public final class VirtualController: HCITransport, @unchecked Sendable {
    public struct Configuration: Sendable { public init() {} }
    public let name = "virtual"
    public let publicAddress = BluetoothAddress.zero
    public init(radio: VirtualRadio, configuration: Configuration = .init()) {}
    public func open(delegate: HCITransportDelegate) throws {}
    public func send(_ packet: HCIPacket) {}
    public func close() {}
}
