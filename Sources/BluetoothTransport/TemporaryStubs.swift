// TEMPORARY: replaced by the real transports when the transport branch merges.
import BluetoothCore
public enum TransportSpec: Equatable, Sendable {
    case virtual(name: String?), tcp(host: String, port: UInt16), serial(path: String, baud: Int?), hci(index: UInt16)
    public init(parsing s: String) throws {
        if s == "virtual" { self = .virtual(name: nil); return }
        if s.hasPrefix("virtual:") { self = .virtual(name: String(s.dropFirst(8))); return }
        throw TransportError.invalidSpec(s)
    }
}
public final class TCPTransport: HCITransport, @unchecked Sendable {
    public let name = "tcp"
    public init(host: String, port: UInt16) {}
    public func open(delegate: HCITransportDelegate) throws { throw TransportError.unavailable("stub") }
    public func send(_ packet: HCIPacket) {}
    public func close() {}
}
public final class SerialTransport: HCITransport, @unchecked Sendable {
    public let name = "serial"
    public init(path: String, baud: Int?) {}
    public func open(delegate: HCITransportDelegate) throws { throw TransportError.unavailable("stub") }
    public func send(_ packet: HCIPacket) {}
    public func close() {}
}
public final class HCIUserChannelTransport: HCITransport, @unchecked Sendable {
    public let name = "hci"
    public init(index: UInt16) {}
    public func open(delegate: HCITransportDelegate) throws { throw TransportError.unavailable("stub") }
    public func send(_ packet: HCIPacket) {}
    public func close() {}
}
public final class BtsnoopWriter: @unchecked Sendable {}
public final class SnoopingTransport: HCITransport, @unchecked Sendable {
    public let name = "snoop"
    public init(wrapping: HCITransport, writer: BtsnoopWriter) {}
    public func open(delegate: HCITransportDelegate) throws {}
    public func send(_ packet: HCIPacket) {}
    public func close() {}
}
public enum Snoop { public static func fromEnvironment(deviceIndex: Int) -> BtsnoopWriter? { nil } }
