import Testing
@testable import BluetoothHost
import BluetoothCore

/// Exact bytes of every ATT PDU of an LE bearer (Core Vol 3 Part F 3.4), both ways.
@Suite("Codec: ATT PDUs")
struct CodecATTTests {
    static func h(_ s: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
        CodecBytes.hex(s, sourceLocation: sourceLocation)
    }

    /// 6E400001-B5A3-F393-E0A9-E50E24DCCA9E (the Nordic UART service), least significant octet
    /// first: 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40 6E.
    static let nus = BluetoothUUID(high: 0x6E40_0001_B5A3_F393, low: 0xE0A9_E50E_24DC_CA9E)
    /// 6E400003-...: its TX characteristic.
    static let nusTX = BluetoothUUID(high: 0x6E40_0003_B5A3_F393, low: 0xE0A9_E50E_24DC_CA9E)

    static let cases: [(ATTPDU, String)] = [
        (.errorResponse(requestOpcode: 0x0A, handle: 0x0012, error: 0x02), "01 0A 12 00 02"),
        (.exchangeMTURequest(mtu: 247), "02 F7 00"),
        (.exchangeMTUResponse(mtu: 23), "03 17 00"),
        (.findInformationRequest(start: 0x0001, end: 0xFFFF), "04 01 00 FF FF"),
        (.findInformationResponse([(UInt16(0x000D), BluetoothUUID(0x2902)), (UInt16(0x000E), BluetoothUUID(0x2901))]),
         "05 01 0D 00 02 29 0E 00 01 29"),
        (.findInformationResponse([(UInt16(0x0010), nus)]),
         "05 02 10 00 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40 6E"),
        (.findByTypeValueRequest(start: 1, end: 0xFFFF, type: 0x2800, value: [0x0D, 0x18]), "06 01 00 FF FF 00 28 0D 18"),
        (.findByTypeValueResponse([(UInt16(0x000A), UInt16(0x0012))]), "07 0A 00 12 00"),
        (.readByTypeRequest(start: 1, end: 0xFFFF, type: BluetoothUUID(0x2803)), "08 01 00 FF FF 03 28"),
        // 3.4.4.1: the Attribute Type is a 2- or 16-octet UUID.
        (.readByTypeRequest(start: 0x0010, end: 0x0020, type: nusTX),
         "08 10 00 20 00 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 03 00 40 6E"),
        (.readByTypeResponse([ATTHandleValue(handle: 2, value: [0x02, 0x03, 0x00, 0x00, 0x2A]),
                              ATTHandleValue(handle: 4, value: [0x02, 0x05, 0x00, 0x01, 0x2A])]),
         "09 07 02 00 02 03 00 00 2A 04 00 02 05 00 01 2A"),
        // A characteristic declaration with a 128-bit UUID: Length 21 (handle 2 + value 19).
        (.readByTypeResponse([ATTHandleValue(handle: 0x0011, value: [0x10, 0x12, 0x00] + nusTX.bytes)]),
         "09 15 11 00 10 12 00 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 03 00 40 6E"),
        (.readRequest(handle: 0x0003), "0A 03 00"),
        (.readResponse(value: [0x4D, 0x50, 0x59]), "0B 4D 50 59"),
        (.readBlobRequest(handle: 0x0003, offset: 22), "0C 03 00 16 00"),
        (.readBlobResponse(value: [0x01]), "0D 01"),
        (.readMultipleRequest(handles: [3, 5]), "0E 03 00 05 00"),
        (.readMultipleResponse(values: [1, 2, 3]), "0F 01 02 03"),
        (.readByGroupTypeRequest(start: 1, end: 0xFFFF, type: BluetoothUUID(0x2800)), "10 01 00 FF FF 00 28"),
        // 3.4.4.9: the Attribute Group Type is a 2- or 16-octet UUID.
        (.readByGroupTypeRequest(start: 0x0001, end: 0xFFFF, type: nus),
         "10 01 00 FF FF 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40 6E"),
        (.readByGroupTypeResponse([ATTGroupValue(handle: 1, endGroupHandle: 5, value: [0x00, 0x18]),
                                   ATTGroupValue(handle: 6, endGroupHandle: 9, value: [0x01, 0x18])]),
         "11 06 01 00 05 00 00 18 06 00 09 00 01 18"),
        // A primary service with a 128-bit UUID: Length 20 (handles 4 + value 16).
        (.readByGroupTypeResponse([ATTGroupValue(handle: 0x0010, endGroupHandle: 0x0018, value: nus.bytes)]),
         "11 14 10 00 18 00 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40 6E"),
        (.writeRequest(handle: 0x0010, value: [0x01, 0x00]), "12 10 00 01 00"),
        (.writeResponse, "13"),
        (.writeCommand(handle: 0x0010, value: [0xAB]), "52 10 00 AB"),
        (.signedWriteCommand(handle: 0x0010, value: [0xAB], signature: Array(repeating: 0xEE, count: 12)),
         "D2 10 00 AB EE EE EE EE EE EE EE EE EE EE EE EE"),
        (.prepareWriteRequest(handle: 0x0010, offset: 0x0012, value: [1, 2]), "16 10 00 12 00 01 02"),
        (.prepareWriteResponse(handle: 0x0010, offset: 0x0012, value: [1, 2]), "17 10 00 12 00 01 02"),
        (.executeWriteRequest(flags: 0x01), "18 01"),
        (.executeWriteResponse, "19"),
        (.handleValueNotification(handle: 0x0015, value: [9, 8]), "1B 15 00 09 08"),
        (.handleValueIndication(handle: 0x0015, value: [7]), "1D 15 00 07"),
        (.handleValueConfirmation, "1E"),
        (.readMultipleVariableRequest(handles: [3, 5]), "20 03 00 05 00"),
        (.readMultipleVariableResponse(values: [[1, 2], [3]]), "21 02 00 01 02 01 00 03"),
        // 3.4.7.4: Handle (2), Length (2), Value (Length), for two or more attributes.
        (.multipleHandleValueNotification([(handle: 0x0015, value: [9, 8]), (handle: 0x0017, value: [7])]),
         "23 15 00 02 00 09 08  17 00 01 00 07"),
        (.multipleHandleValueNotification([(handle: 0x0003, value: []), (handle: 0x0105, value: [1, 2, 3]),
                                           (handle: 0xFFFF, value: [0xAA])]),
         "23 03 00 00 00  05 01 03 00 01 02 03  FF FF 01 00 AA"),
    ]

