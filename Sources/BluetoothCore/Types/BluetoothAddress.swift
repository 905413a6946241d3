/// A 48-bit Bluetooth device address, stored in display order: `bytes[0]` is the most significant
/// byte, as MicroPython's `addr` and as printed (`aa:bb:cc:dd:ee:ff`). On the wire (HCI, LL) the
/// order is reversed; use `littleEndianBytes` / `init(littleEndian:)` there.
public struct BluetoothAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    // Packed big-endian in the low 48 bits: cheap to hash, compare and copy.
    public let value: UInt64

    public static let zero = BluetoothAddress(value: 0)

    public init(value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    /// Exactly 6 bytes, most significant first.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == 6 else {
            throw AddressError.invalidLength(bytes.count)
        }
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        self.init(value: v)
    }

    /// Parses `"aa:bb:cc:dd:ee:ff"` (also with `-` separators); nil if malformed.
    public init?(_ string: String) {
        let parts = string.split(separator: ":", omittingEmptySubsequences: false)
        let groups = parts.count == 6 ? parts : string.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.count == 6 else { return nil }
        var v: UInt64 = 0
        for g in groups {
            guard g.count == 2, g.allSatisfy(\.isHexDigit), let b = UInt8(g, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        self.init(value: v)
    }

    /// From 6 bytes in wire order (least significant first). Callers pass exactly 6 bytes; extra
    /// bytes are ignored and missing ones read as zero.
    public init(littleEndian raw: [UInt8]) {
        var v: UInt64 = 0
        for i in 0..<min(6, raw.count) { v |= UInt64(raw[i]) << (8 * i) }
        self.init(value: v)
    }

    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: value >> (8 * (5 - $0))) } }
    public var littleEndianBytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    public var description: String {
        bytes.map { b in
            let s = String(b, radix: 16)
            return b < 16 ? "0" + s : s
        }.joined(separator: ":")
    }

    /// The two most significant bits of a random address tell its kind (Core Vol 6 Part B 1.3.2).
    public var randomKind: RandomAddressKind {
        switch value >> 46 {
        case 0b11: return .staticRandom
        case 0b01: return .resolvablePrivate
        case 0b00: return .nonResolvablePrivate
        default: return .reserved
        }
    }

    public static func < (a: BluetoothAddress, b: BluetoothAddress) -> Bool { a.value < b.value }
}

public enum RandomAddressKind: Sendable, Equatable {
    case staticRandom, resolvablePrivate, nonResolvablePrivate, reserved
}

public enum AddressError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidLength(Int)
    public var description: String {
        switch self {
        case .invalidLength(let n): return "a Bluetooth address has exactly 6 bytes, got \(n)"
        }
    }
}

/// The type of a peer address, as MicroPython reports it.
public enum AddressType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case `public` = 0
    case random = 1
    /// A failed or cancelled connection attempt.
    case unknown = 0xFF

    public var description: String {
        switch self {
        case .public: return "public"
        case .random: return "random"
        case .unknown: return "unknown"
        }
    }
}

/// Which address this device uses on the air.
public enum AddressMode: UInt8, Sendable, Hashable {
    case `public` = 0
    case random = 1
    case rpa = 2
    case nrpa = 3
}

/// Advertising PDU types as reported in scan results (legacy numbering).
public enum AdvType: UInt8, Sendable, Hashable {
    case advInd = 0
    case advDirectInd = 1
    case advScanInd = 2
    case advNonconnInd = 3
    case scanRsp = 4
}

public enum IOCapability: UInt8, Sendable, Hashable {
    case displayOnly = 0
    case displayYesNo = 1
    case keyboardOnly = 2
    case noInputOutput = 3
    case keyboardDisplay = 4
}
