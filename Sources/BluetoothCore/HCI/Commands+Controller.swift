// Link control, controller & baseband, informational and status commands the host uses
// (Core Vol 4 Part E 7.1, 7.3, 7.4, 7.5).

extension HCI {
    /// Disconnect (7.1.6): answered by Command Status, then Disconnection Complete.
    public struct Disconnect: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x0406)
        public static var completesWithStatus: Bool { true }
        public var handle: UInt16
        public var reason: HCIStatus
        public init(handle: UInt16, reason: HCIStatus = .remoteUserTerminated) {
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

    /// Set Event Mask (7.3.1).
    public struct SetEventMask: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x0C01)
        public var mask: UInt64
        /// Disconnection Complete, Encryption Change, Read Remote Version Complete, Hardware Error,
        /// Data Buffer Overflow, Encryption Key Refresh, LE Meta
        /// (Bit n enables event code n+1; Command Complete/Status and Number Of Completed Packets are
        /// always on.)
        public static let leHostDefault: UInt64 = 0x2000_8000_0200_8890
        public init(mask: UInt64) { self.mask = mask }
        public func encodeParameters(into w: inout ByteWriter) { w.u64(mask) }
        public init(parameters r: inout ByteReader) throws { mask = try r.u64() }
    }

    /// Reset (7.3.2).
    public struct Reset: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x0C03)
        public init() {}
    }

    /// Read Local Version Information (7.4.1).
    public struct ReadLocalVersionInformation: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x1001)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var hciVersion: UInt8
            public var hciSubversion: UInt16
            public var lmpVersion: UInt8
            public var manufacturer: UInt16
            public var lmpSubversion: UInt16
            public init(hciVersion: UInt8, hciSubversion: UInt16, lmpVersion: UInt8, manufacturer: UInt16,
                        lmpSubversion: UInt16) {
                self.hciVersion = hciVersion
                self.hciSubversion = hciSubversion
                self.lmpVersion = lmpVersion
                self.manufacturer = manufacturer
                self.lmpSubversion = lmpSubversion
            }
            public init(returnParameters r: inout ByteReader) throws {
                hciVersion = try r.u8()
                hciSubversion = try r.u16()
                lmpVersion = try r.u8()
                manufacturer = try r.u16()
                lmpSubversion = try r.u16()
            }
            public func encode(into w: inout ByteWriter) {
                w.u8(hciVersion)
                w.u16(hciSubversion)
                w.u8(lmpVersion)
                w.u16(manufacturer)
                w.u16(lmpSubversion)
            }
        }
    }

    /// Read Local Supported Commands (7.4.2): a 64-byte bitmap, octet N bit B.
    public struct ReadLocalSupportedCommands: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x1002)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var commands: SupportedCommands
            public init(commands: SupportedCommands) { self.commands = commands }
            public init(returnParameters r: inout ByteReader) throws {
                commands = SupportedCommands(bitmap: try r.bytes(64))
            }
            public func encode(into w: inout ByteWriter) { w.padded(commands.bitmap, to: 64) }
        }
    }

    /// Read Local Supported Features (7.4.3): the 8-byte LMP feature page 0.
    public struct ReadLocalSupportedFeatures: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x1003)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var features: UInt64
            public init(features: UInt64) { self.features = features }
            public init(returnParameters r: inout ByteReader) throws { features = try r.u64() }
            public func encode(into w: inout ByteWriter) { w.u64(features) }
        }
    }

    /// Read Buffer Size (7.4.5): the shared BR/EDR+LE ACL buffers, used when LE has none of its own.
    public struct ReadBufferSize: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x1005)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var aclDataPacketLength: UInt16
            public var scoDataPacketLength: UInt8
            public var totalNumACLDataPackets: UInt16
            public var totalNumSCODataPackets: UInt16
            public init(aclDataPacketLength: UInt16, scoDataPacketLength: UInt8, totalNumACLDataPackets: UInt16,
                        totalNumSCODataPackets: UInt16) {
                self.aclDataPacketLength = aclDataPacketLength
                self.scoDataPacketLength = scoDataPacketLength
                self.totalNumACLDataPackets = totalNumACLDataPackets
                self.totalNumSCODataPackets = totalNumSCODataPackets
            }
            public init(returnParameters r: inout ByteReader) throws {
                aclDataPacketLength = try r.u16()
                scoDataPacketLength = try r.u8()
                totalNumACLDataPackets = try r.u16()
                totalNumSCODataPackets = try r.u16()
            }
            public func encode(into w: inout ByteWriter) {
                w.u16(aclDataPacketLength)
                w.u8(scoDataPacketLength)
                w.u16(totalNumACLDataPackets)
                w.u16(totalNumSCODataPackets)
            }
        }
    }

    /// Read BD_ADDR (7.4.6): the public address.
    public struct ReadBDADDR: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x1009)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var address: BluetoothAddress
            public init(address: BluetoothAddress) { self.address = address }
            public init(returnParameters r: inout ByteReader) throws { address = try r.address() }
            public func encode(into w: inout ByteWriter) { w.address(address) }
        }
    }

    /// Read RSSI (7.5.4).
    public struct ReadRSSI: HCICommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x1405)
        public var handle: UInt16
        public init(handle: UInt16) { self.handle = handle }
        public func encodeParameters(into w: inout ByteWriter) { w.u16(handle) }
        public init(parameters r: inout ByteReader) throws { handle = try r.u16() }
        public struct Return: HCIReturnParameters, Equatable {
            public var handle: UInt16
            public var rssi: Int8
            public init(handle: UInt16, rssi: Int8) {
                self.handle = handle
                self.rssi = rssi
            }
            public init(returnParameters r: inout ByteReader) throws {
                handle = try r.u16()
                rssi = try r.i8()
            }
            public func encode(into w: inout ByteWriter) {
                w.u16(handle)
                w.i8(rssi)
            }
        }
    }
}

