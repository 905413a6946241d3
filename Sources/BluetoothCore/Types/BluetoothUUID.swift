/// A Bluetooth UUID of 16, 32 or 128 bits. Equality, hashing and ordering follow the Bluetooth
/// meaning: a 16- or 32-bit UUID equals its 128-bit expansion on the Base UUID
/// (Core Vol 3 Part B 2.5.1). `bytes` keeps the width the UUID was made with.
public struct BluetoothUUID: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The 128-bit value, big-endian halves.
    public let high: UInt64
    public let low: UInt64
    /// 2, 4 or 16: the width this UUID was created with.
    public let width: Int

    static let baseHigh: UInt64 = 0x0000_0000_0000_1000
    static let baseLow: UInt64 = 0x8000_0080_5F9B_34FB

    public init(_ value: UInt16) {
        high = UInt64(value) << 32 | Self.baseHigh
        low = Self.baseLow
        width = 2
    }

    public init(integerLiteral value: UInt16) { self.init(value) }

    public init(uuid32 value: UInt32) {
        high = UInt64(value) << 32 | Self.baseHigh
        low = Self.baseLow
        width = 4
    }

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
        width = 16
    }

    /// `"180D"`, `"0x180d"`, `"32314241"`, `"6E400001-B5A3-F393-E0A9-E50E24DCCA9E"` (dashes optional).
    public init(_ string: String) throws {
        var s = Substring(string)
        if s.hasPrefix("0x") || s.hasPrefix("0X") { s = s.dropFirst(2) }
        let hex = s.filter { $0 != "-" }
        guard hex.allSatisfy(\.isHexDigit) else { throw UUIDError.invalidString(string) }
        // Dashes belong only to the 128-bit form.
        if hex.count != 32 && s.contains("-") { throw UUIDError.invalidString(string) }
        switch hex.count {
        case 4:
            guard let v = UInt16(hex, radix: 16) else { throw UUIDError.invalidString(string) }
            self.init(v)
        case 8 where !s.contains("-"):
            guard let v = UInt32(hex, radix: 16) else { throw UUIDError.invalidString(string) }
            self.init(uuid32: v)
        case 32:
            if s.contains("-") {
                // Dashes only in the canonical 8-4-4-4-12 places.
                let groups = s.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
                guard groups == [8, 4, 4, 4, 12] else { throw UUIDError.invalidString(string) }
            }
            let h = hex.prefix(16), l = hex.suffix(16)
            guard let hv = UInt64(h, radix: 16), let lv = UInt64(l, radix: 16) else {
                throw UUIDError.invalidString(string)
            }
            self.init(high: hv, low: lv)
        default:
            throw UUIDError.invalidString(string)
        }
    }

    /// 2, 4 or 16 bytes, little-endian as on the air.
    public init(bytes: [UInt8]) throws {
        switch bytes.count {
        case 2:
            self.init(UInt16(bytes[0]) | UInt16(bytes[1]) << 8)
        case 4:
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[i]) << (8 * i) }
            self.init(uuid32: v)
        case 16:
            var lo: UInt64 = 0, hi: UInt64 = 0
            for i in 0..<8 { lo |= UInt64(bytes[i]) << (8 * i) }
            for i in 0..<8 { hi |= UInt64(bytes[8 + i]) << (8 * i) }
            self.init(high: hi, low: lo)
        default:
            throw UUIDError.invalidLength(bytes.count)
        }
    }

    /// True when this is a 16- or 32-bit value on the Bluetooth Base UUID (whatever its width).
    public var isOnBase: Bool { low == Self.baseLow && high & 0xFFFF_FFFF == Self.baseHigh }

    /// The 16- or 32-bit value when on the Base UUID.
    public var shortValue: UInt32? { isOnBase ? UInt32(truncatingIfNeeded: high >> 32) : nil }

    /// Little-endian bytes in the width this UUID was made with.
    public var bytes: [UInt8] {
        switch width {
        case 2:
            let v = UInt16(truncatingIfNeeded: high >> 32)
            return [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)]
        case 4:
            let v = UInt32(truncatingIfNeeded: high >> 32)
            return (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
        default:
            return (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * $0)) }
        }
    }

    /// The shortest form: 2 bytes for a 16-bit value on the Base UUID, else 16 bytes (ATT carries
    /// only 16- and 128-bit UUIDs).
    public var attBytes: [UInt8] {
        if let s = shortValue, s <= 0xFFFF {
            return [UInt8(truncatingIfNeeded: s), UInt8(truncatingIfNeeded: s >> 8)]
        }
        return (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * $0)) }
    }

    /// As MicroPython prints it: `UUID(0x180d)`, `UUID(0x32314241)`,
    /// `UUID('6e400001-b5a3-f393-e0a9-e50e24dcca9e')`.
    public var description: String {
        if let s = shortValue {
            return "UUID(0x\(hex(UInt64(s), digits: s <= 0xFFFF ? 4 : 8)))"
        }
        let h = hex(high, digits: 16), l = hex(low, digits: 16)
        let full = h + l
        func part(_ a: Int, _ b: Int) -> Substring {
            full[full.index(full.startIndex, offsetBy: a)..<full.index(full.startIndex, offsetBy: b)]
        }
        return "UUID('\(part(0, 8))-\(part(8, 12))-\(part(12, 16))-\(part(16, 20))-\(part(20, 32))')"
    }

    public static func == (a: BluetoothUUID, b: BluetoothUUID) -> Bool { a.high == b.high && a.low == b.low }
    public func hash(into h: inout Hasher) {
        h.combine(high)
        h.combine(low)
    }
    public static func < (a: BluetoothUUID, b: BluetoothUUID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }
}

public enum UUIDError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidString(String)
    case invalidLength(Int)
    public var description: String {
        switch self {
        case .invalidString(let s):
            return "'\(s)' is not a UUID: use 4 hex digits (\"180D\"), 8 (\"32314241\") or the 36-character 128-bit form"
        case .invalidLength(let n): return "a UUID has 2, 4 or 16 bytes, got \(n)"
        }
    }
}

@inline(__always)
func hex(_ v: UInt64, digits: Int) -> String {
    let s = String(v, radix: 16)
    return s.count >= digits ? s : String(repeating: "0", count: digits - s.count) + s
}
