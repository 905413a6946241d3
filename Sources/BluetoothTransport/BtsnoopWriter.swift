import BluetoothCore
import Glibc
import Synchronization

/// Writes a btsnoop capture (the format of Android's HCI snoop log, read by Wireshark, tshark and
/// `bumble-show`), with datalink 1002: each record holds one packet with its H4 indicator.
///
/// Thread-safe: records from several threads are serialised by a lock and written whole, one
/// `write` per record, so the file is readable up to the last record at any time. A write error
/// never traps: it is reported once on standard error and capturing stops.
public final class BtsnoopWriter: Sendable {
    /// Which way a packet went.
    public enum Direction: Sendable {
        /// Host to controller (commands, outgoing ACL).
        case sent
        /// Controller to host (events, incoming ACL).
        case received
    }

    /// `btsnoop\0`, version 1, datalink 1002 (HCI UART / H4).
    public static let fileHeader: [UInt8] = [
        0x62, 0x74, 0x73, 0x6E, 0x6F, 0x6F, 0x70, 0x00,  // "btsnoop\0"
        0x00, 0x00, 0x00, 0x01,                          // version 1
        0x00, 0x00, 0x03, 0xEA,                          // datalink 1002
    ]
    /// Microseconds from 0 AD (the btsnoop time origin) to the Unix epoch.
    public static let epochOffsetMicroseconds: Int64 = 0x00DC_DDB3_0F2F_8000
    /// Bytes before the packet in each record.
    public static let recordHeaderSize = 24

    private struct State: Sendable {
        var fd: Int32
        var buffer: [UInt8] = []
        var records = 0
        var failure: String?
    }

    public let path: String
    private let state: Mutex<State>

    /// Creates (or truncates) the capture at `path` and writes the file header.
    public convenience init(path: String) throws(TransportError) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw .openFailed("cannot create the btsnoop capture '\(path)': \(POSIX.describe(POSIX.errno)); "
                              + "check that the folder exists and is writable")
        }
        try self.init(takingDescriptor: fd, path: path, writeHeader: true)
    }

    /// Captures into an already open descriptor (which the writer then owns), for tests and for
    /// special files; `writeHeader` false assumes the header is already there.
    init(takingDescriptor fd: Int32, path: String, writeHeader: Bool) throws(TransportError) {
        self.path = path
        var s = State(fd: fd)
        s.buffer.reserveCapacity(256)
        if writeHeader, let e = Self.writeAll(fd, Self.fileHeader) {
            POSIX.closeDescriptor(fd)
            throw .openFailed("cannot write the btsnoop header to '\(path)': \(POSIX.describe(e))")
        }
        state = Mutex(s)
    }

    deinit {
        state.withLock { s in
            POSIX.closeDescriptor(s.fd)
            s.fd = -1
        }
    }

    /// Appends one record; `unixMicroseconds` defaults to now.
    public func write(_ packet: HCIPacket, direction: Direction, unixMicroseconds: Int64? = nil) {
        let time = unixMicroseconds ?? POSIX.realtimeMicroseconds()
        let message: String? = state.withLock { s in
            guard s.fd >= 0, s.failure == nil else { return nil }
            s.buffer.removeAll(keepingCapacity: true)
            Self.appendRecord(packet, direction: direction, unixMicroseconds: time, to: &s.buffer)
            if let e = Self.writeAll(s.fd, s.buffer) {
                let text = "btsnoop: writing '\(path)' failed (\(POSIX.describe(e))); capture stopped\n"
                s.failure = text
                POSIX.closeDescriptor(s.fd)
                s.fd = -1
                return text
            }
            s.records += 1
            return nil
        }
        if let message { Self.logToStandardError(message) }
    }

    /// True while records are being written (not closed, no write error).
    public var isCapturing: Bool { state.withLock { $0.fd >= 0 && $0.failure == nil } }
    /// The write error that stopped capturing, if any.
    public var failure: String? { state.withLock { $0.failure } }
    /// Records written so far.
    public var recordCount: Int { state.withLock { $0.records } }

    /// Stops capturing and closes the file. Idempotent.
    public func close() {
        state.withLock { s in
            POSIX.closeDescriptor(s.fd)
            s.fd = -1
        }
    }

    /// The flags word: bit 0 set for controller to host, bit 1 set for commands and events.
    public static func flags(for type: HCIPacketType, direction: Direction) -> UInt32 {
        let received: UInt32 = direction == .received ? 1 : 0
        let commandOrEvent: UInt32 = (type == .command || type == .event) ? 2 : 0
        return received | commandOrEvent
    }

    /// The bytes of one record (header, H4 indicator, packet) appended to `out`.
    public static func appendRecord(_ packet: HCIPacket, direction: Direction, unixMicroseconds: Int64,
                                    to out: inout [UInt8]) {
        let length = UInt32(truncatingIfNeeded: packet.bytes.count + 1)
        appendBigEndian(length, to: &out)  // original length
        appendBigEndian(length, to: &out)  // included length
        appendBigEndian(flags(for: packet.type, direction: direction), to: &out)
        appendBigEndian(UInt32(0), to: &out)  // cumulative drops
        appendBigEndian(UInt64(bitPattern: unixMicroseconds &+ epochOffsetMicroseconds), to: &out)
        out.append(packet.type.rawValue)
        out.append(contentsOf: packet.bytes)
    }

    /// The bytes of one record.
    public static func record(_ packet: HCIPacket, direction: Direction, unixMicroseconds: Int64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(recordHeaderSize + packet.bytes.count + 1)
        appendRecord(packet, direction: direction, unixMicroseconds: unixMicroseconds, to: &out)
        return out
    }

    private static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        var shift = T.bitWidth - 8
        while shift >= 0 {
            out.append(UInt8(truncatingIfNeeded: value >> shift))
            shift -= 8
        }
    }

    /// Writes everything, retrying EINTR and short writes. Returns errno on failure.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { raw -> Int32? in
            guard let base = raw.baseAddress else { return nil }
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, base + done, raw.count - done)
                if n > 0 {
                    done += n
                } else if n < 0 && POSIX.errno == EINTR {
                    continue
                } else {
                    return n < 0 ? POSIX.errno : ENOSPC
                }
            }
            return nil
        }
    }

    static func logToStandardError(_ text: String) {
        var copy = text
        copy.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            _ = Glibc.write(2, base, utf8.count)
        }
    }
}
