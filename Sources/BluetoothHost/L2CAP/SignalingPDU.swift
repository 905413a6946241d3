import BluetoothCore

/// An LE signaling channel command (Core Vol 3 Part A 4): code, identifier, length, data.
struct SignalingCommand: Equatable {
    var code: UInt8
    var identifier: UInt8
    var data: [UInt8]

    static let commandReject: UInt8 = 0x01
    static let disconnectionRequest: UInt8 = 0x06
    static let connectionParameterUpdateRequest: UInt8 = 0x12
    static let connectionParameterUpdateResponse: UInt8 = 0x13

    init(code: UInt8, identifier: UInt8, data: [UInt8]) {
        self.code = code
        self.identifier = identifier
        self.data = data
    }

    /// The LE signaling channel carries exactly one command per PDU (Vol 3 Part A 4), so the
    /// Length field must account for every byte after the header: fewer bytes than it says, or
    /// more (trailing bytes, a second command), is a malformed PDU.
    init(parsing bytes: [UInt8]) throws {
        var r = ByteReader(bytes, context: "L2CAP signaling command")
        code = try r.u8()
        identifier = try r.u8()
        let len = Int(try r.u16())
        data = try r.bytes(len)
        try r.expectEnd()
    }

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: data.count + 4)
        w.u8(code)
        w.u8(identifier)
        w.u16(UInt16(truncatingIfNeeded: data.count))
        w.append(data)
        return w.bytes
    }

    /// Command Reject with reason 0x0000 "Command not understood".
    static func reject(identifier: UInt8, reason: UInt16 = 0x0000) -> SignalingCommand {
        var w = ByteWriter()
        w.u16(reason)
        return SignalingCommand(code: commandReject, identifier: identifier, data: w.bytes)
    }
}

/// Connection Parameter Update Request (Vol 3 Part A 4.20).
struct ConnectionParameterUpdateRequest: Equatable {
    var intervalMin: UInt16
    var intervalMax: UInt16
    var latency: UInt16
    var timeout: UInt16

    init(intervalMin: UInt16, intervalMax: UInt16, latency: UInt16, timeout: UInt16) {
        self.intervalMin = intervalMin
        self.intervalMax = intervalMax
        self.latency = latency
        self.timeout = timeout
    }

    init(data: [UInt8]) throws {
        var r = ByteReader(data, context: "Connection Parameter Update Request")
        intervalMin = try r.u16()
        intervalMax = try r.u16()
        latency = try r.u16()
        timeout = try r.u16()
        try r.expectEnd()
    }

    /// The command's data: Interval Min, Interval Max, Latency, Timeout (2 octets each).
    var data: [UInt8] {
        var w = ByteWriter(capacity: 8)
        w.u16(intervalMin)
        w.u16(intervalMax)
        w.u16(latency)
        w.u16(timeout)
        return w.bytes
    }

    func command(identifier: UInt8) -> SignalingCommand {
        SignalingCommand(code: SignalingCommand.connectionParameterUpdateRequest, identifier: identifier, data: data)
    }

    /// Ranges of Vol 3 Part A 4.20 and Vol 6 Part B 4.5.2.
    var isAcceptable: Bool {
        (6...3200).contains(intervalMin) && (6...3200).contains(intervalMax) && intervalMin <= intervalMax
            && latency <= 499 && (10...3200).contains(timeout)
            && Int(timeout) * 4 > (1 + Int(latency)) * Int(intervalMax)  // timeout(10ms) > (1+lat)*max(1.25ms)*2
    }
}
