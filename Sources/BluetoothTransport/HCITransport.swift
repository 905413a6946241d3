import BluetoothCore

/// Where a transport delivers what the controller sends. Called on the transport's own thread
/// (or the virtual radio's executor), in order, one packet at a time.
public protocol HCITransportDelegate: AnyObject, Sendable {
    func transport(didReceive packet: HCIPacket)
    /// The transport is gone (peer closed, I/O error, bad framing). Called at most once; nothing is
    /// delivered after it.
    func transport(didClose error: TransportError?)
}

/// A delegate whose inbox is bounded (the host's). A transport that can hold packets back (the
/// virtual controller, as a UART controller does when the host deasserts RTS) delivers at most
/// `room` packets and, when there is none, waits for `whenReady`. Transports that read a file
/// descriptor need not: `transport(didReceive:)` itself blocks their reader thread while the inbox
/// is full, so the socket buffer, the TCP window or the UART's flow control push back.
public protocol HCIFlowControlledDelegate: HCITransportDelegate {
    /// How many packets delivered now would be taken without waiting (only the one transport
    /// delivering can use it up, so it stays true until that transport delivers).
    var room: Int { get }
    /// Runs `ready` once, on any thread, when the inbox has room again (at once if it has now).
    func whenReady(_ ready: @escaping @Sendable () -> Void)
    /// Several packets at once, in order (at most `room` of them): one hand-over for a burst.
    func transport(didReceiveAll packets: ArraySlice<HCIPacket>)
}

extension HCIFlowControlledDelegate {
    public func transport(didReceiveAll packets: ArraySlice<HCIPacket>) {
        for p in packets { transport(didReceive: p) }
    }
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
    /// The virtual-time executor the controller runs on, if it does (a virtual controller on a
    /// virtual-time radio): a host on it must run there too. Wrappers forward it.
    var executor: VirtualTimeExecutor? { get }
}

extension HCITransport {
    public var executor: VirtualTimeExecutor? { nil }
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
