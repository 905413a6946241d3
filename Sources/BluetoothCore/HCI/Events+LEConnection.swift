// LE Meta subevents of the link-layer procedures on an established connection (Core Vol 4 Part E
// 7.7.65): remote features, the Connection Parameters Request procedure, the data length.

extension HCI {
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
