/// The H4 packet indicator (Core Vol 4 Part A 2): the byte that precedes every HCI packet on a UART.
public enum HCIPacketType: UInt8, Sendable {
    case command = 0x01
    case acl = 0x02
    case sco = 0x03
    case event = 0x04
    case iso = 0x05
}

/// One HCI packet: its type and its bytes (header included, H4 indicator excluded).
public struct HCIPacket: Sendable, Equatable {
    public var type: HCIPacketType
    public var bytes: [UInt8]

    public init(_ type: HCIPacketType, _ bytes: [UInt8]) {
        self.type = type
        self.bytes = bytes
    }

    /// The packet with its H4 indicator in front, as it travels on a UART or TCP.
    public var h4Bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + 1)
        out.append(type.rawValue)
        out.append(contentsOf: bytes)
        return out
    }
}

/// The 16-bit opcode of an HCI command: OGF in the top 6 bits, OCF in the low 10.
public struct HCIOpcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(ogf: UInt16, ocf: UInt16) { rawValue = (ogf & 0x3F) << 10 | (ocf & 0x3FF) }
    public var ogf: UInt16 { rawValue >> 10 }
    public var ocf: UInt16 { rawValue & 0x3FF }
    public var description: String {
        let name = HCI.commandNames[rawValue] ?? "Unknown"
        return "\(name) (0x\(hex(UInt64(rawValue), digits: 4)))"
    }
}

/// Connection handle and packet-boundary flags of an ACL data packet (Core Vol 4 Part E 5.4.2).
public struct ACLHeader: Sendable, Equatable {
    public enum Boundary: UInt8, Sendable {
        /// First non-automatically-flushable fragment (host to controller only).
        case firstNonFlushable = 0b00
        case continuing = 0b01
        /// First automatically flushable fragment: what LE controllers send to the host.
        case firstFlushable = 0b10
        case complete = 0b11
    }
    public var handle: UInt16
    public var boundary: Boundary
    public var broadcast: UInt8
    public var length: UInt16

    public init(handle: UInt16, boundary: Boundary, broadcast: UInt8 = 0, length: UInt16) {
        self.handle = handle & 0x0FFF
        self.boundary = boundary
        self.broadcast = broadcast & 0x3
        self.length = length
    }

    public static let size = 4

    /// Parses the 4-byte header; the payload starts at offset 4.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count >= 4 else {
            throw DecodeError.truncated(context: "ACL header", needed: 4, available: bytes.count)
        }
        let hf = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        handle = hf & 0x0FFF
        // Two bits can hold every raw value of Boundary, so this cannot fail.
        boundary = Boundary(rawValue: UInt8((hf >> 12) & 0x3)) ?? .continuing
        broadcast = UInt8((hf >> 14) & 0x3)
        length = UInt16(bytes[2]) | UInt16(bytes[3]) << 8
    }

    public func encode(into w: inout ByteWriter) {
        w.u16(handle | UInt16(boundary.rawValue) << 12 | UInt16(broadcast) << 14)
        w.u16(length)
    }

    /// A whole ACL packet: header plus `payload`.
    public static func packet(handle: UInt16, boundary: Boundary, payload: ArraySlice<UInt8>) -> [UInt8] {
        var w = ByteWriter(capacity: payload.count + 4)
        ACLHeader(handle: handle, boundary: boundary, length: UInt16(truncatingIfNeeded: payload.count)).encode(into: &w)
        w.append(payload)
        return w.bytes
    }
}
