import BluetoothCore
import Glibc

/// H4 over TCP (`tcp:HOST:PORT`), as served by Bumble's virtual controllers and by HCI bridges.
///
/// `open` resolves the host, connects with a timeout, sets TCP_NODELAY and starts a reader thread
/// that delivers packets in order. End of stream or an I/O error ends in one `didClose`.
public final class TCPTransport: HCITransport {
    public let host: String
    public let port: UInt16
    /// How long `open` may take to connect, over all the addresses the host resolves to.
    public let connectTimeoutMs: Int
    public let name: String
    private let link: DescriptorTransportLink

    public init(host: String, port: UInt16, connectTimeoutMs: Int = 5_000) {
        self.host = host
        self.port = port
        self.connectTimeoutMs = min(max(connectTimeoutMs, 1), 86_400_000)
        self.name = TransportSpec.tcp(host: host, port: port).description
        self.link = DescriptorTransportLink(name: name, options: .init(isSocket: true, packetPerWrite: false))
    }

    public func open(delegate: HCITransportDelegate) throws {
        try openTyped(delegate: delegate)
    }

    /// `open` with its error type spelled out.
    public func openTyped(delegate: HCITransportDelegate) throws(TransportError) {
        try link.open(delegate: delegate, makeDescriptor: connect)
    }

    public func send(_ packet: HCIPacket) {
        link.send(packet)
    }

    public func close() {
        link.close()
    }

    // MARK: Connecting

    private var endpoint: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Resolves `host` and connects to the first address that answers, within the timeout.
    private func connect() throws(TransportError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        if rc != 0 {
            let reason = rc == EAI_SYSTEM ? POSIX.describe(POSIX.errno) : String(cString: gai_strerror(rc))
            throw .openFailed("cannot resolve host '\(host)' of \(name): \(reason); use an IP address "
                              + "such as 127.0.0.1 or a name from /etc/hosts")
        }
        defer { freeaddrinfo(list) }

        let deadline = POSIX.monotonicNanoseconds() &+ UInt64(connectTimeoutMs) &* 1_000_000
        var lastError: TransportError = .openFailed("\(host) resolved to no usable address")
        var entry = list
        while let ai = entry?.pointee {
            entry = ai.ai_next
            guard let address = ai.ai_addr else { continue }
            switch connectOne(family: ai.ai_family, type: ai.ai_socktype, proto: ai.ai_protocol,
                              address: address, length: ai.ai_addrlen, deadline: deadline) {
            case .success(let fd):
                return fd
            case .failure(let error):
                lastError = error
                if POSIX.monotonicNanoseconds() >= deadline { throw error }
            }
        }
        throw lastError
    }

    private func connectOne(family: Int32, type: Int32, proto: Int32, address: UnsafeMutablePointer<sockaddr>,
                            length: socklen_t, deadline: UInt64) -> Result<Int32, TransportError> {
        let fd = socket(family, type | Int32(SOCK_CLOEXEC.rawValue), proto)
        if fd < 0 {
            return .failure(.openFailed("cannot create a TCP socket for \(endpoint): \(POSIX.describe(POSIX.errno))"))
        }
        let nb = POSIX.setNonBlocking(fd)
        if nb != 0 {
            POSIX.closeDescriptor(fd)
            return .failure(.openFailed("cannot configure the socket for \(endpoint): \(POSIX.describe(nb))"))
        }
        var err: Int32 = 0
        if Glibc.connect(fd, address, length) != 0 {
            err = POSIX.errno
            if err == EINPROGRESS || err == EINTR {
                err = waitForConnect(fd, deadline: deadline)
            }
        }
        if err != 0 {
            POSIX.closeDescriptor(fd)
            return .failure(connectError(err))
        }
        var one: Int32 = 1
        if setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            let e = POSIX.errno
            POSIX.closeDescriptor(fd)
            return .failure(.openFailed("cannot set TCP_NODELAY on \(endpoint): \(POSIX.describe(e))"))
        }
        return .success(fd)
    }

    /// Waits for a non-blocking connect to finish. Returns 0, the socket error, or ETIMEDOUT.
    private func waitForConnect(_ fd: Int32, deadline: UInt64) -> Int32 {
        let left = POSIX.millisecondsLeft(until: deadline, now: POSIX.monotonicNanoseconds())
        if left == 0 { return ETIMEDOUT }
        let r = POSIX.poll(fd, events: Int16(POLLOUT), timeoutMs: left)
        if r < 0 { return -r }
        if r == 0 { return ETIMEDOUT }
        var soError: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size) != 0 { return POSIX.errno }
        return soError
    }

    private func connectError(_ e: Int32) -> TransportError {
        switch e {
        case ECONNREFUSED:
            return .openFailed("connection refused by \(endpoint): no controller is listening there; "
                               + "start the controller (for example shared/interop controllers.py) or fix the port")
        case ETIMEDOUT:
            return .openFailed("no answer from \(endpoint) within \(connectTimeoutMs) ms (connect timed out); "
                               + "check the host, the port and any firewall")
        case ENETUNREACH, EHOSTUNREACH:
            return .openFailed("\(endpoint) cannot be reached (\(POSIX.describe(e))); check the host address")
        default:
            return .openFailed("cannot connect to \(endpoint): \(POSIX.describe(e))")
        }
    }
}
