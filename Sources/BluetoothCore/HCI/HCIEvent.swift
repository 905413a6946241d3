/// An HCI event payload: parseable (host side) and encodable (controller side).
public protocol HCIEventParameters: Sendable {
    /// The event code; LE subevents use 0x3E and give `subeventCode`.
    static var eventCode: UInt8 { get }
    static var subeventCode: UInt8? { get }
    init(parameters r: inout ByteReader) throws
    func encodeParameters(into w: inout ByteWriter)
}

extension HCIEventParameters {
    public static var subeventCode: UInt8? { nil }

    /// The event packet: code, length, (subevent,) parameters. Parameters longer than 255 bytes
    /// cannot be expressed and are cut; controllers split reports before that.
    public func packetBytes() -> [UInt8] {
        var p = ByteWriter()
        if let sub = Self.subeventCode { p.u8(sub) }
        encodeParameters(into: &p)
        var w = ByteWriter(capacity: p.bytes.count + 2)
        w.u8(Self.eventCode)
        let n = min(p.bytes.count, 255)
        w.u8(UInt8(n))
        w.append(p.bytes[0..<n])
        return w.bytes
    }

    public var packet: HCIPacket { HCIPacket(.event, packetBytes()) }
}

/// Every event the host understands, parsed from an event packet. This enum is the event table:
/// codes it does not know become `.unknown` and are logged, never trapped on.
public enum HCIEvent: Sendable, Equatable {
    case disconnectionComplete(HCI.DisconnectionComplete)
    case encryptionChange(HCI.EncryptionChange)
    case encryptionKeyRefreshComplete(HCI.EncryptionKeyRefreshComplete)
    case commandComplete(HCI.CommandComplete)
    case commandStatus(HCI.CommandStatus)
    case hardwareError(HCI.HardwareError)
    case numberOfCompletedPackets(HCI.NumberOfCompletedPackets)
    case dataBufferOverflow(linkType: UInt8)
    case leConnectionComplete(HCI.LEConnectionComplete)
    case leAdvertisingReport(HCI.LEAdvertisingReport)
    case leConnectionUpdateComplete(HCI.LEConnectionUpdateComplete)
    case leLongTermKeyRequest(HCI.LELongTermKeyRequest)
    case leRemoteConnectionParameterRequest(HCI.LERemoteConnectionParameterRequest)
    case leDataLengthChange(HCI.LEDataLengthChange)
    case leEnhancedConnectionComplete(HCI.LEEnhancedConnectionComplete)
    case leExtendedAdvertisingReport(HCI.LEExtendedAdvertisingReport)
    case leScanTimeout
    case leAdvertisingSetTerminated(HCI.LEAdvertisingSetTerminated)
    case leMeta(subevent: UInt8, parameters: [UInt8])
    case unknown(code: UInt8, parameters: [UInt8])

    /// Parses an event packet (code, length, parameters). The length byte must match.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count >= 2 else {
            throw DecodeError.truncated(context: "HCI event", needed: 2, available: bytes.count)
        }
        let code = bytes[0]
        let len = Int(bytes[1])
        guard bytes.count == len + 2 else {
            throw DecodeError.invalid(context: "HCI event 0x\(hex(UInt64(code), digits: 2))",
                                      reason: "length field says \(len), packet has \(bytes.count - 2) parameter bytes")
        }
        var r = ByteReader(Array(bytes[2...]), context: "HCI event 0x\(hex(UInt64(code), digits: 2))")
        switch code {
        case HCI.DisconnectionComplete.eventCode: self = .disconnectionComplete(try .init(parameters: &r))
        case HCI.EncryptionChange.eventCode: self = .encryptionChange(try .init(parameters: &r))
        case HCI.CommandComplete.eventCode: self = .commandComplete(try .init(parameters: &r))
        case HCI.CommandStatus.eventCode: self = .commandStatus(try .init(parameters: &r))
        case HCI.HardwareError.eventCode: self = .hardwareError(try .init(parameters: &r))
        case HCI.NumberOfCompletedPackets.eventCode: self = .numberOfCompletedPackets(try .init(parameters: &r))
        case 0x1A: self = .dataBufferOverflow(linkType: try r.u8())
        case HCI.EncryptionKeyRefreshComplete.eventCode:
            self = .encryptionKeyRefreshComplete(try .init(parameters: &r))
        case 0x3E:
            let sub = try r.u8()
            switch sub {
            case 0x01: self = .leConnectionComplete(try .init(parameters: &r))
            case 0x02: self = .leAdvertisingReport(try .init(parameters: &r))
            case 0x03: self = .leConnectionUpdateComplete(try .init(parameters: &r))
            case 0x05: self = .leLongTermKeyRequest(try .init(parameters: &r))
            case 0x06: self = .leRemoteConnectionParameterRequest(try .init(parameters: &r))
            case 0x07: self = .leDataLengthChange(try .init(parameters: &r))
            case 0x0A: self = .leEnhancedConnectionComplete(try .init(parameters: &r))
            case 0x0D: self = .leExtendedAdvertisingReport(try .init(parameters: &r))
            case 0x11: self = .leScanTimeout
            case 0x12: self = .leAdvertisingSetTerminated(try .init(parameters: &r))
            default: self = .leMeta(subevent: sub, parameters: r.rest())
            }
        default:
            self = .unknown(code: code, parameters: r.rest())
        }
    }
}