/// The Supported_Commands bitmap of Read Local Supported Commands (Core Vol 4 Part E 6.27).
public struct SupportedCommands: Sendable, Equatable {
    public var bitmap: [UInt8]
    public init(bitmap: [UInt8]) { self.bitmap = bitmap }
    public func contains(octet: Int, bit: Int) -> Bool {
        octet < bitmap.count && bitmap[octet] & (1 << bit) != 0
    }
    public mutating func insert(octet: Int, bit: Int) {
        if bitmap.count < 64 { bitmap += [UInt8](repeating: 0, count: 64 - bitmap.count) }
        bitmap[octet] |= 1 << bit
    }

    // Positions used by the host to choose between command variants.
    public static let leReadBufferSizeV2 = (octet: 41, bit: 5)
    public static let leSetExtendedAdvertisingParameters = (octet: 36, bit: 2)
    public static let leSetExtendedScanParameters = (octet: 37, bit: 5)
    public static let leExtendedCreateConnection = (octet: 37, bit: 7)
    public static let readRSSI = (octet: 15, bit: 5)
}

/// LE feature bits (Core Vol 6 Part B 4.6).
public struct LEFeatures: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let encryption = LEFeatures(rawValue: 1 << 0)
    public static let connectionParametersRequest = LEFeatures(rawValue: 1 << 1)
    public static let extendedRejectIndication = LEFeatures(rawValue: 1 << 2)
    public static let peripheralInitiatedFeaturesExchange = LEFeatures(rawValue: 1 << 3)
    public static let ping = LEFeatures(rawValue: 1 << 4)
    public static let dataPacketLengthExtension = LEFeatures(rawValue: 1 << 5)
    public static let llPrivacy = LEFeatures(rawValue: 1 << 6)
    public static let extendedScannerFilterPolicies = LEFeatures(rawValue: 1 << 7)
    public static let le2MPHY = LEFeatures(rawValue: 1 << 8)
    public static let leCodedPHY = LEFeatures(rawValue: 1 << 11)
    public static let extendedAdvertising = LEFeatures(rawValue: 1 << 12)
    public static let periodicAdvertising = LEFeatures(rawValue: 1 << 13)
    public static let channelSelectionAlgorithm2 = LEFeatures(rawValue: 1 << 14)
}
