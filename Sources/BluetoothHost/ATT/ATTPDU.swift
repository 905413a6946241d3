import BluetoothCore

/// ATT opcodes (Core Vol 3 Part F 3.4.8).
public enum ATTOpcode {
    public static let errorResponse: UInt8 = 0x01
    public static let exchangeMTURequest: UInt8 = 0x02
    public static let exchangeMTUResponse: UInt8 = 0x03
    public static let findInformationRequest: UInt8 = 0x04
    public static let findInformationResponse: UInt8 = 0x05
    public static let findByTypeValueRequest: UInt8 = 0x06
    public static let findByTypeValueResponse: UInt8 = 0x07
    public static let readByTypeRequest: UInt8 = 0x08
    public static let readByTypeResponse: UInt8 = 0x09
    public static let readRequest: UInt8 = 0x0A
    public static let readResponse: UInt8 = 0x0B
    public static let readBlobRequest: UInt8 = 0x0C
    public static let readBlobResponse: UInt8 = 0x0D
    public static let readMultipleRequest: UInt8 = 0x0E
    public static let readMultipleResponse: UInt8 = 0x0F
    public static let readByGroupTypeRequest: UInt8 = 0x10
    public static let readByGroupTypeResponse: UInt8 = 0x11
    public static let writeRequest: UInt8 = 0x12
    public static let writeResponse: UInt8 = 0x13
    public static let writeCommand: UInt8 = 0x52
    public static let signedWriteCommand: UInt8 = 0xD2
    public static let prepareWriteRequest: UInt8 = 0x16
    public static let prepareWriteResponse: UInt8 = 0x17
    public static let executeWriteRequest: UInt8 = 0x18
    public static let executeWriteResponse: UInt8 = 0x19
    public static let handleValueNotification: UInt8 = 0x1B
    public static let handleValueIndication: UInt8 = 0x1D
    public static let handleValueConfirmation: UInt8 = 0x1E
    public static let readMultipleVariableRequest: UInt8 = 0x20
    public static let readMultipleVariableResponse: UInt8 = 0x21
    public static let multipleHandleValueNotification: UInt8 = 0x23

    /// Requests expect a response from the server (everything a client sends except commands
    /// and the confirmation).
    public static func isRequest(_ op: UInt8) -> Bool {
        switch op {
        case exchangeMTURequest, findInformationRequest, findByTypeValueRequest, readByTypeRequest, readRequest,
             readBlobRequest, readMultipleRequest, readByGroupTypeRequest, writeRequest, prepareWriteRequest,
             executeWriteRequest, readMultipleVariableRequest:
            return true
        default:
            return false
        }
    }
}

/// A handle and its value, as carried by Read By Type responses.
public struct ATTHandleValue: Sendable, Equatable {
    public var handle: UInt16
    public var value: [UInt8]
    public init(handle: UInt16, value: [UInt8]) {
        self.handle = handle
        self.value = value
    }
}

/// A group (service) found by Read By Group Type.
public struct ATTGroupValue: Sendable, Equatable {
    public var handle: UInt16
    public var endGroupHandle: UInt16
    public var value: [UInt8]
    public init(handle: UInt16, endGroupHandle: UInt16, value: [UInt8]) {
        self.handle = handle
        self.endGroupHandle = endGroupHandle
        self.value = value
    }
}

