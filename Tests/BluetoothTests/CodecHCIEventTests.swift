import Testing
import BluetoothCore

fileprivate func h(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
    CodecBytes.hex(text, sourceLocation: sourceLocation)
}

fileprivate func addr(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> BluetoothAddress {
    CodecBytes.address(text, sourceLocation: sourceLocation)
}

/// HCI events against Core v5.4 Vol 4 Part E 5.4.4 (event code, parameter total length,
/// parameters) and 7.7: exact bytes parse to the expected case, and the event struct encodes to
/// exactly those bytes.
struct CodecHCIEventTests {
    // MARK: Events (7.7)

    @Test func disconnectionComplete() throws {
        // 7.7.5: Status, Connection_Handle (2), Reason.
        try CodecCheck.event(HCI.DisconnectionComplete(handle: 0x0040, reason: .remoteUserTerminated),
                             h("05 04  00  40 00  13")) {
            if case .disconnectionComplete(let e) = $0 { e } else { nil }
        }
        try CodecCheck.event(HCI.DisconnectionComplete(status: .success, handle: 0x0001, reason: .connectionTimeout),
                             h("05 04  00  01 00  08")) {
            if case .disconnectionComplete(let e) = $0 { e } else { nil }
        }
    }

    @Test func encryptionChange() throws {
        // 7.7.8 [v1]: Status, Connection_Handle (2), Encryption_Enabled.
        try CodecCheck.event(HCI.EncryptionChange(status: .success, handle: 0x0040, enabled: 0x01),
                             h("08 04  00  40 00  01")) {
            if case .encryptionChange(let e) = $0 { e } else { nil }
        }
        try CodecCheck.event(HCI.EncryptionChange(status: .pinOrKeyMissing, handle: 0x0041, enabled: 0x00),
                             h("08 04  06  41 00  00")) {
            if case .encryptionChange(let e) = $0 { e } else { nil }
        }
    }

    @Test func readRemoteVersionInformationComplete() throws {
        // 7.7.12: Status, Connection_Handle (2), Version, Company_Identifier (2), Subversion (2).
        // The host's table does not parse it (see unknownEventCode).
        try CodecCheck.eventParameters(
            HCI.ReadRemoteVersionInformationComplete(status: .success, handle: 0x0040, version: 0x0D,
                                                     manufacturer: 0x0002, subversion: 0x1234),
            h("0C 08  00  40 00  0D  02 00  34 12"))
    }

    @Test func encryptionKeyRefreshComplete() throws {
        // 7.7.39: Status, Connection_Handle (2).
        try CodecCheck.event(HCI.EncryptionKeyRefreshComplete(status: .success, handle: 0x0040),
                             h("30 03  00  40 00")) {
            if case .encryptionKeyRefreshComplete(let e) = $0 { e } else { nil }
        }
        try CodecCheck.event(HCI.EncryptionKeyRefreshComplete(status: .micFailure, handle: 0x0EFF),
                             h("30 03  3D  FF 0E")) {
            if case .encryptionKeyRefreshComplete(let e) = $0 { e } else { nil }
        }
    }

    @Test func commandComplete() throws {
        // 7.7.14: Num_HCI_Command_Packets, Command_Opcode (2), Return_Parameters.
        let reset = HCI.CommandComplete(numHCICommandPackets: 5, opcode: HCI.Reset.opcode, returnParameters: [0x00])
        // Return_Parameters have no fixed length, so only the first three bytes are mandatory.
        try CodecCheck.event(reset, h("0E 04  05  03 0C  00"), truncationsThrow: false) {
            if case .commandComplete(let e) = $0 { e } else { nil }
        }
        #expect(reset.status == .success)
        for n in 0..<3 {
            #expect(throws: DecodeError.self) { _ = try HCIEvent(parsing: [0x0E, UInt8(n)] + h("05 03 0C").prefix(n)) }
        }
    }

    @Test func commandCompleteNOP() throws {
        // A Command Complete with opcode 0x0000 only grants command credits.
        let nop = HCI.CommandComplete(numHCICommandPackets: 1, opcode: HCIOpcode(rawValue: 0), returnParameters: [])
        try CodecCheck.event(nop, h("0E 03  01  00 00"), truncationsThrow: false) {
            if case .commandComplete(let e) = $0 { e } else { nil }
        }
        #expect(nop.opcode.rawValue == 0)
        #expect(nop.returnParameters.isEmpty)
        #expect(nop.status == .unspecifiedError)
    }

    @Test func commandStatus() throws {
        // 7.7.15: Status, Num_HCI_Command_Packets, Command_Opcode (2).
        try CodecCheck.event(HCI.CommandStatus(status: .success, opcode: HCI.LECreateConnection.opcode),
                             h("0F 04  00  01  0D 20")) {
            if case .commandStatus(let e) = $0 { e } else { nil }
        }
        try CodecCheck.event(HCI.CommandStatus(status: .commandDisallowed, numHCICommandPackets: 2,
                                               opcode: HCI.Disconnect.opcode),
                             h("0F 04  0C  02  06 04")) {
            if case .commandStatus(let e) = $0 { e } else { nil }
        }
    }

    @Test func hardwareError() throws {
        // 7.7.16: Hardware_Code.
        try CodecCheck.event(HCI.HardwareError(code: 0x42), h("10 01  42")) {
            if case .hardwareError(let e) = $0 { e } else { nil }
        }
    }

    @Test func numberOfCompletedPacketsWithTwoHandles() throws {
        // 7.7.19: Num_Handles, then Connection_Handle[i] (2), Num_Completed_Packets[i] (2),
        // interleaved per Vol 4 Part E 5.2.
        let value = HCI.NumberOfCompletedPackets(entries: [.init(handle: 0x0040, count: 2), .init(handle: 0x0041, count: 1)])
        try CodecCheck.event(value, h("13 09  02  40 00 02 00  41 00 01 00")) {
            if case .numberOfCompletedPackets(let e) = $0 { e } else { nil }
        }
        try CodecCheck.event(HCI.NumberOfCompletedPackets(entries: []), h("13 01  00")) {
            if case .numberOfCompletedPackets(let e) = $0 { e } else { nil }
        }
    }

    @Test func numberOfCompletedPacketsKeepsTheTwelveBitHandle() throws {
        // Connection_Handle is 12 bits; the top 4 bits of the field are reserved.
        let event = try HCIEvent(parsing: h("13 05  01  40 F0 03 00"))
        #expect(event == .numberOfCompletedPackets(.init(entries: [.init(handle: 0x0040, count: 3)])))
    }

    @Test func dataBufferOverflow() throws {
        // 7.7.26: Link_Type (0x01 ACL).
        #expect(try HCIEvent(parsing: h("1A 01  01")) == .dataBufferOverflow(linkType: 0x01))
        #expect(throws: DecodeError.self) { _ = try HCIEvent(parsing: h("1A 00")) }
    }

    // MARK: LE Meta subevents (7.7.65)

    @Test func leConnectionComplete() throws {
        // 7.7.65.1: Subevent_Code 0x01, Status, Connection_Handle (2), Role, Peer_Address_Type,
        // Peer_Address (6), Connection_Interval (2), Peripheral_Latency (2),
        // Supervision_Timeout (2), Central_Clock_Accuracy.
        let value = HCI.LEConnectionComplete(status: .success, handle: 0x0040, role: 1, peerAddressType: 0,
                                             peerAddress: addr("aa:bb:cc:dd:ee:ff"), interval: 0x0028, latency: 0,
                                             supervisionTimeout: 0x01F4, centralClockAccuracy: 0x01)
        try CodecCheck.event(value, h("3E 13  01  00  40 00  01  00  FF EE DD CC BB AA  28 00  00 00  F4 01  01")) {
            if case .leConnectionComplete(let e) = $0 { e } else { nil }
        }
        #expect(HCI.Role(rawValue: value.role) == .peripheral)
        // A cancelled connect: status Unknown Connection Identifier.
        let cancelled = HCI.LEConnectionComplete(status: .unknownConnectionIdentifier, handle: 0, role: 0,
                                                 peerAddressType: 0, peerAddress: .zero, interval: 0, latency: 0,
                                                 supervisionTimeout: 0)
        try CodecCheck.event(cancelled, h("3E 13  01  02  00 00  00  00  00 00 00 00 00 00  00 00  00 00  00 00  00")) {
            if case .leConnectionComplete(let e) = $0 { e } else { nil }
        }
    }

    @Test func leEnhancedConnectionComplete() throws {
        // 7.7.65.10 [v1]: Subevent_Code 0x0A, Status, Connection_Handle (2), Role,
        // Peer_Address_Type, Peer_Address (6), Local_Resolvable_Private_Address (6),
        // Peer_Resolvable_Private_Address (6), Connection_Interval (2), Peripheral_Latency (2),
        // Supervision_Timeout (2), Central_Clock_Accuracy.
        let value = HCI.LEEnhancedConnectionComplete(
            status: .success, handle: 0x0041, role: 0, peerAddressType: 1, peerAddress: addr("c1:c2:c3:c4:c5:c6"),
            localResolvablePrivateAddress: addr("4a:11:12:13:14:15"),
            peerResolvablePrivateAddress: addr("5b:21:22:23:24:25"), interval: 0x0018, latency: 2,
            supervisionTimeout: 0x0048, centralClockAccuracy: 5)
        try CodecCheck.event(value, h("""
            3E 1F  0A  00  41 00  00  01  C6 C5 C4 C3 C2 C1  15 14 13 12 11 4A  25 24 23 22 21 5B
            18 00  02 00  48 00  05
            """)) {
            if case .leEnhancedConnectionComplete(let e) = $0 { e } else { nil }
        }
    }

    @Test func leAdvertisingReportWithTwoReports() throws {
        // 7.7.65.2: Subevent_Code 0x02, Num_Reports, then per report Event_Type, Address_Type,
        // Address (6), Data_Length, Data, RSSI (interleaved per Vol 4 Part E 5.2).
        let value = HCI.LEAdvertisingReport(reports: [
            .init(eventType: 0, addressType: 0, address: addr("aa:bb:cc:dd:ee:ff"), data: h("02 01 06"), rssi: -50),
            .init(eventType: 4, addressType: 1, address: addr("c1:c2:c3:c4:c5:c6"), data: h("04 09 4D 50 59"), rssi: -70),
        ])
        try CodecCheck.event(value, h("""
            3E 1E  02  02
            00  00  FF EE DD CC BB AA  03  02 01 06  CE
            04  01  C6 C5 C4 C3 C2 C1  05  04 09 4D 50 59  BA
            """)) {
            if case .leAdvertisingReport(let e) = $0 { e } else { nil }
        }
    }

    @Test func leAdvertisingReportWithEmptyData() throws {
        let value = HCI.LEAdvertisingReport(reports: [
            .init(eventType: 3, addressType: 1, address: addr("11:22:33:44:55:66"), data: [], rssi: 127),
        ])
        try CodecCheck.event(value, h("3E 0C  02  01  03  01  66 55 44 33 22 11  00  7F")) {
            if case .leAdvertisingReport(let e) = $0 { e } else { nil }
        }
    }

    @Test func leConnectionUpdateComplete() throws {
        // 7.7.65.3: Subevent_Code 0x03, Status, Connection_Handle (2), Connection_Interval (2),
        // Peripheral_Latency (2), Supervision_Timeout (2).
        try CodecCheck.event(HCI.LEConnectionUpdateComplete(status: .success, handle: 0x0040, interval: 6, latency: 4,
                                                            supervisionTimeout: 0x0064),
                             h("3E 0A  03  00  40 00  06 00  04 00  64 00")) {
            if case .leConnectionUpdateComplete(let e) = $0 { e } else { nil }
        }
        try CodecCheck.event(HCI.LEConnectionUpdateComplete(status: .unacceptableConnectionParameters, handle: 0x0040,
                                                            interval: 0x0C80, latency: 0x01F3, supervisionTimeout: 0x0C80),
                             h("3E 0A  03  3B  40 00  80 0C  F3 01  80 0C")) {
            if case .leConnectionUpdateComplete(let e) = $0 { e } else { nil }
        }
    }

    // 7.7.65.13: Subevent_Code 0x0D, Num_Reports, then per report Event_Type (2), Address_Type,
    // Address (6), Primary_PHY, Secondary_PHY, Advertising_SID, TX_Power, RSSI,
    // Periodic_Advertising_Interval (2), Direct_Address_Type, Direct_Address (6), Data_Length, Data.
    private var advIndReport: HCI.LEExtendedAdvertisingReport.Report {
        .init(eventType: .init(rawValue: 0x13), addressType: 0, address: addr("aa:bb:cc:dd:ee:ff"), primaryPHY: 1,
              secondaryPHY: 0, sid: 0xFF, txPower: 127, rssi: -45, periodicInterval: 0, directAddressType: 0,
              directAddress: .zero, data: h("02 01 06"))
    }
    private let advIndBytes = "13 00  00  FF EE DD CC BB AA  01  00  FF  7F  D3  00 00  00  00 00 00 00 00 00  03  02 01 06"

    private var scanRspReport: HCI.LEExtendedAdvertisingReport.Report {
        .init(eventType: .init(rawValue: 0x1B), addressType: 1, address: addr("c1:c2:c3:c4:c5:c6"), rssi: -60,
              data: h("04 09 4D 50 59"))
    }
    private let scanRspBytes = "1B 00  01  C6 C5 C4 C3 C2 C1  01  00  FF  7F  C4  00 00  00  00 00 00 00 00 00  05  04 09 4D 50 59"

    @Test func leExtendedAdvertisingReportLegacyAdvInd() throws {
        let value = HCI.LEExtendedAdvertisingReport(reports: [advIndReport])
        try CodecCheck.event(value, h("3E 1D  0D  01") + h(advIndBytes)) {
            if case .leExtendedAdvertisingReport(let e) = $0 { e } else { nil }
        }
        #expect(value.reports[0].eventType.contains([.legacy, .connectable, .scannable]))
        #expect(value.reports[0].eventType.legacyType == 0)
        #expect(value.reports[0].eventType.dataStatus == 0)
    }

    @Test func leExtendedAdvertisingReportLegacyScanResponse() throws {
        let value = HCI.LEExtendedAdvertisingReport(reports: [scanRspReport])
        try CodecCheck.event(value, h("3E 1F  0D  01") + h(scanRspBytes)) {
            if case .leExtendedAdvertisingReport(let e) = $0 { e } else { nil }
        }
        #expect(value.reports[0].eventType.contains([.legacy, .scanResponse]))
        #expect(value.reports[0].eventType.legacyType == 4)
    }

    @Test func leExtendedAdvertisingReportWithTwoReports() throws {
        let value = HCI.LEExtendedAdvertisingReport(reports: [advIndReport, scanRspReport])
        try CodecCheck.event(value, h("3E 3A  0D  02") + h(advIndBytes) + h(scanRspBytes)) {
            if case .leExtendedAdvertisingReport(let e) = $0 { e } else { nil }
        }
    }

    @Test func leExtendedAdvertisingReportExtendedPDU() throws {
        // A connectable extended ADV_EXT_IND on LE Coded, secondary 2M, SID 3, TX power -4,
        // incomplete data (Data_Status 01), periodic interval 0x0120, directed to a random address.
        let report = HCI.LEExtendedAdvertisingReport.Report(
            eventType: .init(rawValue: 0x0025), addressType: 1, address: addr("c1:c2:c3:c4:c5:c6"), primaryPHY: 3,
            secondaryPHY: 2, sid: 3, txPower: -4, rssi: -90, periodicInterval: 0x0120, directAddressType: 1,
            directAddress: addr("d1:d2:d3:d4:d5:d6"), data: h("AA BB"))
        try CodecCheck.event(HCI.LEExtendedAdvertisingReport(reports: [report]), h("""
            3E 1C  0D  01  25 00  01  C6 C5 C4 C3 C2 C1  03  02  03  FC  A6  20 01  01  D6 D5 D4 D3 D2 D1  02  AA BB
            """)) {
            if case .leExtendedAdvertisingReport(let e) = $0 { e } else { nil }
        }
        #expect(report.eventType.dataStatus == 0b01)
        #expect(report.eventType.contains([.connectable, .directed]))
        #expect(!report.eventType.contains(.legacy))
    }

    @Test(arguments: [
        // Core Vol 4 Part E 7.7.65.13, table of Event_Type values for legacy PDUs.
        (UInt16(0b0010011), UInt8(0)),  // ADV_IND
        (UInt16(0b0010101), UInt8(1)),  // ADV_DIRECT_IND
        (UInt16(0b0010010), UInt8(2)),  // ADV_SCAN_IND
        (UInt16(0b0010000), UInt8(3)),  // ADV_NONCONN_IND
        (UInt16(0b0011011), UInt8(4)),  // SCAN_RSP to an ADV_IND
        (UInt16(0b0011010), UInt8(4)),  // SCAN_RSP to an ADV_SCAN_IND
    ])
    func legacyTypeMapping(eventType: UInt16, legacyType: UInt8) {
        let type = HCI.LEExtendedAdvertisingReport.EventType(rawValue: eventType)
        #expect(type.legacyType == legacyType)
        #expect(type.contains(.legacy))
        #expect(type.dataStatus == 0)
    }

    @Test func leReadRemoteFeaturesComplete() throws {
        // 7.7.65.4: Subevent_Code 0x04, Status, Connection_Handle (2), LE_Features (8). The host's
        // table does not parse it (see unknownLESubevent).
        try CodecCheck.eventParameters(
            HCI.LEReadRemoteFeaturesComplete(status: .success, handle: 0x0040,
                                             features: [.encryption, .dataPacketLengthExtension, .extendedAdvertising]),
            h("3E 0C  04  00  40 00  21 10 00 00 00 00 00 00"))
    }

    @Test func leLongTermKeyRequest() throws {
        // 7.7.65.5: Subevent_Code 0x05, Connection_Handle (2), Random_Number (8),
        // Encrypted_Diversifier (2).
        try CodecCheck.event(HCI.LELongTermKeyRequest(handle: 0x0040, random: 0x0123_4567_89AB_CDEF, ediv: 0xBEEF),
                             h("3E 0D  05  40 00  EF CD AB 89 67 45 23 01  EF BE")) {
            if case .leLongTermKeyRequest(let e) = $0 { e } else { nil }
        }
        // LE Secure Connections: Rand and EDIV zero.
        try CodecCheck.event(HCI.LELongTermKeyRequest(handle: 0x0001, random: 0, ediv: 0),
                             h("3E 0D  05  01 00  00 00 00 00 00 00 00 00  00 00")) {
            if case .leLongTermKeyRequest(let e) = $0 { e } else { nil }
        }
    }

    @Test func leRemoteConnectionParameterRequest() throws {
        // 7.7.65.6: Subevent_Code 0x06, Connection_Handle (2), Interval_Min (2), Interval_Max (2),
        // Max_Latency (2), Timeout (2).
        try CodecCheck.event(HCI.LERemoteConnectionParameterRequest(handle: 0x0040, intervalMin: 0x0010,
                                                                    intervalMax: 0x0018, maxLatency: 1,
                                                                    supervisionTimeout: 0x01F4),
                             h("3E 0B  06  40 00  10 00  18 00  01 00  F4 01")) {
            if case .leRemoteConnectionParameterRequest(let e) = $0 { e } else { nil }
        }
    }

    @Test func leDataLengthChange() throws {
        // 7.7.65.7: Subevent_Code 0x07, Connection_Handle (2), Max_TX_Octets (2), Max_TX_Time (2),
        // Max_RX_Octets (2), Max_RX_Time (2).
        try CodecCheck.event(HCI.LEDataLengthChange(handle: 0x0040, maxTxOctets: 251, maxTxTime: 2120,
                                                    maxRxOctets: 27, maxRxTime: 328),
                             h("3E 0B  07  40 00  FB 00  48 08  1B 00  48 01")) {
            if case .leDataLengthChange(let e) = $0 { e } else { nil }
        }
    }

    @Test func leScanTimeout() throws {
        // 7.7.65.17: Subevent_Code 0x11 only.
        #expect(HCI.LEScanTimeout().packetBytes() == h("3E 01 11"))
        #expect(try HCIEvent(parsing: h("3E 01 11")) == .leScanTimeout)
        #expect(throws: DecodeError.self) { _ = try HCIEvent(parsing: h("3E 00")) }
    }

    @Test func leAdvertisingSetTerminated() throws {
        // 7.7.65.18: Subevent_Code 0x12, Status, Advertising_Handle, Connection_Handle (2),
        // Num_Completed_Extended_Advertising_Events.
        try CodecCheck.event(HCI.LEAdvertisingSetTerminated(status: .success, advertisingHandle: 0,
                                                            connectionHandle: 0x0040, completedEvents: 0),
                             h("3E 06  12  00  00  40 00  00")) {
            if case .leAdvertisingSetTerminated(let e) = $0 { e } else { nil }
        }
        try CodecCheck.event(HCI.LEAdvertisingSetTerminated(status: .advertisingTimeout, advertisingHandle: 1,
                                                            connectionHandle: 0, completedEvents: 7),
                             h("3E 06  12  3C  01  00 00  07")) {
            if case .leAdvertisingSetTerminated(let e) = $0 { e } else { nil }
        }
    }

    // MARK: Events the table does not know

    @Test func unknownEventCode() throws {
        #expect(try HCIEvent(parsing: h("FF 03  01 02 03")) == .unknown(code: 0xFF, parameters: [1, 2, 3]))
        // Read Remote Version Information Complete (0x0C) is not in the table either.
        #expect(try HCIEvent(parsing: h("0C 08  00 40 00 0D 02 00 34 12"))
                == .unknown(code: 0x0C, parameters: h("00 40 00 0D 02 00 34 12")))
        #expect(try HCIEvent(parsing: h("FF 00")) == .unknown(code: 0xFF, parameters: []))
    }

    @Test func unknownLESubevent() throws {
        // LE Read Remote Features Complete (0x04): Status, Connection_Handle, LE_Features (8).
        #expect(try HCIEvent(parsing: h("3E 0C  04  00  40 00  01 00 00 00 00 00 00 00"))
                == .leMeta(subevent: 0x04, parameters: h("00 40 00 01 00 00 00 00 00 00 00")))
        // LE PHY Update Complete (0x0C): Status, Connection_Handle, TX_PHY, RX_PHY.
        #expect(try HCIEvent(parsing: h("3E 06  0C  00  40 00  02  02"))
                == .leMeta(subevent: 0x0C, parameters: h("00 40 00 02 02")))
        #expect(try HCIEvent(parsing: h("3E 01  FF")) == .leMeta(subevent: 0xFF, parameters: []))
    }

    // MARK: Malformed events

    @Test(arguments: [
        "",                      // nothing
        "05",                    // no length byte
        "05 05  00 40 00 13",    // says 5, carries 4
        "05 03  00 40 00 13",    // says 3, carries 4
        "0E 04  01 03 0C",       // says 4, carries 3
        "3E 13  01 00 40 00",    // LE Connection Complete: says 19, carries 4
        "0F FF  00 01 0D 20",    // says 255
    ])
    func lengthByteDisagreeingWithThePacketThrows(bytes: String) {
        #expect(throws: DecodeError.self) { _ = try HCIEvent(parsing: h(bytes)) }
    }

    @Test(arguments: [
        "05 03  00 40 00",                       // Disconnection Complete without Reason
        "08 02  00 40",                          // Encryption Change without Encryption_Enabled
        "0E 02  01 03",                          // Command Complete with half an opcode
        "0F 03  00 01 0D",                       // Command Status with half an opcode
        "10 00",                                 // Hardware Error without its code
        "13 05  02  40 00 02 00",                // two handles announced, one given
        "13 03  01  40 00",                      // handle without its count
        "3E 00",                                 // LE Meta without subevent code
        "3E 0A  01  00 40 00 01 00 FF EE DD CC", // LE Connection Complete cut in the address
        "3E 08  03  00 40 00 06 00 04 00",       // LE Connection Update Complete without timeout
        "3E 05  12  00 00 40 00",                // LE Advertising Set Terminated without events
        "30 02  00 40",                          // Encryption Key Refresh Complete with half a handle
        "3E 0C  05  40 00 EF CD AB 89 67 45 23 01 EF",  // LTK Request with half an EDIV
        "3E 0A  06  40 00 10 00 18 00 01 00 F4",  // Remote Connection Parameter Request, half a timeout
        "3E 09  07  40 00 FB 00 48 08 1B 00",    // Data Length Change without Max_RX_Time
        "3E 0B  02  01  00 00 FF EE DD CC BB AA 14",  // advertising data length 20, no data
        "3E 0E  02  01  00 00 FF EE DD CC BB AA 03 02 01 06",  // RSSI missing
        "3E 0E  0D  01  13 00 00 FF EE DD CC BB AA 01 00 FF",  // extended report cut
        "3E 1D  0D  01  13 00 00 FF EE DD CC BB AA 01 00 FF 7F D3 00 00 00 00 00 00 00 00 00 05 02 01 06",
    ])
    func truncatedFieldsThrow(bytes: String) {
        #expect(throws: DecodeError.self) { _ = try HCIEvent(parsing: h(bytes)) }
    }

    @Test func advertisingReportWithDataLength200Throws() {
        // Data_Length is 0 to 31 (7.7.65.2); 200 bytes of data are present so that only the
        // range check can reject it.
        let report = h("02  01  00  00  FF EE DD CC BB AA  C8") + [UInt8](repeating: 0x5A, count: 200) + h("CE")
        let bytes = [0x3E, UInt8(report.count)] + report
        #expect(bytes.count - 2 == 212)
        #expect(throws: DecodeError.self) { _ = try HCIEvent(parsing: bytes) }
        // The same with the data length claiming more than the packet holds.
        let short = h("3E 0F  02  01  00  00  FF EE DD CC BB AA  14  01 02 03 CE")
        #expect(throws: DecodeError.self) { _ = try HCIEvent(parsing: short) }
    }

    @Test func eventPacketsCarryTheH4Indicator() {
        #expect(HCI.HardwareError(code: 1).packet == HCIPacket(.event, h("10 01 01")))
        #expect(HCI.HardwareError(code: 1).packet.h4Bytes == h("04 10 01 01"))
        #expect(HCIPacketType.command.rawValue == 0x01)
        #expect(HCIPacketType.acl.rawValue == 0x02)
        #expect(HCIPacketType.sco.rawValue == 0x03)
        #expect(HCIPacketType.event.rawValue == 0x04)
        #expect(HCIPacketType.iso.rawValue == 0x05)
    }
}
