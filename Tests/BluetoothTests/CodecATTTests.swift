import Testing
@testable import BluetoothHost
import BluetoothCore

/// Exact bytes of every ATT PDU of an LE bearer (Core Vol 3 Part F 3.4), both ways.
@Suite("Codec: ATT PDUs")
struct CodecATTTests {
    static func h(_ s: String) -> [UInt8] {
        s.split(separator: " ").compactMap { UInt8($0, radix: 16) }
    }

    static let cases: [(ATTPDU, String)] = [
        (.errorResponse(requestOpcode: 0x0A, handle: 0x0012, error: 0x02), "01 0A 12 00 02"),
        (.exchangeMTURequest(mtu: 247), "02 F7 00"),
        (.exchangeMTUResponse(mtu: 23), "03 17 00"),
        (.findInformationRequest(start: 0x0001, end: 0xFFFF), "04 01 00 FF FF"),
        (.findInformationResponse([(UInt16(0x000D), BluetoothUUID(0x2902)), (UInt16(0x000E), BluetoothUUID(0x2901))]),
         "05 01 0D 00 02 29 0E 00 01 29"),
        (.findInformationResponse([(UInt16(0x0010), BluetoothUUID(high: 0x6E40_0001_B5A3_F393, low: 0xE0A9_E50E_24DC_CA9E))]),
         "05 02 10 00 9E CA DC 24 0E E5 A9 E0 93 F3 A3 B5 01 00 40 6E"),
        (.findByTypeValueRequest(start: 1, end: 0xFFFF, type: 0x2800, value: [0x0D, 0x18]), "06 01 00 FF FF 00 28 0D 18"),
        (.findByTypeValueResponse([(UInt16(0x000A), UInt16(0x0012))]), "07 0A 00 12 00"),
        (.readByTypeRequest(start: 1, end: 0xFFFF, type: BluetoothUUID(0x2803)), "08 01 00 FF FF 03 28"),
        (.readByTypeResponse([ATTHandleValue(handle: 2, value: [0x02, 0x03, 0x00, 0x00, 0x2A]),
                              ATTHandleValue(handle: 4, value: [0x02, 0x05, 0x00, 0x01, 0x2A])]),
         "09 07 02 00 02 03 00 00 2A 04 00 02 05 00 01 2A"),
        (.readRequest(handle: 0x0003), "0A 03 00"),
        (.readResponse(value: [0x4D, 0x50, 0x59]), "0B 4D 50 59"),
        (.readBlobRequest(handle: 0x0003, offset: 22), "0C 03 00 16 00"),
        (.readBlobResponse(value: [0x01]), "0D 01"),
        (.readMultipleRequest(handles: [3, 5]), "0E 03 00 05 00"),
        (.readMultipleResponse(values: [1, 2, 3]), "0F 01 02 03"),
        (.readByGroupTypeRequest(start: 1, end: 0xFFFF, type: BluetoothUUID(0x2800)), "10 01 00 FF FF 00 28"),
        (.readByGroupTypeResponse([ATTGroupValue(handle: 1, endGroupHandle: 5, value: [0x00, 0x18]),
                                   ATTGroupValue(handle: 6, endGroupHandle: 9, value: [0x01, 0x18])]),
         "11 06 01 00 05 00 00 18 06 00 09 00 01 18"),
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
    ]

    @Test func everyPDUEncodesAndParsesExactly() throws {
        for (pdu, hex) in Self.cases {
            let bytes = Self.h(hex)
            #expect(pdu.encode() == bytes, "\(pdu)")
            #expect((try? ATTPDU(parsing: bytes)) == pdu, "\(hex)")
        }
    }

    @Test func malformedPDUsThrowWithTheirOpcode() {
        let bad: [(String, UInt8)] = [
            ("02", 0x02), ("02 17", 0x02), ("02 17 00 00", 0x02),   // wrong MTU lengths
            ("0A 03", 0x0A), ("0A 03 00 00", 0x0A), ("0C 03 00 01", 0x0C),
            ("08 01 00 FF FF 03", 0x08), ("08 01 00 FF FF 03 28 00", 0x08),  // UUID of 1 or 3 bytes
            ("10 01 00 FF FF 00 28 01 02 03", 0x10), ("04 01 00", 0x04), ("0E 03 00", 0x0E), ("18", 0x18),
            ("D2 10 00 01 02", 0xD2), ("05 03 01 00 02 29", 0x05), ("09 01 02 00", 0x09),
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

    @Test func randomBytesNeverTrap() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let n = Int.random(in: 0...30, using: &g)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
            if !bytes.isEmpty, Bool.random(using: &g) { bytes[0] = [0x01, 0x02, 0x05, 0x08, 0x09, 0x10, 0x11, 0x16, 0x21].randomElement(using: &g) ?? 0 }
            if let pdu = try? ATTPDU(parsing: bytes) {
                #expect((try? ATTPDU(parsing: pdu.encode())) == pdu)
            }
        }
    }
}