    @Test func everyPDUEncodesAndParsesExactly() throws {
        for (pdu, hex) in Self.cases {
            let bytes = Self.h(hex)
            #expect(pdu.encode() == bytes, "\(pdu)")
            #expect((try? ATTPDU(parsing: bytes)) == pdu, "\(hex)")
            #expect(pdu.opcode == bytes.first, "\(hex)")
        }
    }

    @Test func multipleHandleValueNotificationCarriesEveryTuple() throws {
        let pdu = try ATTPDU(parsing: Self.h("23 15 00 02 00 09 08  17 00 01 00 07"))
        guard case let .multipleHandleValueNotification(values) = pdu else {
            Issue.record("parsed as \(pdu)")
            return
        }
        #expect(values.map(\.handle) == [0x0015, 0x0017])
        #expect(values.map(\.value) == [[0x09, 0x08], [0x07]])
        #expect(pdu.opcode == ATTOpcode.multipleHandleValueNotification)
        #expect(!ATTOpcode.isRequest(ATTOpcode.multipleHandleValueNotification))
        // A value as long as a Length field can say.
        let long = [UInt8](repeating: 0x5A, count: 0xFFFF)
        let big = ATTPDU.multipleHandleValueNotification([(handle: 1, value: long), (handle: 2, value: [])])
        #expect(big.encode().count == 1 + 4 + 0xFFFF + 4)
        #expect(try ATTPDU(parsing: big.encode()) == big)
        // One tuple is malformed (a single value goes in a Handle Value Notification).
        #expect(throws: ATTDecodeError.self) { _ = try ATTPDU(parsing: Self.h("23 15 00 02 00 09 08")) }
    }

