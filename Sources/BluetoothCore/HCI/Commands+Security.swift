// LE encryption (Core Vol 4 Part E 7.8.22-7.8.26): the controller's AES-128, its random numbers,
// and starting encryption on a link with a Long Term Key.

extension HCI {
    /// LE Encrypt (7.8.22): AES-128 of one block. Key and data are given least significant octet
    /// first, as on the wire.
    public struct LEEncrypt: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2017)
        public var key: [UInt8]
        public var plaintext: [UInt8]
        public init(key: [UInt8], plaintext: [UInt8]) {
            self.key = key
            self.plaintext = plaintext
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.padded(key, to: 16)
            w.padded(plaintext, to: 16)
        }
        public init(parameters r: inout ByteReader) throws {
            key = try r.bytes(16)
            plaintext = try r.bytes(16)
        }
        public struct Return: HCIReturnParameters, Equatable {
            public var encrypted: [UInt8]
            public init(encrypted: [UInt8]) { self.encrypted = encrypted }
            public init(returnParameters r: inout ByteReader) throws { encrypted = try r.bytes(16) }
            public func encode(into w: inout ByteWriter) { w.padded(encrypted, to: 16) }
        }
    }

    /// LE Rand (7.8.23): 8 random bytes.
    public struct LERand: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2018)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var random: UInt64
            public init(random: UInt64) { self.random = random }
            public init(returnParameters r: inout ByteReader) throws { random = try r.u64() }
            public func encode(into w: inout ByteWriter) { w.u64(random) }
        }
    }

    /// LE Enable Encryption (7.8.24): Command Status, then Encryption Change (or Encryption Key
    /// Refresh Complete when the link is already encrypted).
    public struct LEEnableEncryption: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2019)
        public static var completesWithStatus: Bool { true }
        public var handle: UInt16
        public var random: UInt64
        public var ediv: UInt16
        public var ltk: [UInt8]
        public init(handle: UInt16, random: UInt64, ediv: UInt16, ltk: [UInt8]) {
            self.handle = handle
            self.random = random
            self.ediv = ediv
            self.ltk = ltk
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(handle)
            w.u64(random)
            w.u16(ediv)
            w.padded(ltk, to: 16)
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u16()
            random = try r.u64()
            ediv = try r.u16()
            ltk = try r.bytes(16)
        }
    }

    /// LE Long Term Key Request Reply (7.8.25).
    public struct LELongTermKeyRequestReply: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x201A)
        public typealias Return = HandleReturn
        public var handle: UInt16
        public var ltk: [UInt8]
        public init(handle: UInt16, ltk: [UInt8]) {
            self.handle = handle
            self.ltk = ltk
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(handle)
            w.padded(ltk, to: 16)
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u16()
            ltk = try r.bytes(16)
        }
    }

    /// LE Long Term Key Request Negative Reply (7.8.26).
    public struct LELongTermKeyRequestNegativeReply: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x201B)
        public typealias Return = HandleReturn
        public var handle: UInt16
        public init(handle: UInt16) { self.handle = handle }
        public func encodeParameters(into w: inout ByteWriter) { w.u16(handle) }
        public init(parameters r: inout ByteReader) throws { handle = try r.u16() }
    }
}
