import Testing
import BluetoothCore

/// Deterministic random input for every parser that reads bytes from outside: none may trap, every
/// rejection is the parser's own error type, and whatever parses re-encodes to bytes that parse
/// again to an equal value. A re-encoding that does not parse is a failure, never a "rejection":
/// that is how an encoder that drops a field shows up. Where the format reserves nothing, the
/// re-encoding must be exactly the bytes the parser read; the few fields that make this impossible
/// are named where their `canonical` function is given.
///
/// Every failure prints the loop's seed, the iteration and the input in hex (`FuzzFailures`).
struct CodecFuzzTests {
    static let iterations = 20_000

    /// Mostly short inputs, some empty, some longer than any single HCI packet.
    private static func randomLength(_ g: inout CodecSeededGenerator) -> Int {
        switch Int.random(in: 0..<10, using: &g) {
        case 0: return Int.random(in: 0...3, using: &g)
        case 1..<8: return Int.random(in: 0...48, using: &g)
        default: return Int.random(in: 0...300, using: &g)
        }
    }

    // MARK: The round-trip check

    /// What one parser made of one input.
    enum RoundTrip: Equatable {
        /// The parser threw `DecodeError`.
        case rejected
        /// Parsed, and re-encoded to exactly the (canonical) bytes read.
        case exact
        case failed(String)
    }

    typealias Check = @Sendable ([UInt8]) -> RoundTrip
    typealias Canonical = @Sendable ([UInt8]) -> [UInt8]

    /// Parses `input`; the value must encode to bytes that parse back to an equal value with
    /// nothing left over, and those bytes must equal `canonical` of the bytes the parser read
    /// (parsers read a prefix: HCI receivers ignore parameters past the ones they know).
    static func roundTrip<T: Equatable>(_ name: String, _ input: [UInt8], parse: (inout ByteReader) throws -> T,
                                        encode: (T) -> [UInt8], canonical: Canonical) -> RoundTrip {
        var r = ByteReader(input)
        let value: T
        do {
            value = try parse(&r)
        } catch is DecodeError {
            return .rejected
        } catch {
            return .failed("\(name): unexpected error type \(type(of: error)): \(error)")
        }
        let read = Array(input.prefix(r.offset))
        let encoded = encode(value)
        var again = ByteReader(encoded)
        let second: T
        do {
            second = try parse(&again)
        } catch {
            return .failed("\(name): parsed as \(value), but its re-encoding [\(CodecBytes.hexString(encoded))] "
                           + "does not parse: \(error)")
        }
        guard second == value else {
            return .failed("\(name): parsed as \(value), re-encoded [\(CodecBytes.hexString(encoded))], parsed again as \(second)")
        }
        guard again.isAtEnd else {
            return .failed("\(name): the re-encoding [\(CodecBytes.hexString(encoded))] has \(again.remaining) byte(s) "
                           + "the parser does not read")
        }
        let expected = canonical(read)
        guard encoded == expected else {
            return .failed("\(name): read [\(CodecBytes.hexString(read))] (canonical [\(CodecBytes.hexString(expected))]) "
                           + "as \(value), re-encoded as [\(CodecBytes.hexString(encoded))]")
        }
        return .exact
    }

    static let identity: Canonical = { $0 }

    /// Boolean parameters are read as "non-zero" and written as 0x01; their values 0x02...0xFF are
    /// reserved, and re-encode as 0x01.
    static func bools(at offsets: [Int]) -> Canonical {
        { bytes in
            var b = bytes
            for o in offsets where o < b.count { b[o] = b[o] == 0 ? 0 : 1 }
            return b
        }
    }

    static func command<C: HCICommand & Equatable>(_ type: C.Type, canonical: @escaping Canonical = identity)
        -> (String, Check) {
        ("\(C.self)", { input in
            roundTrip("\(C.self)", input, parse: { try C(parameters: &$0) },
                      encode: { Array($0.packetBytes().dropFirst(3)) }, canonical: canonical)
        })
    }