    /// A 16-bit UUID sent in its 128-bit form (on the Base UUID, Vol 3 Part B 2.5.1) is the same
    /// UUID: it parses, and re-encodes in the 16-bit form ATT prefers.
    @Test func a128BitUUIDOnTheBaseReEncodesIn16Bits() throws {
        let base2803 = "FB 34 9B 5F 80 00 00 80 00 10 00 00 03 28 00 00"
        let request = try ATTPDU(parsing: Self.h("08 01 00 FF FF " + base2803))
        #expect(request == .readByTypeRequest(start: 1, end: 0xFFFF, type: BluetoothUUID(0x2803)))
        #expect(request.encode() == Self.h("08 01 00 FF FF 03 28"))
        let group = try ATTPDU(parsing: Self.h("10 01 00 FF FF FB 34 9B 5F 80 00 00 80 00 10 00 00 00 28 00 00"))
        #expect(group.encode() == Self.h("10 01 00 FF FF 00 28"))
        // Find Information (3.4.3.2): one format per response. All on the base: format 1.
        let info = try ATTPDU(parsing: Self.h("05 02 0D 00 " + base2803))
        #expect(info.encode() == Self.h("05 01 0D 00 03 28"))
    }

    /// Find Information Response carries one UUID format for every pair (3.4.3.2): when the
    /// list mixes 16-bit and 128-bit UUIDs, all are sent as 128-bit.
    @Test func findInformationResponseWithMixedUUIDsUsesOneFormat() throws {
        let mixed = ATTPDU.findInformationResponse([(UInt16(0x0D), BluetoothUUID(0x2902)), (UInt16(0x0E), Self.nus)])
        let bytes = Self.h("05 02 0D 00 FB 34 9B 5F 80 00 00 80 00 10 00 00 02 29 00 00"
                           + "    0E 00 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40 6E")
        #expect(mixed.encode() == bytes)
        #expect(try ATTPDU(parsing: bytes) == mixed)
        // The same with the 128-bit UUID first.
        let reversed = ATTPDU.findInformationResponse([(UInt16(0x0E), Self.nus), (UInt16(0x0D), BluetoothUUID(0x2902))])
        #expect(try ATTPDU(parsing: reversed.encode()) == reversed)
        #expect(reversed.encode().count == 2 + 2 * 18)
    }

    @Test func malformedPDUsThrowWithTheirOpcode() {
        let bad: [(String, UInt8)] = [
            ("02", 0x02), ("02 17", 0x02), ("02 17 00 00", 0x02),   // wrong MTU lengths
            ("0A 03", 0x0A), ("0A 03 00 00", 0x0A), ("0C 03 00 01", 0x0C),
            ("08 01 00 FF FF 03", 0x08), ("08 01 00 FF FF 03 28 00", 0x08),  // UUID of 1 or 3 bytes
            // UUIDs of 15 and 17 bytes.
            ("08 01 00 FF FF 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 03 00 40", 0x08),
            ("08 01 00 FF FF 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 03 00 40 6E 00", 0x08),
            ("10 01 00 FF FF 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40", 0x10),
            ("10 01 00 FF FF 00 28 01 02 03", 0x10), ("04 01 00", 0x04), ("0E 03 00", 0x0E), ("18", 0x18),
            ("D2 10 00 01 02", 0xD2), ("05 03 01 00 02 29", 0x05), ("09 01 02 00", 0x09),
            ("05 02 10 00 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40", 0x05),  // 15-byte UUID
            ("09 15 11 00 10 12 00 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 03 00 40", 0x09),  // 1 byte short
            ("11 14 10 00 18 00 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40 6E 00", 0x11),  // 1 byte long
            // Multiple Handle Value Notification: no tuple, one tuple, a length running past the
            // end, a cut tuple header, a stray byte after the last tuple.
            ("23", 0x23), ("23 15 00 02 00 09 08", 0x23), ("23 15 00 02 00 09 08  17 00 02 00 07", 0x23),
            ("23 15 00 02 00 09 08  17 00 01", 0x23), ("23 15 00 02 00 09 08  17 00 01 00 07  18", 0x23),
            ("23 15 00 FF FF 09 08  17 00 01 00 07", 0x23),
        ]
        for (hex, op) in bad {
            do {
                _ = try ATTPDU(parsing: Self.h(hex))
                Issue.record("\(hex) parsed")
            } catch {
                #expect(error.opcode == op, "\(hex)")
                #expect(!error.unknownOpcode)
            }
        }
        do {
            _ = try ATTPDU(parsing: [0x7F, 1, 2])
            Issue.record("unknown opcode parsed")
        } catch {
            #expect(error.unknownOpcode && error.opcode == 0x7F)
        }
        do {
            _ = try ATTPDU(parsing: [])
            Issue.record("empty PDU parsed")
        } catch {
            #expect(error.opcode == 0)
        }
    }

