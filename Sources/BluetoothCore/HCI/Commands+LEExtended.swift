// LE extended advertising, scanning and connection creation (Core Vol 4 Part E 7.8.52-7.8.66).

extension HCI {
    /// Advertising_Event_Properties bits of LE Set Extended Advertising Parameters.
    public struct AdvertisingEventProperties: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let connectable = Self(rawValue: 1 << 0)
        public static let scannable = Self(rawValue: 1 << 1)
        public static let directed = Self(rawValue: 1 << 2)
        public static let highDutyDirected = Self(rawValue: 1 << 3)
        public static let legacy = Self(rawValue: 1 << 4)
        public static let anonymous = Self(rawValue: 1 << 5)
        public static let includeTxPower = Self(rawValue: 1 << 6)

        /// Legacy PDUs through the extended commands (Table 7.2 of 7.8.53).
        public static let legacyAdvInd: Self = [.legacy, .connectable, .scannable]        // 0x13
        public static let legacyAdvScanInd: Self = [.legacy, .scannable]                  // 0x12
        public static let legacyAdvNonconnInd: Self = [.legacy]                           // 0x10
    }

    /// LE Set Advertising Set Random Address (7.8.52).
    public struct LESetAdvertisingSetRandomAddress: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2035)
        public var handle: UInt8
        public var address: BluetoothAddress
        public init(handle: UInt8, address: BluetoothAddress) {
            self.handle = handle
            self.address = address
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(handle)
            w.address(address)
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u8()
            address = try r.address()
        }
    }

    /// LE Set Extended Advertising Parameters [v1] (7.8.53). Intervals are 24-bit, 0.625 ms units.
    public struct LESetExtendedAdvertisingParameters: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2036)
        public var handle: UInt8
        public var properties: AdvertisingEventProperties
        public var intervalMin: UInt32
        public var intervalMax: UInt32
        public var channelMap: UInt8
        public var ownAddressType: UInt8
        public var peerAddressType: UInt8
        public var peerAddress: BluetoothAddress
        public var filterPolicy: UInt8
        public var txPower: Int8
        public var primaryPHY: UInt8
        public var secondaryMaxSkip: UInt8
        public var secondaryPHY: UInt8
        public var sid: UInt8
        public var scanRequestNotification: Bool
        public init(handle: UInt8, properties: AdvertisingEventProperties, intervalMin: UInt32, intervalMax: UInt32,
                    channelMap: UInt8 = 0x07, ownAddressType: UInt8, peerAddressType: UInt8 = 0,
                    peerAddress: BluetoothAddress = .zero, filterPolicy: UInt8 = 0, txPower: Int8 = 0x7F,
                    primaryPHY: UInt8 = 1, secondaryMaxSkip: UInt8 = 0, secondaryPHY: UInt8 = 1, sid: UInt8 = 0,
                    scanRequestNotification: Bool = false) {
            self.handle = handle
            self.properties = properties
            self.intervalMin = intervalMin
            self.intervalMax = intervalMax
            self.channelMap = channelMap
            self.ownAddressType = ownAddressType
            self.peerAddressType = peerAddressType
            self.peerAddress = peerAddress
            self.filterPolicy = filterPolicy
            self.txPower = txPower
            self.primaryPHY = primaryPHY
            self.secondaryMaxSkip = secondaryMaxSkip
            self.secondaryPHY = secondaryPHY
            self.sid = sid
            self.scanRequestNotification = scanRequestNotification
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(handle)
            w.u16(properties.rawValue)
            w.u24(intervalMin)
            w.u24(intervalMax)
            w.u8(channelMap)
            w.u8(ownAddressType)
            w.u8(peerAddressType)
            w.address(peerAddress)
            w.u8(filterPolicy)
            w.i8(txPower)
            w.u8(primaryPHY)
            w.u8(secondaryMaxSkip)
            w.u8(secondaryPHY)
            w.u8(sid)
            w.u8(scanRequestNotification ? 1 : 0)
        }
        public init(parameters r: inout ByteReader) throws {
            handle = try r.u8()
            properties = AdvertisingEventProperties(rawValue: try r.u16())
            intervalMin = try r.u24()
            intervalMax = try r.u24()
            channelMap = try r.u8()
            ownAddressType = try r.u8()
            peerAddressType = try r.u8()
            peerAddress = try r.address()
            filterPolicy = try r.u8()
            txPower = try r.i8()
            primaryPHY = try r.u8()
            secondaryMaxSkip = try r.u8()
            secondaryPHY = try r.u8()
            sid = try r.u8()
            scanRequestNotification = try r.u8() != 0
        }
        public struct Return: HCIReturnParameters, Equatable {
            public var selectedTxPower: Int8
            public init(selectedTxPower: Int8) { self.selectedTxPower = selectedTxPower }
            public init(returnParameters r: inout ByteReader) throws { selectedTxPower = try r.i8() }
            public func encode(into w: inout ByteWriter) { w.i8(selectedTxPower) }
        }
    }

    /// LE Set Extended Advertising Data (7.8.54).
    public struct LESetExtendedAdvertisingData: HCIExtendedAdvertisingDataCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2037)
        public var handle: UInt8
        public var operation: UInt8
        public var fragmentPreference: UInt8
        public var data: [UInt8]
        public init(handle: UInt8, operation: UInt8 = 0x03, fragmentPreference: UInt8 = 0x01, data: [UInt8]) {
            self.handle = handle
            self.operation = operation
            self.fragmentPreference = fragmentPreference
            self.data = data
        }
    }

    /// LE Set Extended Scan Response Data (7.8.55).
    public struct LESetExtendedScanResponseData: HCIExtendedAdvertisingDataCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2038)
        public var handle: UInt8
        public var operation: UInt8
        public var fragmentPreference: UInt8
        public var data: [UInt8]
        public init(handle: UInt8, operation: UInt8 = 0x03, fragmentPreference: UInt8 = 0x01, data: [UInt8]) {
            self.handle = handle
            self.operation = operation
            self.fragmentPreference = fragmentPreference
            self.data = data
        }
    }

    /// LE Set Extended Advertising Enable (7.8.56).
    public struct LESetExtendedAdvertisingEnable: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2039)
        public struct Set: Sendable, Equatable {
            public var handle: UInt8
            /// 10 ms units, 0 = until disabled.
            public var duration: UInt16
            public var maxEvents: UInt8
            public init(handle: UInt8, duration: UInt16 = 0, maxEvents: UInt8 = 0) {
                self.handle = handle
                self.duration = duration
                self.maxEvents = maxEvents
            }
        }
        public var enable: Bool
        public var sets: [Set]
        public init(enable: Bool, sets: [Set]) {
            self.enable = enable
            self.sets = sets
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(enable ? 1 : 0)
            w.u8(UInt8(truncatingIfNeeded: sets.count))
            for s in sets {
                w.u8(s.handle)
                w.u16(s.duration)
                w.u8(s.maxEvents)
            }
        }
        public init(parameters r: inout ByteReader) throws {
            enable = try r.u8() != 0
            let n = Int(try r.u8())
            var sets: [Set] = []
            for _ in 0..<n {
                sets.append(Set(handle: try r.u8(), duration: try r.u16(), maxEvents: try r.u8()))
            }
            self.sets = sets
        }
    }

    /// LE Read Maximum Advertising Data Length (7.8.57).
    public struct LEReadMaximumAdvertisingDataLength: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x203A)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var maxLength: UInt16
            public init(maxLength: UInt16) { self.maxLength = maxLength }
            public init(returnParameters r: inout ByteReader) throws { maxLength = try r.u16() }
            public func encode(into w: inout ByteWriter) { w.u16(maxLength) }
        }
    }

    /// LE Read Number of Supported Advertising Sets (7.8.58).
    public struct LEReadNumberOfSupportedAdvertisingSets: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x203B)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var count: UInt8
            public init(count: UInt8) { self.count = count }
            public init(returnParameters r: inout ByteReader) throws { count = try r.u8() }
            public func encode(into w: inout ByteWriter) { w.u8(count) }
        }
    }

    /// LE Remove Advertising Set (7.8.59).
    public struct LERemoveAdvertisingSet: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x203C)
        public var handle: UInt8
        public init(handle: UInt8) { self.handle = handle }
        public func encodeParameters(into w: inout ByteWriter) { w.u8(handle) }
        public init(parameters r: inout ByteReader) throws { handle = try r.u8() }
    }

    /// LE Clear Advertising Sets (7.8.60).
    public struct LEClearAdvertisingSets: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x203D)
        public init() {}
    }

    /// Per-PHY scan parameters of LE Set Extended Scan Parameters.
    public struct ExtendedScanPHY: Sendable, Equatable {
        public var active: Bool
        public var interval: UInt16
        public var window: UInt16
        public init(active: Bool, interval: UInt16, window: UInt16) {
            self.active = active
            self.interval = interval
            self.window = window
        }
    }

    /// LE Set Extended Scan Parameters (7.8.64). One entry per bit set in `phys` (bit 0 1M, bit 2 Coded).
    public struct LESetExtendedScanParameters: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2041)
        public var ownAddressType: UInt8
        public var filterPolicy: UInt8
        public var phys: UInt8
        public var parameters: [ExtendedScanPHY]
        public init(ownAddressType: UInt8, filterPolicy: UInt8 = 0, phys: UInt8 = 0x01, parameters: [ExtendedScanPHY]) {
            self.ownAddressType = ownAddressType
            self.filterPolicy = filterPolicy
            self.phys = phys
            self.parameters = parameters
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(ownAddressType)
            w.u8(filterPolicy)
            w.u8(phys)
            for p in parameters {
                w.u8(p.active ? 1 : 0)
                w.u16(p.interval)
                w.u16(p.window)
            }
        }
        public init(parameters r: inout ByteReader) throws {
            ownAddressType = try r.u8()
            filterPolicy = try r.u8()
            phys = try r.u8()
            var ps: [ExtendedScanPHY] = []
            for _ in 0..<phys.nonzeroBitCount {
                ps.append(ExtendedScanPHY(active: try r.u8() != 0, interval: try r.u16(), window: try r.u16()))
            }
            parameters = ps
        }
    }

    /// LE Set Extended Scan Enable (7.8.65). Duration in 10 ms units, period in 1.28 s units.
    public struct LESetExtendedScanEnable: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2042)
        public var enable: Bool
        public var filterDuplicates: UInt8
        public var duration: UInt16
        public var period: UInt16
        public init(enable: Bool, filterDuplicates: UInt8 = 0, duration: UInt16 = 0, period: UInt16 = 0) {
            self.enable = enable
            self.filterDuplicates = filterDuplicates
            self.duration = duration
            self.period = period
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(enable ? 1 : 0)
            w.u8(filterDuplicates)
            w.u16(duration)
            w.u16(period)
        }
        public init(parameters r: inout ByteReader) throws {
            enable = try r.u8() != 0
            filterDuplicates = try r.u8()
            duration = try r.u16()
            period = try r.u16()
        }
    }

    /// Per-PHY parameters of LE Extended Create Connection.
    public struct ExtendedConnectionPHY: Sendable, Equatable {
        public var scanInterval: UInt16
        public var scanWindow: UInt16
        public var connection: ConnectionParameters
        public init(scanInterval: UInt16, scanWindow: UInt16, connection: ConnectionParameters) {
            self.scanInterval = scanInterval
            self.scanWindow = scanWindow
            self.connection = connection
        }
    }

    /// LE Extended Create Connection [v1] (7.8.66): Command Status, then LE Enhanced Connection
    /// Complete (or LE Connection Complete when the enhanced event is masked).
    public struct LEExtendedCreateConnection: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2043)
        public static var completesWithStatus: Bool { true }
        public var filterPolicy: UInt8
        public var ownAddressType: UInt8
        public var peerAddressType: UInt8
        public var peerAddress: BluetoothAddress
        public var phys: UInt8
        public var parameters: [ExtendedConnectionPHY]
        public init(filterPolicy: UInt8 = 0, ownAddressType: UInt8, peerAddressType: UInt8, peerAddress: BluetoothAddress,
                    phys: UInt8 = 0x01, parameters: [ExtendedConnectionPHY]) {
            self.filterPolicy = filterPolicy
            self.ownAddressType = ownAddressType
            self.peerAddressType = peerAddressType
            self.peerAddress = peerAddress
            self.phys = phys
            self.parameters = parameters
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(filterPolicy)
            w.u8(ownAddressType)
            w.u8(peerAddressType)
            w.address(peerAddress)
            w.u8(phys)
            for p in parameters {
                w.u16(p.scanInterval)
                w.u16(p.scanWindow)
                p.connection.encode(into: &w)
            }
        }
        public init(parameters r: inout ByteReader) throws {
            filterPolicy = try r.u8()
            ownAddressType = try r.u8()
            peerAddressType = try r.u8()
            peerAddress = try r.address()
            phys = try r.u8()
            var ps: [ExtendedConnectionPHY] = []
            for _ in 0..<phys.nonzeroBitCount {
                ps.append(ExtendedConnectionPHY(scanInterval: try r.u16(), scanWindow: try r.u16(),
                                                connection: try ConnectionParameters(from: &r)))
            }
            parameters = ps
        }
    }
}

/// LE Set Extended Advertising Data (7.8.54) and LE Set Extended Scan Response Data (7.8.55) share
/// one layout, only their opcodes differ: Advertising_Handle, Operation (3 = the complete data in
/// this one command), Fragment_Preference, Data_Length, then Data_Length octets (at most 251 per
/// command).
public protocol HCIExtendedAdvertisingDataCommand: HCICommand {
    var handle: UInt8 { get }
    var operation: UInt8 { get }
    var fragmentPreference: UInt8 { get }
    var data: [UInt8] { get }
    init(handle: UInt8, operation: UInt8, fragmentPreference: UInt8, data: [UInt8])
}

extension HCIExtendedAdvertisingDataCommand {
    public func encodeParameters(into w: inout ByteWriter) {
        w.u8(handle)
        w.u8(operation)
        w.u8(fragmentPreference)
        w.u8(UInt8(truncatingIfNeeded: data.count))
        w.append(data)
    }

    public init(parameters r: inout ByteReader) throws {
        let handle = try r.u8()
        let operation = try r.u8()
        let fragmentPreference = try r.u8()
        let data = try r.bytes(Int(try r.u8()))
        self.init(handle: handle, operation: operation, fragmentPreference: fragmentPreference, data: data)
    }
}
