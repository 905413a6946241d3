import BluetoothCore

/// Where a transport delivers what the controller sends. Called on the transport's own thread
/// (or the virtual radio's executor), in order, one packet at a time.
public protocol HCITransportDelegate: AnyObject, Sendable {
    func transport(didReceive packet: HCIPacket)
    /// The transport is gone (peer closed, I/O error, bad framing). Called at most once; nothing is
    /// delivered after it.
    func transport(didClose error: TransportError?)
}

/// A byte pipe to one HCI controller.
public protocol HCITransport: AnyObject, Sendable {
    /// A short description for logs and errors (`tcp:127.0.0.1:9001`).
    var name: String { get }
    /// Opens the transport and starts delivering packets to `delegate`. Throws `TransportError`
    /// with a message a person can act on when the controller cannot be reached.
    func open(delegate: HCITransportDelegate) throws
    /// Sends one packet to the controller. Never blocks indefinitely; errors end in `didClose`.
    func send(_ packet: HCIPacket)
    /// Closes the transport. Idempotent; `didClose` is not called for a local close.
    func close()
}

public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The transport string is malformed.
    case invalidSpec(String)
    /// The controller could not be opened (connection refused, no such device, no permission...).
    case openFailed(String)
    /// The link to the controller broke (EOF, I/O error).
    case closed(String)
    /// The byte stream is not valid H4 (unknown packet indicator, impossible length).
    case framing(String)
    /// This kernel or platform cannot provide the transport.
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidSpec(let s): return "invalid transport: \(s)"
        case .openFailed(let s): return "cannot open transport: \(s)"
        case .closed(let s): return "transport closed: \(s)"
        case .framing(let s): return "HCI framing error: \(s)"
        case .unavailable(let s): return "transport unavailable: \(s)"
        }
    }
}
