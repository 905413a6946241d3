/// A little-endian cursor over received bytes. Every read checks the length first and throws
/// `DecodeError.truncated` on short input: parsing never traps.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    /// Index in `bytes` of the next byte to read.
    public private(set) var offset: Int
    private let end: Int
    /// Where reading started (errors count from here).
    private let base: Int
    /// What is being parsed, for error messages ("LE Connection Complete").
    public let context: String

    public init(_ bytes: [UInt8], context: String = "") {
        self.init(bytes, startingAt: 0, context: context)
    }

    /// Reads `bytes` from index `start` on, without copying them (a header already read, say).
    public init(_ bytes: [UInt8], startingAt start: Int, context: String = "") {
        self.bytes = bytes
        self.base = min(max(start, 0), bytes.count)
        self.offset = base
        self.end = bytes.count
        self.context = context
    }

    public init(_ bytes: ArraySlice<UInt8>, context: String = "") {
        self.init(Array(bytes), context: context)
    }

    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset >= end }

    @inline(__always)
    private mutating func need(_ n: Int) throws {
        if n < 0 || remaining < n {
            throw DecodeError.truncated(context: context, needed: offset - base + max(n, 0), available: end - base)
        }
    }

    public mutating func u8() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func i8() throws -> Int8 { Int8(bitPattern: try u8()) }

    public mutating func u16() throws -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    public mutating func u24() throws -> UInt32 {
        try need(3)
        defer { offset += 3 }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
    }

    public mutating func u32() throws -> UInt32 {
        try need(4)
        defer { offset += 4 }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * i) }
        return v
    }

    public mutating func u64() throws -> UInt64 {
        try need(8)
        defer { offset += 8 }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * i) }
        return v
    }

    public mutating func bytes(_ n: Int) throws -> [UInt8] {
        try need(n)
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    /// All bytes left.
    public mutating func rest() -> [UInt8] {
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    /// A Bluetooth device address as sent on the wire (least significant byte first).
    public mutating func address() throws -> BluetoothAddress {
        let raw = try bytes(6)
        return BluetoothAddress(littleEndian: raw)
    }

    public mutating func skip(_ n: Int) throws {
        try need(n)
        offset += n
    }

    /// Throws if bytes are left over: for PDUs with a fixed length.
    public func expectEnd() throws {
        if remaining != 0 { throw DecodeError.invalid(context: context, reason: "\(remaining) unexpected trailing byte(s)") }
    }
}

/// Why bytes could not be parsed into a PDU.
public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(context: String, needed: Int, available: Int)
    case invalid(context: String, reason: String)

    public var description: String {
        switch self {
        case let .truncated(context, needed, available):
            return "\(context.isEmpty ? "PDU" : context) truncated: needs at least \(needed) bytes, got \(available)"
        case let .invalid(context, reason):
            return "\(context.isEmpty ? "PDU" : context) invalid: \(reason)"
        }
    }
}
