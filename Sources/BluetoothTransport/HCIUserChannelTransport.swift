import BluetoothCore
import Glibc

/// The Linux HCI user channel (`hci:N`): exclusive raw access to controller hciN through an
/// AF_BLUETOOTH / SOCK_RAW / BTPROTO_HCI socket bound to HCI_CHANNEL_USER. Every read and write
/// on it carries exactly one H4 packet (indicator byte first).
///
/// The kernel grants the channel only when the controller is down (not managed by bluetoothd)
/// and the process has CAP_NET_ADMIN.
public final class HCIUserChannelTransport: HCITransport {
    public let index: UInt16
    public let name: String
    private let link: DescriptorTransportLink

    static let addressFamilyBluetooth: Int32 = 31  // AF_BLUETOOTH
    static let protocolHCI: Int32 = 1              // BTPROTO_HCI
    static let channelUser: UInt16 = 1             // HCI_CHANNEL_USER

    public init(index: UInt16) {
        self.index = index
        self.name = TransportSpec.hci(index: index).description
        self.link = DescriptorTransportLink(name: name, options: .init(isSocket: true, packetPerWrite: true))
    }

    public func open(delegate: HCITransportDelegate) throws {
        try openTyped(delegate: delegate)
    }

    /// `open` with its error type spelled out.
    public func openTyped(delegate: HCITransportDelegate) throws(TransportError) {
        try link.open(delegate: delegate) { () throws(TransportError) in try Self.openUserChannel(index: index) }
    }

    public func send(_ packet: HCIPacket) {
        link.send(packet)
    }

    public func close() {
        link.close()
    }

    /// Creates the socket and binds it to the user channel of hci`index`. Returns the descriptor.
    static func openUserChannel(index: UInt16) throws(TransportError) -> Int32 {
        let fd = socket(addressFamilyBluetooth, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), protocolHCI)
        if fd < 0 { throw socketError(POSIX.errno) }

        // struct sockaddr_hci { sa_family_t hci_family; unsigned short hci_dev; unsigned short hci_channel; }
        var address = sockaddr_storage()
        withUnsafeMutableBytes(of: &address) { raw in
            raw.storeBytes(of: UInt16(truncatingIfNeeded: addressFamilyBluetooth), toByteOffset: 0, as: UInt16.self)
            raw.storeBytes(of: index, toByteOffset: 2, as: UInt16.self)
            raw.storeBytes(of: channelUser, toByteOffset: 4, as: UInt16.self)
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 6) }
        }
        if rc != 0 {
            let e = POSIX.errno
            POSIX.closeDescriptor(fd)
            throw bindError(e, index: index)
        }
        return fd
    }

    static func socketError(_ e: Int32) -> TransportError {
        switch e {
        case EAFNOSUPPORT, EPROTONOSUPPORT, ESOCKTNOSUPPORT, EOPNOTSUPP:
            return .unavailable("the kernel offers no Bluetooth sockets (AF_BLUETOOTH): \(POSIX.describe(e)); "
                                + "the bluetooth module is not loaded (try `sudo modprobe bluetooth`) or this "
                                + "container or VM has no Bluetooth; use tcp:HOST:PORT or serial:PATH to reach a "
                                + "controller instead")
        case EPERM, EACCES:
            return .openFailed("not allowed to create a Bluetooth HCI socket (\(POSIX.describe(e))); the HCI user "
                               + "channel needs CAP_NET_ADMIN: run as root or `sudo setcap cap_net_admin+ep BINARY` "
                               + "(a container also needs --cap-add NET_ADMIN and host networking)")
        default:
            return .openFailed("cannot create a Bluetooth HCI socket: \(POSIX.describe(e))")
        }
    }

    static func bindError(_ e: Int32, index: UInt16) -> TransportError {
        let dev = "hci\(index)"
        switch e {
        case ENODEV:
            return .openFailed("there is no controller \(dev) (\(POSIX.describe(e))); list the controllers with "
                               + "`ls /sys/class/bluetooth` or `btmgmt info`")
        case EBUSY:
            return .openFailed("\(dev) is in use by the kernel's Bluetooth stack (bluetoothd) (\(POSIX.describe(e))); "
                               + "take it down first: run `sudo hciconfig \(dev) down` (or "
                               + "`sudo btmgmt --index \(index) power off`), or stop bluetoothd")
        case EALREADY:
            return .openFailed("\(dev) is already taken by another HCI user channel (\(POSIX.describe(e))); "
                               + "stop the other program that uses it")
        case EPERM, EACCES:
            return .openFailed("opening the HCI user channel of \(dev) needs CAP_NET_ADMIN (\(POSIX.describe(e))); "
                               + "run as root or grant it with `sudo setcap cap_net_admin+ep BINARY`")
        case ERFKILL:
            return .openFailed("\(dev) is blocked by rfkill (\(POSIX.describe(e))); run `rfkill unblock bluetooth`")
        case EINVAL:
            return .openFailed("the kernel refused the HCI user channel of \(dev) (\(POSIX.describe(e))); "
                               + "it needs Linux 3.14 or later")
        default:
            return .openFailed("cannot bind the HCI user channel of \(dev): \(POSIX.describe(e))")
        }
    }
}
