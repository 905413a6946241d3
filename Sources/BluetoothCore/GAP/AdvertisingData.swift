/// Advertising and scan response data: a list of AD structures (length, type, data), Core
/// Supplement Part A. Builds payloads and reads fields back; malformed input ends the parse at the
/// last whole structure, never traps.
public struct AdvertisingData: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public var type: UInt8
        public var data: [UInt8]
        public init(type: UInt8, data: [UInt8]) {
            self.type = type
            self.data = data
        }
    }

    // AD types (Assigned Numbers 2.3).
    public static let flagsType: UInt8 = 0x01
    public static let incomplete16BitUUIDs: UInt8 = 0x02
    public static let complete16BitUUIDs: UInt8 = 0x03
    public static let complete128BitUUIDs: UInt8 = 0x07
    public static let shortenedLocalName: UInt8 = 0x08
    public static let completeLocalName: UInt8 = 0x09
    public static let appearanceType: UInt8 = 0x19
    public static let manufacturerSpecific: UInt8 = 0xFF

    /// LE General Discoverable, BR/EDR not supported.
    public static let generalDiscoverableFlags: UInt8 = 0x06

    public var fields: [Field]

    public init(fields: [Field] = []) { self.fields = fields }

    /// Parses AD structures; stops at a zero length (padding) or a structure that runs past the end.
    public init(parsing bytes: [UInt8]) {
        var fields: [Field] = []
        var i = 0
        while i < bytes.count {
            let len = Int(bytes[i])
            if len == 0 || i + 1 + len > bytes.count { break }
            fields.append(Field(type: bytes[i + 1], data: Array(bytes[(i + 2)..<(i + 1 + len)])))
            i += 1 + len
        }
        self.fields = fields
    }

    /// Flags, service UUIDs (one list per UUID size, Supplement Part A 1.1), manufacturer data,
    /// then the complete local name, or as much of it as fits in `limit` bytes, cut between
    /// characters and marked shortened (Supplement Part A 1.2).
    public static func make(flags: UInt8? = generalDiscoverableFlags, name: String? = nil, services: [BluetoothUUID] = [],
                            manufacturerData: [UInt8]? = nil, limit: Int = 31) -> [UInt8] {
        var ad = AdvertisingData()
        if let flags { ad.fields.append(Field(type: flagsType, data: [flags])) }
        let short = services.filter { $0.attBytes.count == 2 }.flatMap(\.attBytes)
        let long = services.filter { $0.attBytes.count == 16 }.flatMap(\.attBytes)
        if !short.isEmpty { ad.fields.append(Field(type: complete16BitUUIDs, data: short)) }
        if !long.isEmpty { ad.fields.append(Field(type: complete128BitUUIDs, data: long)) }
        if let manufacturerData { ad.fields.append(Field(type: manufacturerSpecific, data: manufacturerData)) }
        if let name {
            let room = max(0, limit - ad.bytes.count - 2)
            if name.utf8.count <= room {
                ad.fields.append(Field(type: completeLocalName, data: Array(name.utf8)))
            } else if room > 0 {
                var cut: [UInt8] = []
                for ch in name {
                    let b = Array(String(ch).utf8)
                    if cut.count + b.count > room { break }
                    cut += b
                }
                if !cut.isEmpty { ad.fields.append(Field(type: shortenedLocalName, data: cut)) }
            }
        }
        return ad.bytes
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for f in fields {
            out.append(UInt8(truncatingIfNeeded: f.data.count + 1))
            out.append(f.type)
            out.append(contentsOf: f.data)
        }
        return out
    }

    public func first(_ type: UInt8) -> [UInt8]? { fields.first { $0.type == type }?.data }

    /// The complete or shortened local name, if any (invalid UTF-8 is repaired).
    public var name: String? {
        guard let raw = first(AdvertisingData.completeLocalName) ?? first(AdvertisingData.shortenedLocalName) else {
            return nil
        }
        return String(decoding: raw, as: UTF8.self)
    }

    public var manufacturerData: [UInt8]? { first(AdvertisingData.manufacturerSpecific) }

    /// Every 16-, 32- and 128-bit service UUID listed.
    public var serviceUUIDs: [BluetoothUUID] {
        var out: [BluetoothUUID] = []
        for f in fields {
            let width: Int
            switch f.type {
            case 0x02, 0x03: width = 2
            case 0x04, 0x05: width = 4
            case 0x06, 0x07: width = 16
            default: continue
            }
            var i = 0
            while i + width <= f.data.count {
                if let u = try? BluetoothUUID(bytes: Array(f.data[i..<i + width])) { out.append(u) }
                i += width
            }
        }
        return out
    }
}