/// Every PDU of an LE ATT bearer (Core Vol 3 Part F 3.4), as a value with exact-byte parse and
/// encode. Parsing checks lengths and never traps; a malformed PDU throws `ATTDecodeError`
/// carrying the opcode, so a server can answer with Invalid PDU.
public enum ATTPDU: Sendable, Equatable {
    case errorResponse(requestOpcode: UInt8, handle: UInt16, error: UInt8)
    case exchangeMTURequest(mtu: UInt16)
    case exchangeMTUResponse(mtu: UInt16)
    case findInformationRequest(start: UInt16, end: UInt16)
    /// `uuids` are all 16-bit (format 1) or all 128-bit (format 2).
    case findInformationResponse([(handle: UInt16, uuid: BluetoothUUID)])
    case findByTypeValueRequest(start: UInt16, end: UInt16, type: UInt16, value: [UInt8])
    case findByTypeValueResponse([(found: UInt16, groupEnd: UInt16)])
    case readByTypeRequest(start: UInt16, end: UInt16, type: BluetoothUUID)
    case readByTypeResponse([ATTHandleValue])
    case readRequest(handle: UInt16)
    case readResponse(value: [UInt8])
    case readBlobRequest(handle: UInt16, offset: UInt16)
    case readBlobResponse(value: [UInt8])
    case readMultipleRequest(handles: [UInt16])
    case readMultipleResponse(values: [UInt8])
    case readByGroupTypeRequest(start: UInt16, end: UInt16, type: BluetoothUUID)
    case readByGroupTypeResponse([ATTGroupValue])
    case writeRequest(handle: UInt16, value: [UInt8])
    case writeResponse
    case writeCommand(handle: UInt16, value: [UInt8])
    case signedWriteCommand(handle: UInt16, value: [UInt8], signature: [UInt8])
    case prepareWriteRequest(handle: UInt16, offset: UInt16, value: [UInt8])
    case prepareWriteResponse(handle: UInt16, offset: UInt16, value: [UInt8])
    /// flags: 0x00 cancel all prepared writes, 0x01 write them all.
    case executeWriteRequest(flags: UInt8)
    case executeWriteResponse
    case handleValueNotification(handle: UInt16, value: [UInt8])
    case handleValueIndication(handle: UInt16, value: [UInt8])
    case handleValueConfirmation
    case readMultipleVariableRequest(handles: [UInt16])
    /// Length-prefixed values.
    case readMultipleVariableResponse(values: [[UInt8]])
    /// ATT_MULTIPLE_HANDLE_VALUE_NTF (3.4.7.4): Handle, Length, Value tuples, two or more, each
    /// complete (no value is cut to fit the MTU). A PDU with fewer than two tuples is malformed:
    /// parsing rejects it; encoding writes whatever it is given.
    case multipleHandleValueNotification(_ values: [(handle: UInt16, value: [UInt8])])

    public static func == (a: ATTPDU, b: ATTPDU) -> Bool { a.encode() == b.encode() }

    public var opcode: UInt8 { encode().first ?? 0 }

    // MARK: Parsing

    public init(parsing bytes: [UInt8]) throws(ATTDecodeError) {
        guard let op = bytes.first else { throw ATTDecodeError(opcode: 0, reason: "empty ATT PDU") }
        var r = ByteReader(bytes, startingAt: 1, context: "ATT opcode 0x\(String(op, radix: 16))")
        do {
            self = try ATTPDU.parse(op, &r)
        } catch let e as ATTDecodeError {
            throw e
        } catch {
            throw ATTDecodeError(opcode: op, reason: "\(error)")
        }
    }

    private static func uuid(_ r: inout ByteReader) throws -> BluetoothUUID {
        let raw = r.rest()
        guard raw.count == 2 || raw.count == 16 else {
            throw DecodeError.invalid(context: r.context, reason: "a UUID has 2 or 16 bytes here, got \(raw.count)")
        }
        return try BluetoothUUID(bytes: raw)
    }

    private static func handles(_ r: inout ByteReader, min: Int) throws -> [UInt16] {
        guard r.remaining % 2 == 0, r.remaining / 2 >= min else {
            throw DecodeError.invalid(context: r.context, reason: "handle list of \(r.remaining) bytes")
        }
        var hs: [UInt16] = []
        while !r.isAtEnd { hs.append(try r.u16()) }
        return hs
    }