    static func returnParameters<C: HCICommand>(_ type: C.Type) -> (String, Check) where C.Return: Equatable {
        ("\(C.self).Return", { input in
            roundTrip("\(C.self).Return", input, parse: { try C.Return(returnParameters: &$0) },
                      encode: { value in
                          var w = ByteWriter()
                          value.encode(into: &w)
                          return w.bytes
                      }, canonical: identity)
        })
    }

    static func event<E: HCIEventParameters & Equatable>(_ type: E.Type, canonical: @escaping Canonical = identity)
        -> (String, Check) {
        ("\(E.self)", { input in
            roundTrip("\(E.self)", input, parse: { try E(parameters: &$0) },
                      encode: { value in
                          var w = ByteWriter()
                          value.encodeParameters(into: &w)
                          return w.bytes
                      }, canonical: canonical)
        })
    }

    // MARK: Fields that cannot re-encode byte for byte

    /// LE Set Advertising Data / Scan Response Data (7.8.7, 7.8.8): only the first
    /// Advertising_Data_Length octets of the 31-octet field are significant; the encoder pads
    /// the rest with zeros.
    static let paddedAdvertisingData: Canonical = { bytes in
        var b = bytes
        if b.count == 32, b[0] <= 31 { for i in (1 + Int(b[0]))..<32 { b[i] = 0 } }
        return b
    }

    /// LE Set Extended Scan Parameters (7.8.64): LE_Scan_Type of each PHY entry is a boolean here.
    static let extendedScanTypes: Canonical = { bytes in
        guard bytes.count >= 3 else { return bytes }
        return bools(at: (0..<bytes[2].nonzeroBitCount).map { 3 + 5 * $0 })(bytes)
    }

    /// Number Of Completed Packets (7.7.19): Connection_Handle is 12 bits; the parser clears the
    /// top 4 bits (RFU), so they re-encode as zero.
    static let completedPacketHandles: Canonical = { bytes in
        var b = bytes
        guard let n = b.first else { return b }
        for i in 0..<Int(n) where 2 + 4 * i < b.count { b[2 + 4 * i] &= 0x0F }
        return b
    }

    // MARK: HCI events, as the host parses them

    /// The event packet of a parsed event, built from the event structs.
    private static func encode(_ event: HCIEvent) -> [UInt8] {
        switch event {
        case .disconnectionComplete(let e): return e.packetBytes()
        case .encryptionChange(let e): return e.packetBytes()
        case .encryptionKeyRefreshComplete(let e): return e.packetBytes()
        case .commandComplete(let e): return e.packetBytes()
        case .commandStatus(let e): return e.packetBytes()
        case .hardwareError(let e): return e.packetBytes()
        case .numberOfCompletedPackets(let e): return e.packetBytes()
        case .dataBufferOverflow(let linkType): return [0x1A, 0x01, linkType]
        case .leConnectionComplete(let e): return e.packetBytes()
        case .leAdvertisingReport(let e): return e.packetBytes()
        case .leConnectionUpdateComplete(let e): return e.packetBytes()
        case .leLongTermKeyRequest(let e): return e.packetBytes()
        case .leRemoteConnectionParameterRequest(let e): return e.packetBytes()
        case .leDataLengthChange(let e): return e.packetBytes()
        case .leEnhancedConnectionComplete(let e): return e.packetBytes()
        case .leExtendedAdvertisingReport(let e): return e.packetBytes()
        case .leScanTimeout: return HCI.LEScanTimeout().packetBytes()
        case .leAdvertisingSetTerminated(let e): return e.packetBytes()
        case .leMeta(let subevent, let parameters):
            return [0x3E, UInt8(truncatingIfNeeded: parameters.count + 1), subevent] + parameters
        case .unknown(let code, let parameters):
            return [code, UInt8(truncatingIfNeeded: parameters.count)] + parameters
        }
    }

    /// How many parameter bytes (subevent code included) the struct's parser reads.
    private static func bytesRead<E: HCIEventParameters>(_ type: E.Type, _ parameters: [UInt8]) -> Int {
        let skip = E.subeventCode == nil ? 0 : 1
        var r = ByteReader(Array(parameters.dropFirst(skip)))
        _ = try? E(parameters: &r)
        return skip + r.offset
    }

