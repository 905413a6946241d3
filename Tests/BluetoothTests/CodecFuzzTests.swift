import Testing
import BluetoothCore

/// Deterministic random input for every parser that reads bytes from outside: none may trap, every
/// rejection is the parser's own error type, and whatever parses re-encodes to an equal value.
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

    private static func pick<T>(_ values: [T], _ g: inout CodecSeededGenerator) -> T {
        values[Int.random(in: values.indices, using: &g)]
    }

    // MARK: HCI events

    /// The event packet of a parsed event, built from the event structs.
    private static func encode(_ event: HCIEvent) -> [UInt8] {
        switch event {
        case .disconnectionComplete(let e): return e.packetBytes()
        case .encryptionChange(let e): return e.packetBytes()
        case .commandComplete(let e): return e.packetBytes()
        case .commandStatus(let e): return e.packetBytes()
        case .hardwareError(let e): return e.packetBytes()
        case .numberOfCompletedPackets(let e): return e.packetBytes()
        case .dataBufferOverflow(let linkType): return [0x1A, 0x01, linkType]
        case .leConnectionComplete(let e): return e.packetBytes()
        case .leAdvertisingReport(let e): return e.packetBytes()
        case .leConnectionUpdateComplete(let e): return e.packetBytes()
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

    @Test func hciEventParsingNeverTraps() {
        var g = CodecSeededGenerator(seed: 0x0E0E_0E0E)
        let codes: [UInt8] = [0x05, 0x08, 0x0E, 0x0F, 0x10, 0x13, 0x1A, 0x3E, 0x3E, 0x3E, 0x3E]
        let subevents: [UInt8] = [0x01, 0x02, 0x03, 0x0A, 0x0D, 0x0D, 0x11, 0x12, 0x04]
        var parsed = 0, rejected = 0, mismatches = 0
        for _ in 0..<Self.iterations {
            var bytes = g.bytes(count: Self.randomLength(&g))
            if bytes.count >= 2, Bool.random(using: &g) {
                // A consistent header, so that the field parsers are reached.
                bytes = Array(bytes.prefix(257))
                bytes[0] = Self.pick(codes, &g)
                bytes[1] = UInt8(bytes.count - 2)
                if bytes[0] == 0x13, bytes.count >= 3 { bytes[2] = UInt8.random(in: 0...4, using: &g) }
                if bytes[0] == 0x3E, bytes.count >= 3 { bytes[2] = Self.pick(subevents, &g) }
                if bytes[0] == 0x3E, bytes.count >= 4, Bool.random(using: &g) { bytes[3] = UInt8.random(in: 0...3, using: &g) }
            }
            do {
                let event = try HCIEvent(parsing: bytes)
                parsed += 1
                let again = try HCIEvent(parsing: Self.encode(event))
                if again != event {
                    mismatches += 1
                    if mismatches == 1 { Issue.record("\(bytes) parsed as \(event), re-encoded and parsed as \(again)") }
                }
            } catch is DecodeError {
                rejected += 1
            } catch {
                Issue.record("unexpected error \(error) for \(bytes)")
            }
        }
        #expect(mismatches == 0)
        #expect(parsed > 1_000)
        #expect(rejected > 1_000)
    }

    // MARK: HCI commands and return parameters

    /// Decodes parameters as `C`, and checks that the value re-encodes to parameters that decode
    /// to the same value.
    private static func commandRoundTrip<C: HCICommand & Equatable>(_ type: C.Type) -> @Sendable ([UInt8]) throws -> Bool {
        { parameters in
            let command = try C(parameterBytes: parameters)
            return try C(parameterBytes: Array(command.packetBytes().dropFirst(3))) == command
        }
    }

    private static func returnRoundTrip<C: HCICommand>(_ type: C.Type) -> @Sendable ([UInt8]) throws -> Bool
        where C.Return: Equatable {
        { bytes in
            var r = ByteReader(bytes)
            let value = try C.Return(returnParameters: &r)
            var w = ByteWriter()
            value.encode(into: &w)
            var again = ByteReader(w.bytes)
            return try C.Return(returnParameters: &again) == value
        }
    }

    private static let commandDecoders: [@Sendable ([UInt8]) throws -> Bool] = [
        commandRoundTrip(HCI.Disconnect.self),
        commandRoundTrip(HCI.SetEventMask.self),
        commandRoundTrip(HCI.Reset.self),
        commandRoundTrip(HCI.ReadLocalVersionInformation.self),
        commandRoundTrip(HCI.ReadLocalSupportedCommands.self),
        commandRoundTrip(HCI.ReadLocalSupportedFeatures.self),
        commandRoundTrip(HCI.ReadBufferSize.self),
        commandRoundTrip(HCI.ReadBDADDR.self),
        commandRoundTrip(HCI.ReadRSSI.self),
        commandRoundTrip(HCI.LESetEventMask.self),
        commandRoundTrip(HCI.LEReadBufferSize.self),
        commandRoundTrip(HCI.LEReadBufferSizeV2.self),
        commandRoundTrip(HCI.LEReadLocalSupportedFeatures.self),
        commandRoundTrip(HCI.LESetRandomAddress.self),
        commandRoundTrip(HCI.LESetAdvertisingParameters.self),
        commandRoundTrip(HCI.LESetAdvertisingData.self),
        commandRoundTrip(HCI.LESetScanResponseData.self),
        commandRoundTrip(HCI.LESetAdvertisingEnable.self),
        commandRoundTrip(HCI.LESetScanParameters.self),
        commandRoundTrip(HCI.LESetScanEnable.self),
        commandRoundTrip(HCI.LECreateConnection.self),
        commandRoundTrip(HCI.LECreateConnectionCancel.self),
        commandRoundTrip(HCI.LEConnectionUpdate.self),
        commandRoundTrip(HCI.LERand.self),
        commandRoundTrip(HCI.LESetAdvertisingSetRandomAddress.self),
        commandRoundTrip(HCI.LESetExtendedAdvertisingParameters.self),
        commandRoundTrip(HCI.LESetExtendedAdvertisingData.self),
        commandRoundTrip(HCI.LESetExtendedScanResponseData.self),
        commandRoundTrip(HCI.LESetExtendedAdvertisingEnable.self),
        commandRoundTrip(HCI.LERemoveAdvertisingSet.self),
        commandRoundTrip(HCI.LESetExtendedScanParameters.self),
        commandRoundTrip(HCI.LESetExtendedScanEnable.self),
        commandRoundTrip(HCI.LEExtendedCreateConnection.self),
    ]

    private static let returnDecoders: [@Sendable ([UInt8]) throws -> Bool] = [
        returnRoundTrip(HCI.ReadLocalVersionInformation.self),
        returnRoundTrip(HCI.ReadLocalSupportedCommands.self),
        returnRoundTrip(HCI.ReadLocalSupportedFeatures.self),
        returnRoundTrip(HCI.ReadBufferSize.self),
        returnRoundTrip(HCI.ReadBDADDR.self),
        returnRoundTrip(HCI.ReadRSSI.self),
        returnRoundTrip(HCI.LEReadBufferSize.self),
        returnRoundTrip(HCI.LEReadBufferSizeV2.self),
        returnRoundTrip(HCI.LEReadLocalSupportedFeatures.self),
        returnRoundTrip(HCI.LERand.self),
        returnRoundTrip(HCI.LESetExtendedAdvertisingParameters.self),
        returnRoundTrip(HCI.Reset.self),
    ]

    @Test func hciCommandParsingNeverTraps() {
        var g = CodecSeededGenerator(seed: 0xC0DE_C0DE)
        var parsed = 0, rejected = 0, decoded = 0, mismatches = 0
        for _ in 0..<Self.iterations {
            var bytes = g.bytes(count: Self.randomLength(&g))
            if bytes.count >= 3, Bool.random(using: &g) {
                bytes = Array(bytes.prefix(258))
                bytes[2] = UInt8(bytes.count - 3)
            }
            let parameters: [UInt8]
            do {
                let packet = try HCI.CommandPacket(parsing: bytes)
                #expect(packet.parameters.count == Int(bytes[2]))
                parsed += 1
                parameters = packet.parameters
            } catch is DecodeError {
                rejected += 1
                parameters = bytes
            } catch {
                Issue.record("unexpected error \(error) for \(bytes)")
                continue
            }
            for decoder in Self.commandDecoders + Self.returnDecoders {
                do {
                    if try decoder(parameters) { decoded += 1 } else { mismatches += 1 }
                } catch is DecodeError {
                } catch {
                    Issue.record("unexpected error \(error) for \(parameters)")
                }
            }
        }
        #expect(mismatches == 0)
        #expect(parsed > 1_000)
        #expect(rejected > 1_000)
        #expect(decoded > 10_000)
    }

    // MARK: ACL headers, advertising data, UUIDs, addresses

    @Test func aclHeaderParsingNeverTraps() {
        var g = CodecSeededGenerator(seed: 0xAC1)
        var parsed = 0
        for _ in 0..<Self.iterations {
            let bytes = g.bytes(count: Int.random(in: 0...8, using: &g))
            do {
                let header = try ACLHeader(parsing: bytes)
                parsed += 1
                var w = ByteWriter()
                header.encode(into: &w)
                // Every bit of the 4-byte header is represented, so it re-encodes exactly.
                #expect(w.bytes == Array(bytes.prefix(4)))
            } catch is DecodeError {
                #expect(bytes.count < 4)
            } catch {
                Issue.record("unexpected error \(error) for \(bytes)")
            }
        }
        #expect(parsed > 5_000)
    }

    @Test func advertisingDataParsingNeverTraps() {
        var g = CodecSeededGenerator(seed: 0xAD)
        var fields = 0
        for _ in 0..<Self.iterations {
            var bytes = g.bytes(count: Self.randomLength(&g))
            // Small length bytes, so that several structures are found.
            var i = 0
            while i < bytes.count, Bool.random(using: &g) {
                bytes[i] = UInt8.random(in: 1...6, using: &g)
                i += Int(bytes[i]) + 1
            }
            let ad = AdvertisingData(parsing: bytes)
            fields += ad.fields.count
            #expect(Array(bytes.prefix(ad.bytes.count)) == ad.bytes)
            _ = ad.name
            _ = ad.manufacturerData
            for u in ad.serviceUUIDs { #expect([2, 4, 16].contains(u.width)) }
        }
        #expect(fields > 10_000)
    }

    /// The text between the parentheses (and quotes) of a description parses back.
    private static func reparse(_ u: BluetoothUUID) throws -> BluetoothUUID {
        let inner = u.description.dropFirst("UUID(".count).dropLast().filter { $0 != "'" }
        return try BluetoothUUID(String(inner))
    }

    @Test func uuidFromBytesNeverTraps() throws {
        var g = CodecSeededGenerator(seed: 0x0055_1D)
        for _ in 0..<Self.iterations {
            let bytes = g.bytes(count: Int.random(in: 0...20, using: &g))
            do {
                let u = try BluetoothUUID(bytes: bytes)
                #expect([2, 4, 16].contains(bytes.count))
                #expect(u.bytes == bytes)
                #expect(try Self.reparse(u) == u)
            } catch let error as UUIDError {
                #expect(error == .invalidLength(bytes.count))
            }
        }
    }

    @Test func uuidAndAddressStringsNeverTrap() throws {
        var g = CodecSeededGenerator(seed: 0x5791_26)
        let uuidAlphabet = Array("0123456789abcdefABCDEF-xXg {}'+")
        let addressAlphabet = Array("0123456789abcdefABCDEF:-+ g")
        var uuids = 0, addresses = 0
        for _ in 0..<Self.iterations {
            // Sometimes a string of a length the parsers accept.
            let uuidLength = Self.pick([4, 6, 8, 32, 36, Int.random(in: 0...40, using: &g)], &g)
            let text = String((0..<uuidLength).map { _ in Self.pick(uuidAlphabet, &g) })
            if let u = try? BluetoothUUID(text) {
                uuids += 1
                #expect(try Self.reparse(u) == u)
            }
            let hexDigits = Array("0123456789abcdef")
            let shaped = (0..<6).map { _ in String([Self.pick(hexDigits, &g), Self.pick(addressAlphabet, &g)]) }
            let addressText = Bool.random(using: &g)
                ? shaped.joined(separator: ":")
                : String((0..<Int.random(in: 0...20, using: &g)).map { _ in Self.pick(addressAlphabet, &g) })
            if let a = BluetoothAddress(addressText) {
                addresses += 1
                #expect(BluetoothAddress(a.description) == a)
            }
        }
        #expect(uuids > 100)
        #expect(addresses > 100)
    }
}