    private static func parse(_ op: UInt8, _ r: inout ByteReader) throws -> ATTPDU {
        let pdu: ATTPDU
        switch op {
        case ATTOpcode.errorResponse:
            pdu = .errorResponse(requestOpcode: try r.u8(), handle: try r.u16(), error: try r.u8())
        case ATTOpcode.exchangeMTURequest: pdu = .exchangeMTURequest(mtu: try r.u16())
        case ATTOpcode.exchangeMTUResponse: pdu = .exchangeMTUResponse(mtu: try r.u16())
        case ATTOpcode.findInformationRequest: pdu = .findInformationRequest(start: try r.u16(), end: try r.u16())
        case ATTOpcode.findInformationResponse:
            let format = try r.u8()
            let width: Int
            switch format {
            case 1: width = 2
            case 2: width = 16
            default: throw DecodeError.invalid(context: r.context, reason: "format \(format)")
            }
            guard r.remaining > 0, r.remaining % (2 + width) == 0 else {
                throw DecodeError.invalid(context: r.context, reason: "information data of \(r.remaining) bytes")
            }
            var items: [(handle: UInt16, uuid: BluetoothUUID)] = []
            while !r.isAtEnd { items.append((try r.u16(), try BluetoothUUID(bytes: try r.bytes(width)))) }
            pdu = .findInformationResponse(items)
        case ATTOpcode.findByTypeValueRequest:
            pdu = .findByTypeValueRequest(start: try r.u16(), end: try r.u16(), type: try r.u16(), value: r.rest())
        case ATTOpcode.findByTypeValueResponse:
            guard r.remaining > 0, r.remaining % 4 == 0 else {
                throw DecodeError.invalid(context: r.context, reason: "handles information of \(r.remaining) bytes")
            }
            var items: [(found: UInt16, groupEnd: UInt16)] = []
            while !r.isAtEnd { items.append((try r.u16(), try r.u16())) }
            pdu = .findByTypeValueResponse(items)
        case ATTOpcode.readByTypeRequest:
            pdu = .readByTypeRequest(start: try r.u16(), end: try r.u16(), type: try uuid(&r))
        case ATTOpcode.readByTypeResponse:
            let len = Int(try r.u8())
            guard len >= 2, r.remaining > 0, r.remaining % len == 0 else {
                throw DecodeError.invalid(context: r.context, reason: "length \(len) with \(r.remaining) bytes")
            }
            var items: [ATTHandleValue] = []
            while !r.isAtEnd { items.append(ATTHandleValue(handle: try r.u16(), value: try r.bytes(len - 2))) }
            pdu = .readByTypeResponse(items)
        case ATTOpcode.readRequest: pdu = .readRequest(handle: try r.u16())
        case ATTOpcode.readResponse: pdu = .readResponse(value: r.rest())
        case ATTOpcode.readBlobRequest: pdu = .readBlobRequest(handle: try r.u16(), offset: try r.u16())
        case ATTOpcode.readBlobResponse: pdu = .readBlobResponse(value: r.rest())
        case ATTOpcode.readMultipleRequest: pdu = .readMultipleRequest(handles: try handles(&r, min: 2))
        case ATTOpcode.readMultipleResponse: pdu = .readMultipleResponse(values: r.rest())
        case ATTOpcode.readByGroupTypeRequest:
            pdu = .readByGroupTypeRequest(start: try r.u16(), end: try r.u16(), type: try uuid(&r))
        case ATTOpcode.readByGroupTypeResponse:
            let len = Int(try r.u8())
            guard len >= 4, r.remaining > 0, r.remaining % len == 0 else {
                throw DecodeError.invalid(context: r.context, reason: "length \(len) with \(r.remaining) bytes")
            }
            var items: [ATTGroupValue] = []
            while !r.isAtEnd {
                items.append(ATTGroupValue(handle: try r.u16(), endGroupHandle: try r.u16(), value: try r.bytes(len - 4)))
            }
            pdu = .readByGroupTypeResponse(items)
        case ATTOpcode.writeRequest: pdu = .writeRequest(handle: try r.u16(), value: r.rest())
        case ATTOpcode.writeResponse: pdu = .writeResponse
        case ATTOpcode.writeCommand: pdu = .writeCommand(handle: try r.u16(), value: r.rest())
        case ATTOpcode.signedWriteCommand:
            let handle = try r.u16()
            guard r.remaining >= 12 else { throw DecodeError.truncated(context: r.context, needed: 12, available: r.remaining) }
            let value = try r.bytes(r.remaining - 12)
            pdu = .signedWriteCommand(handle: handle, value: value, signature: try r.bytes(12))
        case ATTOpcode.prepareWriteRequest:
            pdu = .prepareWriteRequest(handle: try r.u16(), offset: try r.u16(), value: r.rest())
        case ATTOpcode.prepareWriteResponse:
            pdu = .prepareWriteResponse(handle: try r.u16(), offset: try r.u16(), value: r.rest())
        case ATTOpcode.executeWriteRequest: pdu = .executeWriteRequest(flags: try r.u8())
        case ATTOpcode.executeWriteResponse: pdu = .executeWriteResponse
        case ATTOpcode.handleValueNotification: pdu = .handleValueNotification(handle: try r.u16(), value: r.rest())
        case ATTOpcode.handleValueIndication: pdu = .handleValueIndication(handle: try r.u16(), value: r.rest())
        case ATTOpcode.handleValueConfirmation: pdu = .handleValueConfirmation
        case ATTOpcode.readMultipleVariableRequest: pdu = .readMultipleVariableRequest(handles: try handles(&r, min: 2))
        case ATTOpcode.readMultipleVariableResponse:
            var values: [[UInt8]] = []
            while !r.isAtEnd {
                let n = Int(try r.u16())
                // The last value may be cut by the MTU (Vol 3 Part F 3.4.4.12).
                values.append(try r.bytes(min(n, r.remaining)))
            }
            pdu = .readMultipleVariableResponse(values: values)
        case ATTOpcode.multipleHandleValueNotification:
            var values: [(handle: UInt16, value: [UInt8])] = []
            while !r.isAtEnd {
                let handle = try r.u16()
                let length = Int(try r.u16())
                values.append((handle, try r.bytes(length)))
            }
            guard values.count >= 2 else {
                throw DecodeError.invalid(context: r.context, reason: "\(values.count) handle-length-value tuple(s), 2 or more needed")
            }
            pdu = .multipleHandleValueNotification(values)
        default:
            throw ATTDecodeError(opcode: op, reason: "unknown opcode", unknownOpcode: true)
        }
        // Fixed-size PDUs must not carry extra bytes (variable ones consumed everything above).
        if !r.isAtEnd { throw DecodeError.invalid(context: r.context, reason: "\(r.remaining) trailing byte(s)") }
        return pdu
    }

