// HCI commands the virtual controller implements that the host codecs do not have yet
// (Core Vol 4 Part E 7.1, 7.8). Kept in their own namespace, `HCI.Sim`, so they cannot collide with
// structs the host side adds later; move them next to the others when the host needs them.

extension HCI {
    /// Commands and events added for the virtual controller.
    public enum Sim {}
}

extension HCI.Sim {
    /// Read Remote Version Information (7.1.23): Command Status, then Read Remote Version
    /// Information Complete.
    public struct ReadRemoteVersionInformation: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x041D)
        public static var completesWithStatus: Bool { true }
        public var handle: UInt16
        public init(handle: UInt16) { self.handle = handle }
        public func encodeParameters(into w: inout ByteWriter) { w.u16(handle) }
        public init(parameters r: inout ByteReader) throws { handle = try r.u16() }
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

    /// LE Read Filter Accept List Size (7.8.14).
    public struct LEReadFilterAcceptListSize: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x200F)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var size: UInt8
            public init(size: UInt8) { self.size = size }
            public init(returnParameters r: inout ByteReader) throws { size = try r.u8() }
            public func encode(into w: inout ByteWriter) { w.u8(size) }
        }
    }

    /// LE Clear Filter Accept List (7.8.15).
    public struct LEClearFilterAcceptList: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2010)
        public init() {}
    }

    /// LE Add Device To Filter Accept List (7.8.16). Address type 0 public, 1 random, 0xFF anonymous.
    public struct LEAddDeviceToFilterAcceptList: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2011)
        public var addressType: UInt8
        public var address: BluetoothAddress
        public init(addressType: UInt8, address: BluetoothAddress) {
            self.addressType = addressType
            self.address = address
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(addressType)
            w.address(address)
        }
        public init(parameters r: inout ByteReader) throws {
            addressType = try r.u8()
            address = try r.address()
        }
    }

    /// LE Remove Device From Filter Accept List (7.8.17).
    public struct LERemoveDeviceFromFilterAcceptList: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2012)
        public var addressType: UInt8
        public var address: BluetoothAddress
        public init(addressType: UInt8, address: BluetoothAddress) {
            self.addressType = addressType
            self.address = address
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(addressType)
            w.address(address)
        }
        public init(parameters r: inout ByteReader) throws {
            addressType = try r.u8()
            address = try r.address()
        }
    }

    /// LE Read Remote Features (7.8.21): Command Status, then LE Read Remote Features Complete.
    public struct LEReadRemoteFeatures: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2016)
        public static var completesWithStatus: Bool { true }
        public var handle: UInt16
        public init(handle: UInt16) { self.handle = handle }
        public func encodeParameters(into w: inout ByteWriter) { w.u16(handle) }
        public init(parameters r: inout ByteReader) throws { handle = try r.u16() }
    }

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

    /// Return parameters holding only a connection handle.
    public struct HandleReturn: HCIReturnParameters, Equatable {
        public var handle: UInt16
        public init(handle: UInt16) { self.handle = handle }
        public init(returnParameters r: inout ByteReader) throws { handle = try r.u16() }
        public func encode(into w: inout ByteWriter) { w.u16(handle) }
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

    /// LE Clear Advertising Sets (7.8.60).
    public struct LEClearAdvertisingSets: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x203D)
        public init() {}
    }
}
