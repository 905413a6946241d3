/// Namespace for HCI commands and events (Core Vol 4 Part E 7).
public enum HCI {}

/// An HCI command: a value with its opcode, encodable to parameter bytes (host side) and parseable
/// from them (controller side).
public protocol HCICommand: Sendable {
    static var opcode: HCIOpcode { get }
    /// The return parameters after the status byte of Command Complete.
    associatedtype Return: HCIReturnParameters = HCI.NoReturn
    /// True for commands the controller answers with Command Status, then a later event
    /// (Disconnect, LE Create Connection, LE Connection Update, ...).
    static var completesWithStatus: Bool { get }
    func encodeParameters(into w: inout ByteWriter)
    init(parameters r: inout ByteReader) throws
}

extension HCICommand {
    public static var completesWithStatus: Bool { false }

    /// The complete command packet: opcode, parameter length, parameters.
    public func packetBytes() -> [UInt8] {
        var p = ByteWriter()
        encodeParameters(into: &p)
        var w = ByteWriter(capacity: p.bytes.count + 3)
        w.u16(Self.opcode.rawValue)
        w.u8(UInt8(truncatingIfNeeded: p.bytes.count))
        w.append(p.bytes)
        return w.bytes
    }

    public var packet: HCIPacket { HCIPacket(.command, packetBytes()) }

    /// Parses parameters (the bytes after the 3-byte header); extra trailing bytes are tolerated as
    /// the spec asks of receivers that may meet newer versions of a command.
    public init(parameterBytes: [UInt8]) throws {
        var r = ByteReader(parameterBytes, context: "\(Self.opcode)")
        try self.init(parameters: &r)
    }
}

/// The return parameters of Command Complete, after the status byte.
public protocol HCIReturnParameters: Sendable {
    init(returnParameters r: inout ByteReader) throws
    func encode(into w: inout ByteWriter)
}

extension HCIReturnParameters {
    /// Return parameters with the status byte in front, as a controller sends them.
    public func bytes(status: HCIStatus = .success) -> [UInt8] {
        var w = ByteWriter()
        w.u8(status.rawValue)
        if status.isSuccess { encode(into: &w) }
        return w.bytes
    }
}

extension HCI {
    /// Commands that return only a status.
    public struct NoReturn: HCIReturnParameters, Equatable {
        public init() {}
        public init(returnParameters r: inout ByteReader) throws {}
        public func encode(into w: inout ByteWriter) {}
    }

    /// Return parameters holding only a connection handle.
    public struct HandleReturn: HCIReturnParameters, Equatable {
        public var handle: UInt16
        public init(handle: UInt16) { self.handle = handle }
        public init(returnParameters r: inout ByteReader) throws { handle = try r.u16() }
        public func encode(into w: inout ByteWriter) { w.u16(handle) }
    }

    /// A command as a controller receives it: opcode and raw parameters.
    public struct CommandPacket: Sendable, Equatable {
        public var opcode: HCIOpcode
        public var parameters: [UInt8]
        public init(opcode: HCIOpcode, parameters: [UInt8]) {
            self.opcode = opcode
            self.parameters = parameters
        }
        public init(parsing bytes: [UInt8]) throws {
            var r = ByteReader(bytes, context: "HCI command")
            opcode = HCIOpcode(rawValue: try r.u16())
            let len = Int(try r.u8())
            parameters = try r.bytes(len)
        }
        public func decode<C: HCICommand>(_ type: C.Type) throws -> C {
            try C(parameterBytes: parameters)
        }
    }
}

/// Commands whose parameter list is empty.
public protocol HCIParameterlessCommand: HCICommand {
    init()
}

extension HCIParameterlessCommand {
    public func encodeParameters(into w: inout ByteWriter) {}
    public init(parameters r: inout ByteReader) throws { self.init() }
}