    // MARK: Well-formedness from the spec's layouts

    /// Whether `b` is laid out as Vol 3 Part F 3.4 gives the PDU of its opcode, worked out from
    /// the tables there (not from the parser), or nil for an opcode ATT does not define. Where a
    /// PDU ends in a variable-length field, some of its prefixes are valid PDUs too: the comment
    /// on each such opcode says which.
    static func wellFormed(_ b: [UInt8]) -> Bool? {
        guard let op = b.first else { return false }
        let n = b.count
        let rest = n - 1
        switch op {
        case 0x01: return n == 5
        case 0x02, 0x03, 0x0A: return n == 3
        case 0x04, 0x0C: return n == 5
        case 0x13, 0x19, 0x1E: return n == 1
        case 0x18: return n == 2
        case 0x05:
            // Format, then one or more handle-UUID pairs of 4 (format 1) or 18 (format 2)
            // octets: a prefix ending after a whole pair is a shorter valid response.
            guard n >= 2, b[1] == 1 || b[1] == 2 else { return false }
            let pair = b[1] == 1 ? 4 : 18
            return n - 2 > 0 && (n - 2) % pair == 0
        case 0x06:
            // Start, end, type, then an Attribute Value of 0 or more octets.
            return n >= 7
        case 0x07:
            // One or more 4-octet Handles Information entries.
            return rest > 0 && rest % 4 == 0
        case 0x08, 0x10:
            // A 2- or 16-octet UUID: a 128-bit request cut to 7 octets reads as a 16-bit one.
            return n == 7 || n == 21
        case 0x09, 0x11:
            // Length, then one or more entries of that length (handle 2 [+ end group 2] + value):
            // a prefix ending after a whole entry is a shorter valid response.
            guard n >= 2 else { return false }
            let length = Int(b[1])
            guard length >= (op == 0x09 ? 2 : 4) else { return false }
            return n - 2 > 0 && (n - 2) % length == 0
        case 0x0B, 0x0D, 0x0F:
            // The value (or set of values) is 0 or more octets: every prefix with the opcode is valid.
            return true
        case 0x0E, 0x20:
            // Two or more handles.
            return rest >= 4 && rest % 2 == 0
        case 0x12, 0x52, 0x1B, 0x1D:
            // Handle, then a value of 0 or more octets.
            return n >= 3
        case 0x16, 0x17:
            // Handle, offset, then a part value of 0 or more octets.
            return n >= 5
        case 0xD2:
            // Handle, value (0 or more), 12-octet signature.
            return n >= 15
        case 0x21:
            // Length-value tuples; the last value may be cut short to fit ATT_MTU (3.4.4.12), so
            // only a dangling single octet of a length field is malformed.
            var i = 1
            while i < n {
                guard n - i >= 2 else { return false }
                let length = Int(b[i]) | Int(b[i + 1]) << 8
                i += 2 + min(length, n - i - 2)
            }
            return true
        case 0x23:
            // Two or more complete Handle-Length-Value tuples (3.4.7.4): a prefix ending after
            // the second or a later whole tuple is a shorter valid notification.
            var i = 1, tuples = 0
            while i < n {
                guard n - i >= 4 else { return false }
                let length = Int(b[i + 2]) | Int(b[i + 3]) << 8
                guard n - i - 4 >= length else { return false }
                i += 4 + length
                tuples += 1
            }
            return tuples >= 2
        default:
            return nil
        }
    }

