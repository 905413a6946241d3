/// A transport string, as given on the command line or in `BLE_TRANSPORT`:
///
/// | string                 | meaning                                              |
/// |------------------------|------------------------------------------------------|
/// | `virtual`              | a controller on the default in-process virtual radio |
/// | `virtual:NAME`         | a controller on the virtual radio called NAME        |
/// | `tcp:HOST:PORT`        | H4 over TCP (`tcp:127.0.0.1:9001`, `tcp:[::1]:9001`) |
/// | `serial:PATH[,BAUD]`   | H4 over a tty or pty (`serial:/dev/ttyUSB0,1000000`) |
/// | `hci:N`                | the Linux HCI user channel of controller hciN        |
public enum TransportSpec: Equatable, Sendable, CustomStringConvertible {
    case virtual(name: String?)
    case tcp(host: String, port: UInt16)
    case serial(path: String, baud: Int?)
    case hci(index: UInt16)

    /// The accepted forms, for error messages and help texts.
    public static let acceptedForms =
        "virtual, virtual:NAME, tcp:HOST:PORT, serial:PATH, serial:PATH,BAUD or hci:N"

    public init(parsing text: String) throws(TransportError) {
        func bad(_ why: String) -> TransportError {
            .invalidSpec("'\(text)': \(why); accepted forms: \(TransportSpec.acceptedForms) "
                         + "(for example tcp:127.0.0.1:9001, serial:/dev/ttyUSB0,1000000 or hci:0)")
        }
        let scheme: Substring
        let rest: Substring?
        if let colon = text.firstIndex(of: ":") {
            scheme = text[..<colon]
            rest = text[text.index(after: colon)...]
        } else {
            scheme = text[...]
            rest = nil
        }
        switch scheme {
        case "virtual":
            guard let rest else {
                self = .virtual(name: nil)
                return
            }
            guard !rest.isEmpty else { throw bad("the virtual radio name after 'virtual:' is empty") }
            self = .virtual(name: String(rest))

        case "tcp":
            guard let rest, !rest.isEmpty else { throw bad("tcp needs a host and a port, as in tcp:HOST:PORT") }
            let host: Substring
            let portText: Substring
            if rest.hasPrefix("[") {
                // Bracketed IPv6 literal: tcp:[::1]:9001
                guard let close = rest.firstIndex(of: "]") else { throw bad("missing ']' after the IPv6 address") }
                host = rest[rest.index(after: rest.startIndex)..<close]
                // "tcp:[[x]:1" would make host "[x", whose description "tcp:[x:1" cannot be
                // parsed back.
                if host.contains("[") { throw bad("'[' inside the brackets of an IPv6 address") }
                let after = rest[rest.index(after: close)...]
                guard after.hasPrefix(":") else { throw bad("a port must follow the IPv6 address, as in tcp:[::1]:9001") }
                portText = after.dropFirst()
            } else {
                guard let colon = rest.lastIndex(of: ":") else {
                    throw bad("the port is missing, as in tcp:\(rest):9001")
                }
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
                if host.contains(":") {
                    throw bad("put an IPv6 address in brackets, as in tcp:[\(host)]:\(portText)")
                }
            }
            guard !host.isEmpty else { throw bad("the host is empty") }
            guard let port = Self.decimal(portText, max: 65_535), port > 0 else {
                throw bad("the port '\(portText)' is not a number from 1 to 65535")
            }
            self = .tcp(host: String(host), port: UInt16(truncatingIfNeeded: port))

        case "serial":
            guard let rest, !rest.isEmpty else { throw bad("serial needs a device path, as in serial:/dev/ttyUSB0") }
            if let comma = rest.lastIndex(of: ",") {
                let path = rest[..<comma]
                let baudText = rest[rest.index(after: comma)...]
                guard !path.isEmpty else { throw bad("the device path is empty") }
                guard let baud = Self.decimal(baudText, max: 100_000_000) else {
                    throw bad("the baud rate '\(baudText)' is not a number")
                }
                guard SerialTransport.supportedBaudRates.contains(baud) else {
                    throw bad("the baud rate \(baud) is not supported; use one of "
                              + SerialTransport.supportedBaudRates.map(String.init).joined(separator: ", "))
                }
                self = .serial(path: String(path), baud: baud)
            } else {
                self = .serial(path: String(rest), baud: nil)
            }

        case "hci":
            guard let rest, !rest.isEmpty else { throw bad("hci needs a controller index, as in hci:0 for hci0") }
            var digits = rest
            if digits.hasPrefix("hci") { digits = digits.dropFirst(3) }
            guard let index = Self.decimal(digits, max: 0xFFFE) else {
                throw bad("the controller index '\(rest)' is not a number from 0 to 65534")
            }
            self = .hci(index: UInt16(truncatingIfNeeded: index))

        default:
            if text.isEmpty { throw bad("the transport string is empty") }
            throw bad("unknown transport kind '\(scheme)'")
        }
    }

    /// The transport string this value was parsed from (in canonical form).
    public var description: String {
        switch self {
        case .virtual(nil): return "virtual"
        case .virtual(let name?): return "virtual:\(name)"
        case .tcp(let host, let port):
            return host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
        case .serial(let path, nil): return "serial:\(path)"
        case .serial(let path, let baud?): return "serial:\(path),\(baud)"
        case .hci(let index): return "hci:\(index)"
        }
    }

    /// Makes the transport for a `tcp:`, `serial:` or `hci:` spec; nil for `virtual`, whose
    /// controllers are made by the simulator.
    public func makeTransport() -> (any HCITransport)? {
        switch self {
        case .virtual: return nil
        case .tcp(let host, let port): return TCPTransport(host: host, port: port)
        case .serial(let path, let baud): return SerialTransport(path: path, baud: baud)
        case .hci(let index): return HCIUserChannelTransport(index: index)
        }
    }

    /// A non-negative decimal number of at most `max`, or nil (no sign, no spaces, no overflow).
    private static func decimal(_ text: Substring, max: Int) -> Int? {
        guard !text.isEmpty, text.count <= 10 else { return nil }
        var value = 0
        for c in text.utf8 {
            guard c >= 0x30, c <= 0x39 else { return nil }
            value = value * 10 + Int(c - 0x30)
        }
        return value <= max ? value : nil
    }
}
