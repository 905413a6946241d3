// LE link-layer procedures on an established connection (Core Vol 4 Part E 7.8): the remote
// features, the Connection Parameters Request procedure, and the data length.

extension HCI {
    /// LE Read Remote Features (7.8.21): Command Status, then LE Read Remote Features Complete.
    public struct LEReadRemoteFeatures: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2016)
        public static var completesWithStatus: Bool { true }
        public var handle: UInt16
        public init(handle: UInt16) { self.handle = handle }
        public func encodeParameters(into w: inout ByteWriter) { w.u16(handle) }
        public init(parameters r: inout ByteReader) throws { handle = try r.u16() }
    }

    /// LE Remote Connection Parameter Request Reply (7.8.31).
    public struct LERemoteConnectionParameterRequestReply: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2020)
        public typealias Return = HandleReturn
        public var handle: UInt16
        public var intervalMin: UInt16
        public var intervalMax: UInt16
        public var maxLatency: UInt16
        public var supervisionTimeout: UInt16
        public var minCELength: UInt16
        public var maxCELength: UInt16
        public init(handle: UInt16, intervalMin: UInt16, intervalMax: UInt16, maxLatency: UInt16,
                    supervisionTimeout: UInt16, minCELength: UInt16 = 0, maxCELength: UInt16 = 0) {
            self.handle = handle
            self.intervalMin = intervalMin
            self.intervalMax = intervalMax
            self.maxLatency = maxLatency
            self.supervisionTimeout = supervisionTimeout
            self.minCELength = minCELength
            self.maxCELength = maxCELength
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(handle)
            w.u16(intervalMin)
            w.u16(intervalMax)
            w.u16(maxLatency)
            w.u16(supervisionTimeout)
            w.u16(minCELength)
            w.u16(maxCELength)
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u16()
            intervalMin = try r.u16()
            intervalMax = try r.u16()
            maxLatency = try r.u16()
            supervisionTimeout = try r.u16()
            minCELength = try r.u16()
            maxCELength = try r.u16()
        }
    }

    /// LE Remote Connection Parameter Request Negative Reply (7.8.32).
    public struct LERemoteConnectionParameterRequestNegativeReply: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2021)
        public typealias Return = HandleReturn
        public var handle: UInt16
        public var reason: HCIStatus
        public init(handle: UInt16, reason: HCIStatus = .unacceptableConnectionParameters) {
            self.handle = handle
            self.reason = reason
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(handle)
            w.u8(reason.rawValue)
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u16()
            reason = HCIStatus(try r.u8())
        }
    }

    /// LE Set Data Length (7.8.33).
    public struct LESetDataLength: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2022)
        public typealias Return = HandleReturn
        public var handle: UInt16
        public var txOctets: UInt16
        public var txTime: UInt16
        public init(handle: UInt16, txOctets: UInt16, txTime: UInt16) {
            self.handle = handle
            self.txOctets = txOctets
            self.txTime = txTime
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(handle)
            w.u16(txOctets)
            w.u16(txTime)
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u16()
            txOctets = try r.u16()
            txTime = try r.u16()
        }
    }

    /// LE Read Suggested Default Data Length (7.8.34).
    public struct LEReadSuggestedDefaultDataLength: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2023)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var maxTxOctets: UInt16
            public var maxTxTime: UInt16
            public init(maxTxOctets: UInt16, maxTxTime: UInt16) {
                self.maxTxOctets = maxTxOctets
                self.maxTxTime = maxTxTime
            }
            public init(returnParameters r: inout ByteReader) throws {
                maxTxOctets = try r.u16()
                maxTxTime = try r.u16()
            }
            public func encode(into w: inout ByteWriter) {
                w.u16(maxTxOctets)
                w.u16(maxTxTime)
            }
        }
    }

    /// LE Write Suggested Default Data Length (7.8.35).
    public struct LEWriteSuggestedDefaultDataLength: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2024)
        public var maxTxOctets: UInt16
        public var maxTxTime: UInt16
        public init(maxTxOctets: UInt16, maxTxTime: UInt16) {
            self.maxTxOctets = maxTxOctets
            self.maxTxTime = maxTxTime
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(maxTxOctets)
            w.u16(maxTxTime)
        }
        public init(parameters r: inout ByteReader) throws {
            maxTxOctets = try r.u16()
            maxTxTime = try r.u16()
        }
    }

    /// LE Read Maximum Data Length (7.8.46).
    public struct LEReadMaximumDataLength: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x202F)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var maxTxOctets: UInt16
            public var maxTxTime: UInt16
            public var maxRxOctets: UInt16
            public var maxRxTime: UInt16
            public init(maxTxOctets: UInt16, maxTxTime: UInt16, maxRxOctets: UInt16, maxRxTime: UInt16) {
                self.maxTxOctets = maxTxOctets
                self.maxTxTime = maxTxTime
                self.maxRxOctets = maxRxOctets
                self.maxRxTime = maxRxTime
            }
            public init(returnParameters r: inout ByteReader) throws {
                maxTxOctets = try r.u16()
                maxTxTime = try r.u16()
                maxRxOctets = try r.u16()
                maxRxTime = try r.u16()
            }
            public func encode(into w: inout ByteWriter) {
                w.u16(maxTxOctets)
                w.u16(maxTxTime)
                w.u16(maxRxOctets)
                w.u16(maxRxTime)
            }
        }
    }
}
