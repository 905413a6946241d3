// HCI events the virtual controller sends that the host codecs do not have yet (Core Vol 4 Part E
// 7.7). See SimCommands.swift for why they live in `HCI.Sim`.

extension HCI.Sim {
    /// Read Remote Version Information Complete (7.7.12).
    public struct ReadRemoteVersionInformationComplete: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x0C
        public var status: HCIStatus
        public var handle: UInt16
        public var version: UInt8
        public var manufacturer: UInt16
        public var subversion: UInt16
        public init(status: HCIStatus, handle: UInt16, version: UInt8, manufacturer: UInt16, subversion: UInt16) {
            self.status = status
            self.handle = handle
            self.version = version
            self.manufacturer = manufacturer
            self.subversion = subversion
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            handle = try r.u16()
            version = try r.u8()
            manufacturer = try r.u16()
            subversion = try r.u16()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u16(handle)
            w.u8(version)
            w.u16(manufacturer)
            w.u16(subversion)
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

    /// LE Read Remote Features Complete (7.7.65.4).
    public struct LEReadRemoteFeaturesComplete: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x04 }
        public var status: HCIStatus
        public var handle: UInt16
        public var features: LEFeatures
        public init(status: HCIStatus, handle: UInt16, features: LEFeatures) {
            self.status = status
            self.handle = handle
            self.features = features
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            handle = try r.u16()
            features = LEFeatures(rawValue: try r.u64())
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u16(handle)
            w.u64(features.rawValue)
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

    /// LE Remote Connection Parameter Request (7.7.65.6).
    public struct LERemoteConnectionParameterRequest: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x06 }
        public var handle: UInt16
        public var intervalMin: UInt16
        public var intervalMax: UInt16
        public var maxLatency: UInt16
        public var supervisionTimeout: UInt16
        public init(handle: UInt16, intervalMin: UInt16, intervalMax: UInt16, maxLatency: UInt16,
                    supervisionTimeout: UInt16) {
            self.handle = handle
            self.intervalMin = intervalMin
            self.intervalMax = intervalMax
            self.maxLatency = maxLatency
            self.supervisionTimeout = supervisionTimeout
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u16()
            intervalMin = try r.u16()
            intervalMax = try r.u16()
            maxLatency = try r.u16()
            supervisionTimeout = try r.u16()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(handle)
            w.u16(intervalMin)
            w.u16(intervalMax)
            w.u16(maxLatency)
            w.u16(supervisionTimeout)
        }
    }

    /// LE Data Length Change (7.7.65.7).
    public struct LEDataLengthChange: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x07 }
        public var handle: UInt16
        public var maxTxOctets: UInt16
        public var maxTxTime: UInt16
        public var maxRxOctets: UInt16
        public var maxRxTime: UInt16
        public init(handle: UInt16, maxTxOctets: UInt16, maxTxTime: UInt16, maxRxOctets: UInt16, maxRxTime: UInt16) {
            self.handle = handle
            self.maxTxOctets = maxTxOctets
            self.maxTxTime = maxTxTime
            self.maxRxOctets = maxRxOctets
            self.maxRxTime = maxRxTime
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u16()
            maxTxOctets = try r.u16()
            maxTxTime = try r.u16()
            maxRxOctets = try r.u16()
            maxRxTime = try r.u16()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(handle)
            w.u16(maxTxOctets)
            w.u16(maxTxTime)
            w.u16(maxRxOctets)
            w.u16(maxRxTime)
        }
    }
}
