// LE controller commands with legacy advertising, scanning and connection creation, and the
// controller's LE buffers, features and supported states (Core Vol 4 Part E 7.8).

extension HCI {
    /// LE Set Event Mask (7.8.1). Bit n enables LE subevent n+1.
    public struct LESetEventMask: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2001)
        public var mask: UInt64
        /// Connection Complete, Advertising Report, Connection Update Complete, Read Remote
        /// Features Complete, LTK Request, Data Length Change, PHY Update Complete, Extended
        /// Advertising Report, Scan Timeout, Advertising Set Terminated.
        public static let hostDefault: UInt64 = 0x3185F
        public init(mask: UInt64) { self.mask = mask }
        public func encodeParameters(into w: inout ByteWriter) { w.u64(mask) }
        public init(parameters r: inout ByteReader) throws { mask = try r.u64() }
    }

    /// LE Read Buffer Size [v1] (7.8.2). A length of 0 means LE shares the BR/EDR buffers.
    public struct LEReadBufferSize: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2002)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var aclDataPacketLength: UInt16
            public var totalNumACLDataPackets: UInt8
            public init(aclDataPacketLength: UInt16, totalNumACLDataPackets: UInt8) {
                self.aclDataPacketLength = aclDataPacketLength
                self.totalNumACLDataPackets = totalNumACLDataPackets
            }
            public init(returnParameters r: inout ByteReader) throws {
                aclDataPacketLength = try r.u16()
                totalNumACLDataPackets = try r.u8()
            }
            public func encode(into w: inout ByteWriter) {
                w.u16(aclDataPacketLength)
                w.u8(totalNumACLDataPackets)
            }
        }
    }

    /// LE Read Buffer Size [v2] (7.8.2): also the ISO buffers.
    public struct LEReadBufferSizeV2: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2060)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var aclDataPacketLength: UInt16
            public var totalNumACLDataPackets: UInt8
            public var isoDataPacketLength: UInt16
            public var totalNumISODataPackets: UInt8
            public init(aclDataPacketLength: UInt16, totalNumACLDataPackets: UInt8, isoDataPacketLength: UInt16,
                        totalNumISODataPackets: UInt8) {
                self.aclDataPacketLength = aclDataPacketLength
                self.totalNumACLDataPackets = totalNumACLDataPackets
                self.isoDataPacketLength = isoDataPacketLength
                self.totalNumISODataPackets = totalNumISODataPackets
            }
            public init(returnParameters r: inout ByteReader) throws {
                aclDataPacketLength = try r.u16()
                totalNumACLDataPackets = try r.u8()
                isoDataPacketLength = try r.u16()
                totalNumISODataPackets = try r.u8()
            }
            public func encode(into w: inout ByteWriter) {
                w.u16(aclDataPacketLength)
                w.u8(totalNumACLDataPackets)
                w.u16(isoDataPacketLength)
                w.u8(totalNumISODataPackets)
            }
        }
    }

    /// LE Read Local Supported Features (7.8.3).
    public struct LEReadLocalSupportedFeatures: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2003)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var features: LEFeatures
            public init(features: LEFeatures) { self.features = features }
            public init(returnParameters r: inout ByteReader) throws { features = LEFeatures(rawValue: try r.u64()) }
            public func encode(into w: inout ByteWriter) { w.u64(features.rawValue) }
        }
    }

    /// LE Set Random Address (7.8.4).
    public struct LESetRandomAddress: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2005)
        public var address: BluetoothAddress
        public init(address: BluetoothAddress) { self.address = address }
        public func encodeParameters(into w: inout ByteWriter) { w.address(address) }
        public init(parameters r: inout ByteReader) throws { address = try r.address() }
    }

    /// Legacy advertising PDU types of LE Set Advertising Parameters.
    public enum LegacyAdvertisingType: UInt8, Sendable {
        case advInd = 0x00
        case advDirectIndHighDuty = 0x01
        case advScanInd = 0x02
        case advNonconnInd = 0x03
        case advDirectIndLowDuty = 0x04
    }

    /// LE Set Advertising Parameters (7.8.5). Intervals in 0.625 ms units.
    public struct LESetAdvertisingParameters: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2006)
        public var intervalMin: UInt16
        public var intervalMax: UInt16
        public var type: UInt8
        public var ownAddressType: UInt8
        public var peerAddressType: UInt8
        public var peerAddress: BluetoothAddress
        public var channelMap: UInt8
        public var filterPolicy: UInt8
        public init(intervalMin: UInt16, intervalMax: UInt16, type: LegacyAdvertisingType, ownAddressType: UInt8,
                    peerAddressType: UInt8 = 0, peerAddress: BluetoothAddress = .zero, channelMap: UInt8 = 0x07,
                    filterPolicy: UInt8 = 0) {
            self.intervalMin = intervalMin
            self.intervalMax = intervalMax
            self.type = type.rawValue
            self.ownAddressType = ownAddressType
            self.peerAddressType = peerAddressType
            self.peerAddress = peerAddress
            self.channelMap = channelMap
            self.filterPolicy = filterPolicy
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(intervalMin)
            w.u16(intervalMax)
            w.u8(type)
            w.u8(ownAddressType)
            w.u8(peerAddressType)
            w.address(peerAddress)
            w.u8(channelMap)
            w.u8(filterPolicy)
        }
        public init(parameters r: inout ByteReader) throws {
            intervalMin = try r.u16()
            intervalMax = try r.u16()
            type = try r.u8()
            ownAddressType = try r.u8()
            peerAddressType = try r.u8()
            peerAddress = try r.address()
            channelMap = try r.u8()
            filterPolicy = try r.u8()
        }
    }

    /// LE Read Advertising Physical Channel Tx Power (7.8.6).
    public struct LEReadAdvertisingPhysicalChannelTxPower: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2007)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var txPower: Int8
            public init(txPower: Int8) { self.txPower = txPower }
            public init(returnParameters r: inout ByteReader) throws { txPower = try r.i8() }
            public func encode(into w: inout ByteWriter) { w.i8(txPower) }
        }
    }

    /// LE Set Advertising Data (7.8.7).
    public struct LESetAdvertisingData: HCIAdvertisingDataCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2008)
        public var data: [UInt8]
        public init(data: [UInt8]) { self.data = data }
    }

    /// LE Set Scan Response Data (7.8.8).
    public struct LESetScanResponseData: HCIAdvertisingDataCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2009)
        public var data: [UInt8]
        public init(data: [UInt8]) { self.data = data }
    }

    /// LE Set Advertising Enable (7.8.9).
    public struct LESetAdvertisingEnable: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x200A)
        public var enable: Bool
        public init(enable: Bool) { self.enable = enable }
        public func encodeParameters(into w: inout ByteWriter) { w.u8(enable ? 1 : 0) }
        public init(parameters r: inout ByteReader) throws { enable = try r.u8() != 0 }
    }

    /// LE Set Scan Parameters (7.8.10). Interval and window in 0.625 ms units.
    public struct LESetScanParameters: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x200B)
        public var active: Bool
        public var interval: UInt16
        public var window: UInt16
        public var ownAddressType: UInt8
        public var filterPolicy: UInt8
        public init(active: Bool, interval: UInt16, window: UInt16, ownAddressType: UInt8, filterPolicy: UInt8 = 0) {
            self.active = active
            self.interval = interval
            self.window = window
            self.ownAddressType = ownAddressType
            self.filterPolicy = filterPolicy
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(active ? 1 : 0)
            w.u16(interval)
            w.u16(window)
            w.u8(ownAddressType)
            w.u8(filterPolicy)
        }
        public init(parameters r: inout ByteReader) throws {
            active = try r.u8() != 0
            interval = try r.u16()
            window = try r.u16()
            ownAddressType = try r.u8()
            filterPolicy = try r.u8()
        }
    }

    /// LE Set Scan Enable (7.8.11).
    public struct LESetScanEnable: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x200C)
        public var enable: Bool
        public var filterDuplicates: Bool
        public init(enable: Bool, filterDuplicates: Bool = false) {
            self.enable = enable
            self.filterDuplicates = filterDuplicates
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(enable ? 1 : 0)
            w.u8(filterDuplicates ? 1 : 0)
        }
        public init(parameters r: inout ByteReader) throws {
            enable = try r.u8() != 0
            filterDuplicates = try r.u8() != 0
        }
    }

    /// Connection parameters shared by the create-connection commands (units: interval 1.25 ms,
    /// supervision timeout 10 ms, CE length 0.625 ms).
    public struct ConnectionParameters: Sendable, Equatable {
        public var intervalMin: UInt16
        public var intervalMax: UInt16
        public var maxLatency: UInt16
        public var supervisionTimeout: UInt16
        public var minCELength: UInt16
        public var maxCELength: UInt16
        public init(intervalMin: UInt16, intervalMax: UInt16, maxLatency: UInt16 = 0, supervisionTimeout: UInt16,
                    minCELength: UInt16 = 0, maxCELength: UInt16 = 0) {
            self.intervalMin = intervalMin
            self.intervalMax = intervalMax
            self.maxLatency = maxLatency
            self.supervisionTimeout = supervisionTimeout
            self.minCELength = minCELength
            self.maxCELength = maxCELength
        }
        func encode(into w: inout ByteWriter) {
            w.u16(intervalMin)
            w.u16(intervalMax)
            w.u16(maxLatency)
            w.u16(supervisionTimeout)
            w.u16(minCELength)
            w.u16(maxCELength)
        }
        init(from r: inout ByteReader) throws {
            intervalMin = try r.u16()
            intervalMax = try r.u16()
            maxLatency = try r.u16()
            supervisionTimeout = try r.u16()
            minCELength = try r.u16()
            maxCELength = try r.u16()
        }
    }

    /// LE Create Connection (7.8.12): Command Status, then LE (Enhanced) Connection Complete.
    public struct LECreateConnection: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x200D)
        public static var completesWithStatus: Bool { true }
        public var scanInterval: UInt16
        public var scanWindow: UInt16
        public var filterPolicy: UInt8
        public var peerAddressType: UInt8
        public var peerAddress: BluetoothAddress
        public var ownAddressType: UInt8
        public var connection: ConnectionParameters
        public init(scanInterval: UInt16, scanWindow: UInt16, filterPolicy: UInt8 = 0, peerAddressType: UInt8,
                    peerAddress: BluetoothAddress, ownAddressType: UInt8, connection: ConnectionParameters) {
            self.scanInterval = scanInterval
            self.scanWindow = scanWindow
            self.filterPolicy = filterPolicy
            self.peerAddressType = peerAddressType
            self.peerAddress = peerAddress
            self.ownAddressType = ownAddressType
            self.connection = connection
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(scanInterval)
            w.u16(scanWindow)
            w.u8(filterPolicy)
            w.u8(peerAddressType)
            w.address(peerAddress)
            w.u8(ownAddressType)
            connection.encode(into: &w)
        }
        public init(parameters r: inout ByteReader) throws {
            scanInterval = try r.u16()
            scanWindow = try r.u16()
            filterPolicy = try r.u8()
            peerAddressType = try r.u8()
            peerAddress = try r.address()
            ownAddressType = try r.u8()
            connection = try ConnectionParameters(from: &r)
        }
    }

    /// LE Create Connection Cancel (7.8.13): Command Complete, then Connection Complete with
    /// status Unknown Connection Identifier (0x02).
    public struct LECreateConnectionCancel: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x200E)
        public init() {}
    }

    /// LE Connection Update (7.8.18): Command Status, then LE Connection Update Complete.
    public struct LEConnectionUpdate: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2013)
        public static var completesWithStatus: Bool { true }
        public var handle: UInt16
        public var connection: ConnectionParameters
        public init(handle: UInt16, connection: ConnectionParameters) {
            self.handle = handle
            self.connection = connection
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u16(handle)
            connection.encode(into: &w)
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u16()
            connection = try ConnectionParameters(from: &r)
        }
    }

    /// LE Read Supported States (7.8.27).
    public struct LEReadSupportedStates: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x201C)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var states: UInt64
            public init(states: UInt64) { self.states = states }
            public init(returnParameters r: inout ByteReader) throws { states = try r.u64() }
            public func encode(into w: inout ByteWriter) { w.u64(states) }
        }
    }
}

/// LE Set Advertising Data (7.8.7) and LE Set Scan Response Data (7.8.8) share one layout, only
/// their opcodes differ: Data_Length, then a 31-octet field whose first Data_Length octets are
/// the data, the rest zero.
public protocol HCIAdvertisingDataCommand: HCICommand {
    var data: [UInt8] { get }
    init(data: [UInt8])
}

extension HCIAdvertisingDataCommand {
    /// Data longer than 31 octets is cut to 31.
    public func encodeParameters(into w: inout ByteWriter) {
        w.u8(UInt8(min(data.count, 31)))
        w.padded(data, to: 31)
    }

    public init(parameters r: inout ByteReader) throws {
        let n = Int(try r.u8())
        guard n <= 31 else { throw DecodeError.invalid(context: r.context, reason: "data length \(n) > 31") }
        let field = try r.bytes(31)
        self.init(data: Array(field[0..<n]))
    }
}