    /// The packet an event must re-encode to: the input's code, the parameters the parser read
    /// (trailing ones are ignored) with the length byte made to match, and the reserved handle
    /// bits of Number Of Completed Packets cleared.
    private static func canonical(_ packet: [UInt8], _ event: HCIEvent) -> [UInt8] {
        let parameters = Array(packet.dropFirst(2))
        let read: Int
        switch event {
        case .disconnectionComplete: read = bytesRead(HCI.DisconnectionComplete.self, parameters)
        case .encryptionChange: read = bytesRead(HCI.EncryptionChange.self, parameters)
        case .encryptionKeyRefreshComplete: read = bytesRead(HCI.EncryptionKeyRefreshComplete.self, parameters)
        case .commandComplete: read = bytesRead(HCI.CommandComplete.self, parameters)
        case .commandStatus: read = bytesRead(HCI.CommandStatus.self, parameters)
        case .hardwareError: read = bytesRead(HCI.HardwareError.self, parameters)
        case .numberOfCompletedPackets:
            let n = bytesRead(HCI.NumberOfCompletedPackets.self, parameters)
            return [packet[0], UInt8(truncatingIfNeeded: n)] + completedPacketHandles(Array(parameters.prefix(n)))
        case .dataBufferOverflow: read = 1
        case .leConnectionComplete: read = bytesRead(HCI.LEConnectionComplete.self, parameters)
        case .leAdvertisingReport: read = bytesRead(HCI.LEAdvertisingReport.self, parameters)
        case .leConnectionUpdateComplete: read = bytesRead(HCI.LEConnectionUpdateComplete.self, parameters)
        case .leLongTermKeyRequest: read = bytesRead(HCI.LELongTermKeyRequest.self, parameters)
        case .leRemoteConnectionParameterRequest:
            read = bytesRead(HCI.LERemoteConnectionParameterRequest.self, parameters)
        case .leDataLengthChange: read = bytesRead(HCI.LEDataLengthChange.self, parameters)
        case .leEnhancedConnectionComplete: read = bytesRead(HCI.LEEnhancedConnectionComplete.self, parameters)
        case .leExtendedAdvertisingReport: read = bytesRead(HCI.LEExtendedAdvertisingReport.self, parameters)
        case .leScanTimeout: read = 1
        case .leAdvertisingSetTerminated: read = bytesRead(HCI.LEAdvertisingSetTerminated.self, parameters)
        case .leMeta, .unknown: read = parameters.count
        }
        return [packet[0], UInt8(truncatingIfNeeded: read)] + parameters.prefix(read)
    }