    /// What a well-formed PDU re-encodes to. Byte for byte the input, except:
    /// - Read Multiple Variable Response: a last value cut by the MTU gets its real length;
    /// - a 128-bit UUID on the Base UUID is written in its 16-bit form (requests), and a Find
    ///   Information Response whose UUIDs are all on the base becomes format 1.
    static func canonical(_ b: [UInt8]) -> [UInt8] {
        guard let op = b.first else { return b }
        func short(_ uuid: ArraySlice<UInt8>) -> [UInt8]? {
            guard uuid.count == 16, let u = try? BluetoothUUID(bytes: Array(uuid)), let s = u.shortValue, s <= 0xFFFF
            else { return nil }
            return [UInt8(truncatingIfNeeded: s), UInt8(truncatingIfNeeded: s >> 8)]
        }
        switch op {
        case 0x08, 0x10:
            if b.count == 21, let s = short(b[5..<21]) { return Array(b[0..<5]) + s }
        case 0x05:
            guard b.count >= 2, b[1] == 2 else { return b }
            var shorts: [UInt8] = [0x05, 0x01]
            var i = 2
            while i + 18 <= b.count {
                guard let s = short(b[(i + 2)..<(i + 18)]) else { return b }
                shorts += b[i..<(i + 2)] + s
                i += 18
            }
            return shorts
        case 0x21:
            var out = b
            var i = 1
            while i + 2 <= out.count {
                let length = Int(out[i]) | Int(out[i + 1]) << 8
                let available = out.count - i - 2
                if length > available {
                    out[i] = UInt8(truncatingIfNeeded: available)
                    out[i + 1] = UInt8(truncatingIfNeeded: available >> 8)
                }
                i += 2 + min(length, available)
            }
            return out
        default:
            break
        }
        return b
    }

    /// The outcome of parsing `bytes`, checked against `wellFormed` and `canonical`; nil when
    /// all is as the spec says, else what is wrong.
    static func check(_ bytes: [UInt8]) -> String? {
        let expected = wellFormed(bytes)
        let pdu: ATTPDU
        do {
            pdu = try ATTPDU(parsing: bytes)
        } catch {
            // The error is typed (throws(ATTDecodeError)); it must carry what the peer sent.
            if error.opcode != (bytes.first ?? 0) { return "error carries opcode \(error.opcode): \(error)" }
            if error.unknownOpcode != (expected == nil) { return "unknownOpcode is \(error.unknownOpcode): \(error)" }
            if expected == true { return "well-formed PDU rejected: \(error)" }
            return nil
        }
        guard expected == true else { return "malformed PDU parsed as \(pdu)" }
        let encoded = pdu.encode()
        let again: ATTPDU
        do {
            again = try ATTPDU(parsing: encoded)
        } catch {
            return "parsed as \(pdu), but its re-encoding [\(CodecBytes.hexString(encoded))] does not parse: \(error)"
        }
        if again != pdu { return "parsed as \(pdu), re-encoded and parsed as \(again)" }
        let want = canonical(bytes)
        if encoded != want {
            return "parsed as \(pdu), re-encoded as [\(CodecBytes.hexString(encoded))], expected [\(CodecBytes.hexString(want))]"
        }
        return nil
    }

