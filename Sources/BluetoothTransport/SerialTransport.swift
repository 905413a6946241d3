import BluetoothCore
import Glibc

/// H4 over a tty or pty (`serial:PATH[,BAUD]`): a UART controller, or a virtual controller behind a
/// pseudo-terminal.
///
/// The device is opened with O_RDWR|O_NOCTTY and put in raw mode (no echo, no line editing, no
/// flow control, CLOCAL|CREAD). The baud rate is set only when given; modem lines (DTR/RTS) are
/// never touched, since a pty rejects those ioctls. A pty has no session notion: send HCI_Reset.
public final class SerialTransport: HCITransport {
    public let path: String
    public let baud: Int?
    public let name: String
    private let link: DescriptorTransportLink

    /// The baud rates `serial:PATH,BAUD` accepts.
    public static let supportedBaudRates: [Int] = [
        1_200, 2_400, 4_800, 9_600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 500_000,
        576_000, 921_600, 1_000_000, 1_152_000, 1_500_000, 2_000_000, 2_500_000, 3_000_000,
        3_500_000, 4_000_000,
    ]

    public init(path: String, baud: Int? = nil) {
        self.path = path
        self.baud = baud
        self.name = TransportSpec.serial(path: path, baud: baud).description
        self.link = DescriptorTransportLink(name: name, options: .init(isSocket: false, packetPerWrite: false))
    }

    /// The termios speed constant for `baud`, or `invalidSpec` listing the supported rates.
    public static func speed(forBaud baud: Int) throws(TransportError) -> speed_t {
        let value: Int32
        switch baud {
        case 1_200: value = B1200
        case 2_400: value = B2400
        case 4_800: value = B4800
        case 9_600: value = B9600
        case 19_200: value = B19200
        case 38_400: value = B38400
        case 57_600: value = B57600
        case 115_200: value = B115200
        case 230_400: value = B230400
        case 460_800: value = B460800
        case 500_000: value = B500000
        case 576_000: value = B576000
        case 921_600: value = B921600
        case 1_000_000: value = B1000000
        case 1_152_000: value = B1152000
        case 1_500_000: value = B1500000
        case 2_000_000: value = B2000000
        case 2_500_000: value = B2500000
        case 3_000_000: value = B3000000
        case 3_500_000: value = B3500000
        case 4_000_000: value = B4000000
        default:
            throw .invalidSpec("baud rate \(baud) is not supported; use one of "
                               + supportedBaudRates.map(String.init).joined(separator: ", "))
        }
        return speed_t(truncatingIfNeeded: value)
    }

    public func open(delegate: HCITransportDelegate) throws {
        try openTyped(delegate: delegate)
    }

    /// `open` with its error type spelled out.
    public func openTyped(delegate: HCITransportDelegate) throws(TransportError) {
        try link.open(delegate: delegate, makeDescriptor: openDevice)
    }

    public func send(_ packet: HCIPacket) {
        link.send(packet)
    }

    public func close() {
        link.close()
    }

    /// Opens the device and puts it in raw mode at the requested speed.
    private func openDevice() throws(TransportError) -> Int32 {
        let speed = try baud.map { (b) throws(TransportError) in try Self.speed(forBaud: b) }
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw openError(POSIX.errno) }
        do throws(TransportError) {
            try configure(fd, speed: speed)
        } catch {
            POSIX.closeDescriptor(fd)
            throw error
        }
        return fd
    }

    /// Raw mode, optional speed, no flow control; drops anything queued before we opened.
    private func configure(_ fd: Int32, speed: speed_t?) throws(TransportError) {
        var t = termios()
        if tcgetattr(fd, &t) != 0 {
            let e = POSIX.errno
            if e == ENOTTY || e == EINVAL {
                throw .openFailed("\(path) is not a serial device or pty (\(POSIX.describe(e))); "
                                  + "give the tty of a UART controller or the pty replica of a virtual one")
            }
            throw .openFailed("cannot read the terminal settings of \(path): \(POSIX.describe(e))")
        }
        cfmakeraw(&t)
        t.c_cflag |= tcflag_t(CLOCAL | CREAD)
        t.c_cflag &= ~Self.hardwareFlowControl
        t.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
        // Reads return as soon as one byte is there; the reader polls, so this never blocks it.
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            let vmin = Int(VMIN), vtime = Int(VTIME)
            if vmin < cc.count { cc[vmin] = 1 }
            if vtime < cc.count { cc[vtime] = 0 }
        }
        if let speed {
            if cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0 {
                throw .invalidSpec("\(path) does not accept baud rate \(baud ?? 0): \(POSIX.describe(POSIX.errno))")
            }
        }
        if tcsetattr(fd, TCSANOW, &t) != 0 {
            throw .openFailed("cannot put \(path) in raw mode: \(POSIX.describe(POSIX.errno))")
        }
        _ = tcflush(fd, TCIOFLUSH)
    }

    /// CRTSCTS (Linux value; the C macro does not import into Swift).
    private static let hardwareFlowControl: tcflag_t = 0o20000000000

    private func openError(_ e: Int32) -> TransportError {
        switch e {
        case ENOENT:
            return .openFailed("\(path) does not exist (\(POSIX.describe(e))); check the device path "
                               + "(a --pty symlink exists only while its controller runs)")
        case EACCES, EPERM:
            return .openFailed("no permission to open \(path) (\(POSIX.describe(e))); add the user to the "
                               + "'dialout' group or run as root")
        case EBUSY:
            return .openFailed("\(path) is in use by another program (\(POSIX.describe(e)))")
        case EISDIR:
            return .openFailed("\(path) is a directory, not a serial device")
        case ENXIO, ENODEV:
            return .openFailed("\(path) has no device behind it (\(POSIX.describe(e))); is the adapter plugged in, "
                               + "or the pty's controller still running?")
        default:
            return .openFailed("cannot open \(path): \(POSIX.describe(e))")
        }
    }
}