    // MARK: Encoding

    public func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 8)
        switch self {
        case let .errorResponse(op, handle, error):
            w.u8(ATTOpcode.errorResponse); w.u8(op); w.u16(handle); w.u8(error)
        case let .exchangeMTURequest(mtu): w.u8(ATTOpcode.exchangeMTURequest); w.u16(mtu)
        case let .exchangeMTUResponse(mtu): w.u8(ATTOpcode.exchangeMTUResponse); w.u16(mtu)
        case let .findInformationRequest(s, e): w.u8(ATTOpcode.findInformationRequest); w.u16(s); w.u16(e)
        case let .findInformationResponse(items):
            w.u8(ATTOpcode.findInformationResponse)
            // One format for every pair (3.4.3.2): if any UUID needs 128 bits, all are sent in
            // 128 bits (a 16-bit one expanded on the Base UUID).
            let wide = items.contains { $0.uuid.attBytes.count == 16 }
            w.u8(wide ? 2 : 1)
            for i in items {
                w.u16(i.handle)
                w.append(wide ? BluetoothUUID(high: i.uuid.high, low: i.uuid.low).bytes : i.uuid.attBytes)
            }
        case let .findByTypeValueRequest(s, e, t, v):
            w.u8(ATTOpcode.findByTypeValueRequest); w.u16(s); w.u16(e); w.u16(t); w.append(v)
        case let .findByTypeValueResponse(items):
            w.u8(ATTOpcode.findByTypeValueResponse)
            for i in items { w.u16(i.found); w.u16(i.groupEnd) }
        case let .readByTypeRequest(s, e, t):
            w.u8(ATTOpcode.readByTypeRequest); w.u16(s); w.u16(e); w.append(t.attBytes)
        case let .readByTypeResponse(items):
            w.u8(ATTOpcode.readByTypeResponse)
            w.u8(UInt8(truncatingIfNeeded: 2 + (items.first?.value.count ?? 0)))
            for i in items { w.u16(i.handle); w.append(i.value) }
        case let .readRequest(h): w.u8(ATTOpcode.readRequest); w.u16(h)
        case let .readResponse(v): w.u8(ATTOpcode.readResponse); w.append(v)
        case let .readBlobRequest(h, o): w.u8(ATTOpcode.readBlobRequest); w.u16(h); w.u16(o)
        case let .readBlobResponse(v): w.u8(ATTOpcode.readBlobResponse); w.append(v)
        case let .readMultipleRequest(hs): w.u8(ATTOpcode.readMultipleRequest); for h in hs { w.u16(h) }
        case let .readMultipleResponse(v): w.u8(ATTOpcode.readMultipleResponse); w.append(v)
        case let .readByGroupTypeRequest(s, e, t):
            w.u8(ATTOpcode.readByGroupTypeRequest); w.u16(s); w.u16(e); w.append(t.attBytes)
        case let .readByGroupTypeResponse(items):
            w.u8(ATTOpcode.readByGroupTypeResponse)
            w.u8(UInt8(truncatingIfNeeded: 4 + (items.first?.value.count ?? 0)))
            for i in items { w.u16(i.handle); w.u16(i.endGroupHandle); w.append(i.value) }
        case let .writeRequest(h, v): w.u8(ATTOpcode.writeRequest); w.u16(h); w.append(v)
        case .writeResponse: w.u8(ATTOpcode.writeResponse)
        case let .writeCommand(h, v): w.u8(ATTOpcode.writeCommand); w.u16(h); w.append(v)
        case let .signedWriteCommand(h, v, s): w.u8(ATTOpcode.signedWriteCommand); w.u16(h); w.append(v); w.append(s)
        case let .prepareWriteRequest(h, o, v): w.u8(ATTOpcode.prepareWriteRequest); w.u16(h); w.u16(o); w.append(v)
        case let .prepareWriteResponse(h, o, v): w.u8(ATTOpcode.prepareWriteResponse); w.u16(h); w.u16(o); w.append(v)
        case let .executeWriteRequest(f): w.u8(ATTOpcode.executeWriteRequest); w.u8(f)
        case .executeWriteResponse: w.u8(ATTOpcode.executeWriteResponse)
        case let .handleValueNotification(h, v): w.u8(ATTOpcode.handleValueNotification); w.u16(h); w.append(v)
        case let .handleValueIndication(h, v): w.u8(ATTOpcode.handleValueIndication); w.u16(h); w.append(v)
        case .handleValueConfirmation: w.u8(ATTOpcode.handleValueConfirmation)
        case let .readMultipleVariableRequest(hs): w.u8(ATTOpcode.readMultipleVariableRequest); for h in hs { w.u16(h) }
        case let .readMultipleVariableResponse(vs):
            w.u8(ATTOpcode.readMultipleVariableResponse)
            for v in vs { w.u16(UInt16(truncatingIfNeeded: v.count)); w.append(v) }
        case let .multipleHandleValueNotification(values):
            w.u8(ATTOpcode.multipleHandleValueNotification)
            for v in values {
                w.u16(v.handle)
                w.u16(UInt16(truncatingIfNeeded: v.value.count))
                w.append(v.value)
            }
        }
        return w.bytes
    }
}

/// A PDU that could not be parsed; `opcode` is what the peer sent, for the Error Response.
public struct ATTDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var opcode: UInt8
    public var reason: String
    public var unknownOpcode = false
    public var description: String { "ATT PDU 0x\(String(opcode, radix: 16)): \(reason)" }
}