    /// Every strict prefix of every PDU above: rejected with the PDU's opcode (opcode 0 for
    /// the empty prefix), or, where `wellFormed` says the shorter PDU is valid, parsed and
    /// re-encoded exactly.
    @Test func everyTruncationIsRejectedOrAShorterValidPDU() {
        var rejected = 0
        var valid: [String] = []
        for (_, hex) in Self.cases {
            let bytes = Self.h(hex)
            for n in 0..<bytes.count {
                let prefix = Array(bytes.prefix(n))
                if let problem = Self.check(prefix) {
                    Issue.record("\(hex) cut to \(n) bytes [\(CodecBytes.hexString(prefix))]: \(problem)")
                } else if Self.wellFormed(prefix) == true {
                    valid.append(CodecBytes.hexString(prefix))
                } else {
                    rejected += 1
                }
            }
        }
        #expect(rejected > 200)
        // The shorter valid PDUs are all of the variable-length kinds named in `wellFormed`.
        for v in valid {
            let op = Self.h(v).first ?? 0
            #expect([0x05, 0x06, 0x08, 0x09, 0x0B, 0x0D, 0x0F, 0x10, 0x11, 0x12, 0x16, 0x17, 0x1B, 0x1D, 0x21, 0x23, 0x52, 0xD2]
                .contains(op), "\(v)")
        }
    }

    // MARK: Random input

    static let knownOpcodes: [UInt8] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11,
        0x12, 0x13, 0x16, 0x17, 0x18, 0x19, 0x1B, 0x1D, 0x1E, 0x20, 0x21, 0x23, 0x52, 0xD2,
    ]
    /// Opcodes ATT does not define (or that this host does not parse).
    static let otherOpcodes: [UInt8] = [0x00, 0x14, 0x15, 0x1A, 0x1C, 0x1F, 0x22, 0x24, 0x3F, 0x53, 0x7F, 0x92, 0xD3, 0xFF]

    /// The Base UUID with a random 16-bit value, as 16 octets on the air.
    static func baseUUID(_ g: inout CodecSeededGenerator) -> [UInt8] {
        BluetoothUUID(high: UInt64(UInt16.random(in: 0...0xFFFF, using: &g)) << 32 | 0x1000,
                      low: 0x8000_0080_5F9B_34FB).bytes
    }

    /// Random bytes after a random opcode, half the time shaped like the opcode's layout (list
    /// lengths that divide, UUIDs of 2 or 16 octets, some on the Base UUID, length-value
    /// tuples), so that every parser is reached past its first length check.
    static func randomPDU(_ g: inout CodecSeededGenerator) -> [UInt8] {
        let op = Int.random(in: 0..<8, using: &g) == 0 ? g.pick(otherOpcodes) : g.pick(knownOpcodes)
        var body = g.bytes(count: Int.random(in: 0...(Bool.random(using: &g) ? 8 : 40), using: &g))
        if Bool.random(using: &g) {
            switch op {
            case 0x05:
                let wide = Bool.random(using: &g)
                body = [wide ? 2 : 1]
                for _ in 0..<Int.random(in: 0...3, using: &g) {
                    body += g.bytes(count: 2)
                    body += wide ? (Bool.random(using: &g) ? baseUUID(&g) : g.bytes(count: 16)) : g.bytes(count: 2)
                }
            case 0x08, 0x10:
                body = g.bytes(count: 4) + g.pick([g.bytes(count: 2), g.bytes(count: 16), baseUUID(&g)])
            case 0x09, 0x11:
                let length = Int.random(in: (op == 0x09 ? 2 : 4)...8, using: &g)
                body = [UInt8(length)] + g.bytes(count: length * Int.random(in: 0...3, using: &g))
            case 0x21:
                body = []
                for _ in 0..<Int.random(in: 0...3, using: &g) {
                    let length = Int.random(in: 0...4, using: &g)
                    body += [UInt8(length), 0] + g.bytes(count: length)
                }
            case 0x23:
                body = []
                for _ in 0..<Int.random(in: 0...4, using: &g) {
                    let length = Int.random(in: 0...4, using: &g)
                    body += g.bytes(count: 2) + [UInt8(length), 0] + g.bytes(count: length)
                }
            default:
                break
            }
            // Sometimes one octet too many or too few.
            switch Int.random(in: 0..<4, using: &g) {
            case 0: body += g.bytes(count: 1)
            case 1: body = Array(body.dropLast())
            default: break
            }
        }
        return [op] + body
    }

    @Test func randomBytesNeverTrapAndRoundTripExactly() {
        let seed: UInt64 = 0xA77_F022
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        var parsedOpcodes: Set<UInt8> = []
        var parsed = 0, rejected = 0
        for iteration in 0..<20_000 {
            let bytes = Int.random(in: 0..<200, using: &g) == 0 ? [] : Self.randomPDU(&g)
            if let problem = Self.check(bytes) {
                failures.record(problem, iteration: iteration, input: bytes)
            } else if Self.wellFormed(bytes) == true {
                parsed += 1
                parsedOpcodes.insert(bytes[0])
            } else {
                rejected += 1
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(parsed > 5_000)
        #expect(rejected > 5_000)
        #expect(parsedOpcodes == Set(Self.knownOpcodes), "opcodes never parsed: \(Set(Self.knownOpcodes).subtracting(parsedOpcodes).sorted())")
    }
}
