// Events of LE encryption (Core Vol 4 Part E 7.7.8, 7.7.39, 7.7.65.5).

extension HCI {
    /// Encryption Change [v1] (7.7.8).
    public struct EncryptionChange: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x08
        public var status: HCIStatus
        public var handle: UInt16
        public var enabled: UInt8
        public init(status: HCIStatus, handle: UInt16, enabled: UInt8) {
            self.status = status
            self.handle = handle
            self.enabled = enabled
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            handle = try r.u16()
            enabled = try r.u8()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u16(handle)
            w.u8(enabled)
        }
    }

    /// Encryption Key Refresh Complete (7.7.39).
    public struct EncryptionKeyRefreshComplete: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x30
        public var status: HCIStatus
        public var handle: UInt16
        public init(status: HCIStatus, handle: UInt16) {
            self.status = status
            self.handle = handle
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            handle = try r.u16()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u16(handle)
        }
    }

    /// LE Long Term Key Request (7.7.65.5).
    public struct LELongTermKeyRequest: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x05 }
        public var handle: UInt16
        public var random: UInt64
        public var ediv: UInt16
        public init(handle: UInt16, random: UInt64, ediv: UInt16) {
            self.handle = handle
            self.random = random
            self.ediv = ediv
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u16()
            random = try r.u64()
            ediv = try r.u16()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(handle)
            w.u64(random)
            w.u16(ediv)
        }
    }
}