    @Test func hciEventParsingNeverTraps() {
        let seed: UInt64 = 0x0E0E_0E0E
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        let codes: [UInt8] = [0x05, 0x08, 0x0E, 0x0F, 0x10, 0x13, 0x1A, 0x30, 0x3E, 0x3E, 0x3E, 0x3E]
        let subevents: [UInt8] = [0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x0A, 0x0D, 0x0D, 0x11, 0x12, 0x04]
        var parsed = 0, rejected = 0
        for iteration in 0..<Self.iterations {
            var bytes = g.bytes(count: Self.randomLength(&g))
            if bytes.count >= 2, Bool.random(using: &g) {
                // A consistent header, so that the field parsers are reached.
                bytes = Array(bytes.prefix(257))
                bytes[0] = g.pick(codes)
                bytes[1] = UInt8(bytes.count - 2)
                if bytes[0] == 0x13, bytes.count >= 3 { bytes[2] = UInt8.random(in: 0...4, using: &g) }
                if bytes[0] == 0x3E, bytes.count >= 3 { bytes[2] = g.pick(subevents) }
                if bytes[0] == 0x3E, bytes.count >= 4, Bool.random(using: &g) { bytes[3] = UInt8.random(in: 0...3, using: &g) }
            }
            let event: HCIEvent
            do {
                event = try HCIEvent(parsing: bytes)
            } catch is DecodeError {
                rejected += 1
                continue
            } catch {
                failures.record("unexpected error \(error)", iteration: iteration, input: bytes)
                continue
            }
            parsed += 1
            let encoded = Self.encode(event)
            let again: HCIEvent
            do {
                again = try HCIEvent(parsing: encoded)
            } catch {
                failures.record("parsed as \(event), but its re-encoding [\(CodecBytes.hexString(encoded))] does not parse: \(error)",
                                iteration: iteration, input: bytes)
                continue
            }
            if again != event {
                failures.record("parsed as \(event), re-encoded and parsed as \(again)", iteration: iteration, input: bytes)
                continue
            }
            let expected = Self.canonical(bytes, event)
            if encoded != expected {
                failures.record("parsed as \(event), re-encoded as [\(CodecBytes.hexString(encoded))], "
                                + "expected [\(CodecBytes.hexString(expected))]", iteration: iteration, input: bytes)
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(parsed > 1_000)
        #expect(rejected > 1_000)
    }

    // MARK: Every parameter struct: commands (the virtual controller parses them), return
    // parameters and events

    static let commandChecks: [(String, Check)] = [
        command(HCI.Disconnect.self),
        command(HCI.SetEventMask.self),
        command(HCI.Reset.self),
        command(HCI.ReadLocalVersionInformation.self),
        command(HCI.ReadLocalSupportedCommands.self),
        command(HCI.ReadLocalSupportedFeatures.self),
        command(HCI.ReadBufferSize.self),
        command(HCI.ReadBDADDR.self),
        command(HCI.ReadRSSI.self),
        command(HCI.LESetEventMask.self),
        command(HCI.LEReadBufferSize.self),
        command(HCI.LEReadBufferSizeV2.self),
        command(HCI.LEReadLocalSupportedFeatures.self),
        command(HCI.LESetRandomAddress.self),
        command(HCI.LESetAdvertisingParameters.self),
        command(HCI.LESetAdvertisingData.self, canonical: paddedAdvertisingData),
        command(HCI.LESetScanResponseData.self, canonical: paddedAdvertisingData),
        // Advertising_Enable.
        command(HCI.LESetAdvertisingEnable.self, canonical: bools(at: [0])),
        // LE_Scan_Type.
        command(HCI.LESetScanParameters.self, canonical: bools(at: [0])),
        // LE_Scan_Enable, Filter_Duplicates.
        command(HCI.LESetScanEnable.self, canonical: bools(at: [0, 1])),
        command(HCI.LECreateConnection.self),
        command(HCI.LECreateConnectionCancel.self),
        command(HCI.LEConnectionUpdate.self),
        command(HCI.LERand.self),
        command(HCI.LESetAdvertisingSetRandomAddress.self),
        // Scan_Request_Notification_Enable, the last of 25 octets.
        command(HCI.LESetExtendedAdvertisingParameters.self, canonical: bools(at: [24])),
        command(HCI.LESetExtendedAdvertisingData.self),
        command(HCI.LESetExtendedScanResponseData.self),
        // Enable.
        command(HCI.LESetExtendedAdvertisingEnable.self, canonical: bools(at: [0])),
        command(HCI.LERemoveAdvertisingSet.self),
        command(HCI.LESetExtendedScanParameters.self, canonical: extendedScanTypes),
        // Enable.
        command(HCI.LESetExtendedScanEnable.self, canonical: bools(at: [0])),
        command(HCI.LEExtendedCreateConnection.self),
        command(HCI.ReadRemoteVersionInformation.self),
        command(HCI.LEReadAdvertisingPhysicalChannelTxPower.self),
        command(HCI.LEReadFilterAcceptListSize.self),
        command(HCI.LEClearFilterAcceptList.self),
        command(HCI.LEAddDeviceToFilterAcceptList.self),
        command(HCI.LERemoveDeviceFromFilterAcceptList.self),
        command(HCI.LEReadRemoteFeatures.self),
        command(HCI.LEEncrypt.self),
        command(HCI.LEEnableEncryption.self),
        command(HCI.LELongTermKeyRequestReply.self),
        command(HCI.LELongTermKeyRequestNegativeReply.self),
        command(HCI.LEReadSupportedStates.self),
        command(HCI.LERemoteConnectionParameterRequestReply.self),
        command(HCI.LERemoteConnectionParameterRequestNegativeReply.self),
        command(HCI.LESetDataLength.self),
        command(HCI.LEReadSuggestedDefaultDataLength.self),
        command(HCI.LEWriteSuggestedDefaultDataLength.self),
        command(HCI.LEReadMaximumDataLength.self),
        command(HCI.LEReadMaximumAdvertisingDataLength.self),
        command(HCI.LEReadNumberOfSupportedAdvertisingSets.self),
        command(HCI.LEClearAdvertisingSets.self),
    ]

    static let returnChecks: [(String, Check)] = [
        returnParameters(HCI.ReadLocalVersionInformation.self),
        returnParameters(HCI.ReadLocalSupportedCommands.self),
        returnParameters(HCI.ReadLocalSupportedFeatures.self),
        returnParameters(HCI.ReadBufferSize.self),
        returnParameters(HCI.ReadBDADDR.self),
        returnParameters(HCI.ReadRSSI.self),
        returnParameters(HCI.LEReadBufferSize.self),
        returnParameters(HCI.LEReadBufferSizeV2.self),
        returnParameters(HCI.LEReadLocalSupportedFeatures.self),
        returnParameters(HCI.LERand.self),
        returnParameters(HCI.LESetExtendedAdvertisingParameters.self),
        returnParameters(HCI.Reset.self),
        returnParameters(HCI.LEReadAdvertisingPhysicalChannelTxPower.self),
        returnParameters(HCI.LEReadFilterAcceptListSize.self),
        returnParameters(HCI.LEEncrypt.self),
        returnParameters(HCI.LELongTermKeyRequestReply.self),
        returnParameters(HCI.LEReadSupportedStates.self),
        returnParameters(HCI.LEReadSuggestedDefaultDataLength.self),
        returnParameters(HCI.LEReadMaximumDataLength.self),
        returnParameters(HCI.LEReadMaximumAdvertisingDataLength.self),
        returnParameters(HCI.LEReadNumberOfSupportedAdvertisingSets.self),
    ]

    /// Event parameters after the subevent code.
    static let eventChecks: [(String, Check)] = [
        event(HCI.DisconnectionComplete.self),
        event(HCI.EncryptionChange.self),
        event(HCI.CommandComplete.self),
        event(HCI.CommandStatus.self),
        event(HCI.HardwareError.self),
        event(HCI.NumberOfCompletedPackets.self, canonical: completedPacketHandles),
        event(HCI.LEConnectionComplete.self),
        event(HCI.LEEnhancedConnectionComplete.self),
        event(HCI.LEAdvertisingReport.self),
        event(HCI.LEConnectionUpdateComplete.self),
        event(HCI.LEExtendedAdvertisingReport.self),
        event(HCI.LEAdvertisingSetTerminated.self),
        event(HCI.LEScanTimeout.self),
        event(HCI.ReadRemoteVersionInformationComplete.self),
        event(HCI.EncryptionKeyRefreshComplete.self),
        event(HCI.LEReadRemoteFeaturesComplete.self),
        event(HCI.LELongTermKeyRequest.self),
        event(HCI.LERemoteConnectionParameterRequest.self),
        event(HCI.LEDataLengthChange.self),
    ]

    @Test func hciCommandParsingNeverTraps() {
        let seed: UInt64 = 0xC0DE_C0DE
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        var parsed = 0, rejected = 0
        for iteration in 0..<Self.iterations {
            var bytes = g.bytes(count: Self.randomLength(&g))
            if bytes.count >= 3, Bool.random(using: &g) {
                bytes = Array(bytes.prefix(258))
                bytes[2] = UInt8(bytes.count - 3)
            }
            do {
                let packet = try HCI.CommandPacket(parsing: bytes)
                parsed += 1
                // Exactly the header's length is read; the rest of the buffer is not this packet's.
                let expected = Array(bytes.prefix(3 + Int(bytes[2])))
                let encoded = [UInt8(truncatingIfNeeded: packet.opcode.rawValue), UInt8(packet.opcode.rawValue >> 8),
                               UInt8(truncatingIfNeeded: packet.parameters.count)] + packet.parameters
                if encoded != expected {
                    failures.record("parsed as \(packet), which is [\(CodecBytes.hexString(encoded))]",
                                    iteration: iteration, input: bytes)
                }
            } catch is DecodeError {
                rejected += 1
            } catch {
                failures.record("unexpected error \(error)", iteration: iteration, input: bytes)
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(parsed > 1_000)
        #expect(rejected > 1_000)
    }

    /// Random parameters through every check of `checks`; each check must re-encode exactly at
    /// least `minimumExact` times, so that no parser is left unreached.
    private static func fuzzParameterStructs(_ checks: [(String, Check)], seed: UInt64, minimumExact: Int) {
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        var exact = [Int](repeating: 0, count: checks.count)
        for iteration in 0..<Self.iterations {
            var bytes = g.bytes(count: Self.randomLength(&g))
            // Small counts and PHY bitmaps, so that list parsers find whole entries.
            if !bytes.isEmpty, Int.random(in: 0..<3, using: &g) == 0 { bytes[0] = UInt8.random(in: 0...3, using: &g) }
            if bytes.count > 2, Int.random(in: 0..<3, using: &g) == 0 { bytes[2] = g.pick([0x00, 0x01, 0x04, 0x05, 0x07]) }
            if bytes.count > 3, Int.random(in: 0..<3, using: &g) == 0 { bytes[3] = UInt8.random(in: 0...31, using: &g) }
            for (i, (_, check)) in checks.enumerated() {
                switch check(bytes) {
                case .rejected: break
                case .exact: exact[i] += 1
                case .failed(let message): failures.record(message, iteration: iteration, input: bytes)
                }
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        for (i, (name, _)) in checks.enumerated() {
            #expect(exact[i] >= minimumExact, "\(name) re-encoded exactly only \(exact[i]) times (seed 0x\(String(seed, radix: 16)))")
        }
    }

    @Test func hciCommandParametersRoundTripExactly() {
        Self.fuzzParameterStructs(Self.commandChecks, seed: 0xC0DE_0001, minimumExact: 20)
    }

    @Test func hciReturnParametersRoundTripExactly() {
        Self.fuzzParameterStructs(Self.returnChecks, seed: 0xC0DE_0002, minimumExact: 20)
    }

    @Test func hciEventParametersRoundTripExactly() {
        Self.fuzzParameterStructs(Self.eventChecks, seed: 0xC0DE_0003, minimumExact: 20)
    }

    // MARK: ACL headers, advertising data, UUIDs, addresses

    @Test func aclHeaderParsingNeverTraps() {
        let seed: UInt64 = 0xAC1
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        var parsed = 0
        for iteration in 0..<Self.iterations {
            let bytes = g.bytes(count: Int.random(in: 0...8, using: &g))
            do {
                let header = try ACLHeader(parsing: bytes)
                parsed += 1
                var w = ByteWriter()
                header.encode(into: &w)
                // Every bit of the 4-byte header is represented, so it re-encodes exactly.
                if w.bytes != Array(bytes.prefix(4)) {
                    failures.record("parsed as \(header), re-encoded as [\(CodecBytes.hexString(w.bytes))]",
                                    iteration: iteration, input: bytes)
                }
            } catch is DecodeError {
                if bytes.count >= 4 { failures.record("rejected 4 bytes or more", iteration: iteration, input: bytes) }
            } catch {
                failures.record("unexpected error \(error)", iteration: iteration, input: bytes)
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(parsed > 5_000)
    }

    @Test func advertisingDataParsingNeverTraps() {
        let seed: UInt64 = 0xAD
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        var fields = 0
        for iteration in 0..<Self.iterations {
            var bytes = g.bytes(count: Self.randomLength(&g))
            // Small length bytes, so that several structures are found.
            var i = 0
            while i < bytes.count, Bool.random(using: &g) {
                bytes[i] = UInt8.random(in: 1...6, using: &g)
                i += Int(bytes[i]) + 1
            }
            let ad = AdvertisingData(parsing: bytes)
            fields += ad.fields.count
            // The structures read re-encode to exactly the bytes they came from, and parse again
            // to the same fields.
            if Array(bytes.prefix(ad.bytes.count)) != ad.bytes || AdvertisingData(parsing: ad.bytes) != ad {
                failures.record("parsed as \(ad.fields), re-encoded as [\(CodecBytes.hexString(ad.bytes))]",
                                iteration: iteration, input: bytes)
            }
            // The parse stops only at the end, at a zero length, or at a structure that runs past
            // the end.
            let stop = ad.bytes.count
            if stop < bytes.count, bytes[stop] != 0, stop + 1 + Int(bytes[stop]) <= bytes.count {
                failures.record("stopped at \(stop) before a whole structure", iteration: iteration, input: bytes)
            }
            _ = ad.name
            _ = ad.manufacturerData
            for u in ad.serviceUUIDs where ![2, 4, 16].contains(u.width) {
                failures.record("service UUID of width \(u.width)", iteration: iteration, input: bytes)
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(fields > 10_000)
    }

    /// The text between the parentheses (and quotes) of a description parses back.
    private static func reparse(_ u: BluetoothUUID) throws -> BluetoothUUID {
        let inner = u.description.dropFirst("UUID(".count).dropLast().filter { $0 != "'" }
        return try BluetoothUUID(String(inner))
    }

    @Test func uuidFromBytesNeverTraps() throws {
        let seed: UInt64 = 0x0055_1D
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        for iteration in 0..<Self.iterations {
            let bytes = g.bytes(count: Int.random(in: 0...20, using: &g))
            do {
                let u = try BluetoothUUID(bytes: bytes)
                if ![2, 4, 16].contains(bytes.count) || u.bytes != bytes || (try? Self.reparse(u)) != u {
                    failures.record("parsed as \(u), bytes [\(CodecBytes.hexString(u.bytes))]", iteration: iteration, input: bytes)
                }
            } catch let error as UUIDError {
                if error != .invalidLength(bytes.count) {
                    failures.record("unexpected error \(error)", iteration: iteration, input: bytes)
                }
            }
        }
        failures.finish()
        #expect(failures.count == 0)
    }

    @Test func uuidAndAddressStringsNeverTrap() throws {
        let seed: UInt64 = 0x5791_26
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        let uuidAlphabet = Array("0123456789abcdefABCDEF-xXg {}'+")
        let addressAlphabet = Array("0123456789abcdefABCDEF:-+ g")
        let hexDigits = Array("0123456789abcdef")
        var uuids = 0, addresses = 0
        for iteration in 0..<Self.iterations {
            // Sometimes a string of a length the parsers accept.
            let uuidLength = g.pick([4, 6, 8, 32, 36, Int.random(in: 0...40, using: &g)])
            let text = String((0..<uuidLength).map { _ in g.pick(uuidAlphabet) })
            if let u = try? BluetoothUUID(text) {
                uuids += 1
                if (try? Self.reparse(u)) != u {
                    failures.record("\(u) does not parse back", iteration: iteration, inputText: "\"\(text)\"")
                }
            }
            let shaped = (0..<6).map { _ in String([g.pick(hexDigits), g.pick(addressAlphabet)]) }
            let addressText = Bool.random(using: &g)
                ? shaped.joined(separator: ":")
                : String((0..<Int.random(in: 0...20, using: &g)).map { _ in g.pick(addressAlphabet) })
            if let a = BluetoothAddress(addressText) {
                addresses += 1
                if BluetoothAddress(a.description) != a {
                    failures.record("\(a) does not parse back", iteration: iteration, inputText: "\"\(addressText)\"")
                }
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(uuids > 100)
        #expect(addresses > 100)
    }
}