extension HCI {
    /// Disconnection Complete (7.7.5).
    public struct DisconnectionComplete: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x05
        public var status: HCIStatus
        public var handle: UInt16
        public var reason: HCIStatus
        public init(status: HCIStatus = .success, handle: UInt16, reason: HCIStatus) {
            self.status = status
            self.handle = handle
            self.reason = reason
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            handle = try r.u16()
            reason = HCIStatus(try r.u8())
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u16(handle)
            w.u8(reason.rawValue)
        }
    }

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

    /// Command Complete (7.7.14). `returnParameters` starts with the status for every command
    /// the host uses; a NOP (opcode 0) only grants command credits.
    public struct CommandComplete: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x0E
        public var numHCICommandPackets: UInt8
        public var opcode: HCIOpcode
        public var returnParameters: [UInt8]
        public init(numHCICommandPackets: UInt8 = 1, opcode: HCIOpcode, returnParameters: [UInt8]) {
            self.numHCICommandPackets = numHCICommandPackets
            self.opcode = opcode
            self.returnParameters = returnParameters
        }
        public init(parameters r: inout ByteReader) throws {
            numHCICommandPackets = try r.u8()
            opcode = HCIOpcode(rawValue: try r.u16())
            returnParameters = r.rest()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(numHCICommandPackets)
            w.u16(opcode.rawValue)
            w.append(returnParameters)
        }
        /// The status byte (first return parameter); a missing one is reported as Unspecified Error.
        public var status: HCIStatus { returnParameters.first.map { HCIStatus($0) } ?? .unspecifiedError }
    }

    /// Command Status (7.7.15).
    public struct CommandStatus: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x0F
        public var status: HCIStatus
        public var numHCICommandPackets: UInt8
        public var opcode: HCIOpcode
        public init(status: HCIStatus, numHCICommandPackets: UInt8 = 1, opcode: HCIOpcode) {
            self.status = status
            self.numHCICommandPackets = numHCICommandPackets
            self.opcode = opcode
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            numHCICommandPackets = try r.u8()
            opcode = HCIOpcode(rawValue: try r.u16())
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u8(numHCICommandPackets)
            w.u16(opcode.rawValue)
        }
    }

    /// Hardware Error (7.7.16).
    public struct HardwareError: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x10
        public var code: UInt8
        public init(code: UInt8) { self.code = code }
        public init(parameters r: inout ByteReader) throws { code = try r.u8() }
        public func encodeParameters(into w: inout ByteWriter) { w.u8(code) }
    }

    /// Number Of Completed Packets (7.7.19).
    public struct NumberOfCompletedPackets: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x13
        public struct Entry: Sendable, Equatable {
            public var handle: UInt16
            public var count: UInt16
            public init(handle: UInt16, count: UInt16) {
                self.handle = handle
                self.count = count
            }
        }
        public var entries: [Entry]
        public init(entries: [Entry]) { self.entries = entries }
        public init(parameters r: inout ByteReader) throws {
            let n = Int(try r.u8())
            var es: [Entry] = []
            es.reserveCapacity(n)
            for _ in 0..<n { es.append(Entry(handle: try r.u16() & 0x0FFF, count: try r.u16())) }
            entries = es
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(UInt8(truncatingIfNeeded: entries.count))
            for e in entries {
                w.u16(e.handle)
                w.u16(e.count)
            }
        }
    }
}
