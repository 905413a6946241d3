import Testing
import BluetoothCore

/// Every HCI command struct against the packet layout of Core v5.4 Vol 4 Part E 5.4.1 (opcode
/// LSB first, parameter total length, parameters) and the field order of its section in 7.x.
/// Expected bytes are written out by hand.
fileprivate func h(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
    CodecBytes.hex(text, sourceLocation: sourceLocation)
}

fileprivate func addr(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> BluetoothAddress {
    CodecBytes.address(text, sourceLocation: sourceLocation)
}

struct CodecHCICommandTests {
    // MARK: Link control, controller & baseband, informational, status (7.1, 7.3, 7.4, 7.5)

    @Test func disconnect() throws {
        // 7.1.6: OGF 0x01 OCF 0x0006; Connection_Handle (2), Reason (1).
        try CodecCheck.command(HCI.Disconnect(handle: 0x0040, reason: .remoteUserTerminated),
                               encodesTo: h("06 04 03  40 00  13"))
        try CodecCheck.command(HCI.Disconnect(handle: 0x0EFF, reason: .authenticationFailure),
                               encodesTo: h("06 04 03  FF 0E  05"))
        #expect(HCI.Disconnect.completesWithStatus)
        #expect(HCI.Disconnect(handle: 1).reason == HCIStatus(0x13))
    }

    @Test func readRemoteVersionInformation() throws {
        // 7.1.23: OGF 0x01 OCF 0x001D; Connection_Handle (2). Command Status, then Read Remote
        // Version Information Complete.
        try CodecCheck.command(HCI.ReadRemoteVersionInformation(handle: 0x0040), encodesTo: h("1D 04 02  40 00"))
        try CodecCheck.command(HCI.ReadRemoteVersionInformation(handle: 0x0EFF), encodesTo: h("1D 04 02  FF 0E"))
        #expect(HCI.ReadRemoteVersionInformation.completesWithStatus)
    }

    @Test func setEventMask() throws {
        // 7.3.1: OGF 0x03 OCF 0x0001; Event_Mask (8).
        try CodecCheck.command(HCI.SetEventMask(mask: HCI.SetEventMask.leHostDefault),
                               encodesTo: h("01 0C 08  90 88 00 02 00 80 00 20"))
        try CodecCheck.command(HCI.SetEventMask(mask: 0x0102_0304_0506_0708),
                               encodesTo: h("01 0C 08  08 07 06 05 04 03 02 01"))
    }

    @Test func setEventMaskDefaultHasTheDocumentedEvents() {
        // Bit n enables event code n + 1: Disconnection Complete 0x05, Encryption Change 0x08,
        // Read Remote Version Information Complete 0x0C, Hardware Error 0x10, Data Buffer Overflow
        // 0x1A, Encryption Key Refresh Complete 0x30, LE Meta 0x3E.
        let codes: [UInt64] = [0x05, 0x08, 0x0C, 0x10, 0x1A, 0x30, 0x3E]
        let mask = codes.reduce(UInt64(0)) { $0 | 1 << ($1 - 1) }
        #expect(HCI.SetEventMask.leHostDefault == mask)
    }

    @Test func reset() throws {
        // 7.3.2: OGF 0x03 OCF 0x0003, no parameters.
        try CodecCheck.command(HCI.Reset(), encodesTo: h("03 0C 00"))
    }

    @Test func readLocalVersionInformation() throws {
        // 7.4.1: OGF 0x04 OCF 0x0001.
        try CodecCheck.command(HCI.ReadLocalVersionInformation(), encodesTo: h("01 10 00"))
    }

    @Test func readLocalSupportedCommands() throws {
        // 7.4.2: OGF 0x04 OCF 0x0002.
        try CodecCheck.command(HCI.ReadLocalSupportedCommands(), encodesTo: h("02 10 00"))
    }

    @Test func readLocalSupportedFeatures() throws {
        // 7.4.3: OGF 0x04 OCF 0x0003.
        try CodecCheck.command(HCI.ReadLocalSupportedFeatures(), encodesTo: h("03 10 00"))
    }

    @Test func readBufferSize() throws {
        // 7.4.5: OGF 0x04 OCF 0x0005.
        try CodecCheck.command(HCI.ReadBufferSize(), encodesTo: h("05 10 00"))
    }

    @Test func readBDADDR() throws {
        // 7.4.6: OGF 0x04 OCF 0x0009.
        try CodecCheck.command(HCI.ReadBDADDR(), encodesTo: h("09 10 00"))
    }

    @Test func readRSSI() throws {
        // 7.5.4: OGF 0x05 OCF 0x0005; Handle (2).
        try CodecCheck.command(HCI.ReadRSSI(handle: 0x0040), encodesTo: h("05 14 02  40 00"))
        try CodecCheck.command(HCI.ReadRSSI(handle: 0x0123), encodesTo: h("05 14 02  23 01"))
    }

    // MARK: LE controller commands, legacy (7.8)

    @Test func leSetEventMask() throws {
        // 7.8.1: OGF 0x08 OCF 0x0001; LE_Event_Mask (8).
        try CodecCheck.command(HCI.LESetEventMask(mask: HCI.LESetEventMask.hostDefault),
                               encodesTo: h("01 20 08  5F 18 03 00 00 00 00 00"))
        try CodecCheck.command(HCI.LESetEventMask(mask: 0x1F), encodesTo: h("01 20 08  1F 00 00 00 00 00 00 00"))
    }

    @Test func leSetEventMaskDefaultHasTheDocumentedSubevents() {
        // Bit n enables subevent n + 1: Connection Complete 0x01, Advertising Report 0x02,
        // Connection Update Complete 0x03, Read Remote Features Complete 0x04, LTK Request 0x05,
        // Data Length Change 0x07, PHY Update Complete 0x0C, Extended Advertising Report 0x0D,
        // Scan Timeout 0x11, Advertising Set Terminated 0x12.
        let subevents: [UInt64] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x0C, 0x0D, 0x11, 0x12]
        let mask = subevents.reduce(UInt64(0)) { $0 | 1 << ($1 - 1) }
        #expect(HCI.LESetEventMask.hostDefault == mask)
    }

    @Test func leReadBufferSize() throws {
        // 7.8.2 [v1]: OGF 0x08 OCF 0x0002.
        try CodecCheck.command(HCI.LEReadBufferSize(), encodesTo: h("02 20 00"))
    }

    @Test func leReadBufferSizeV2() throws {
        // 7.8.2 [v2]: OGF 0x08 OCF 0x0060.
        try CodecCheck.command(HCI.LEReadBufferSizeV2(), encodesTo: h("60 20 00"))
    }

    @Test func leReadLocalSupportedFeatures() throws {
        // 7.8.3: OGF 0x08 OCF 0x0003.
        try CodecCheck.command(HCI.LEReadLocalSupportedFeatures(), encodesTo: h("03 20 00"))
    }

    @Test func leSetRandomAddress() throws {
        // 7.8.4: OGF 0x08 OCF 0x0005; Random_Address (6, LSB first).
        try CodecCheck.command(HCI.LESetRandomAddress(address: addr("c0:11:22:33:44:55")),
                               encodesTo: h("05 20 06  55 44 33 22 11 C0"))
    }

    @Test func legacyAdvertisingTypeValues() {
        // 7.8.5 Advertising_Type.
        #expect(HCI.LegacyAdvertisingType.advInd.rawValue == 0x00)
        #expect(HCI.LegacyAdvertisingType.advDirectIndHighDuty.rawValue == 0x01)
        #expect(HCI.LegacyAdvertisingType.advScanInd.rawValue == 0x02)
        #expect(HCI.LegacyAdvertisingType.advNonconnInd.rawValue == 0x03)
        #expect(HCI.LegacyAdvertisingType.advDirectIndLowDuty.rawValue == 0x04)
    }

    @Test func leSetAdvertisingParameters() throws {
        // 7.8.5: OGF 0x08 OCF 0x0006; Advertising_Interval_Min (2), Advertising_Interval_Max (2),
        // Advertising_Type, Own_Address_Type, Peer_Address_Type, Peer_Address (6),
        // Advertising_Channel_Map, Advertising_Filter_Policy: 15 bytes.
        try CodecCheck.command(
            HCI.LESetAdvertisingParameters(intervalMin: 0x0020, intervalMax: 0x0030, type: .advScanInd,
                                           ownAddressType: 1),
            encodesTo: h("06 20 0F  20 00  30 00  02  01  00  00 00 00 00 00 00  07  00"))
        try CodecCheck.command(
            HCI.LESetAdvertisingParameters(intervalMin: 0x0800, intervalMax: 0x1000, type: .advDirectIndLowDuty,
                                           ownAddressType: 0, peerAddressType: 1,
                                           peerAddress: addr("d1:d2:d3:d4:d5:d6"), channelMap: 0x05,
                                           filterPolicy: 0x03),
            encodesTo: h("06 20 0F  00 08  00 10  04  00  01  D6 D5 D4 D3 D2 D1  05  03"))
    }

    @Test func leReadAdvertisingPhysicalChannelTxPower() throws {
        // 7.8.6: OGF 0x08 OCF 0x0007.
        try CodecCheck.command(HCI.LEReadAdvertisingPhysicalChannelTxPower(), encodesTo: h("07 20 00"))
    }

    @Test func leSetAdvertisingData() throws {
        // 7.8.7: OGF 0x08 OCF 0x0008; Advertising_Data_Length (1), Advertising_Data (31, zero padded).
        let data = h("02 01 06 03 FF 4D 50")
        try CodecCheck.command(HCI.LESetAdvertisingData(data: data),
                               encodesTo: h("08 20 20  07  02 01 06 03 FF 4D 50") + CodecBytes.zeros(24))
        try CodecCheck.command(HCI.LESetAdvertisingData(data: []), encodesTo: h("08 20 20  00") + CodecBytes.zeros(31))
        let full = (1...31).map { UInt8($0) }
        try CodecCheck.command(HCI.LESetAdvertisingData(data: full), encodesTo: h("08 20 20  1F") + full)
    }

    @Test func leSetAdvertisingDataRejectsALengthOver31() {
        let params = [0x20] + CodecBytes.zeros(31)
        #expect(throws: DecodeError.self) { _ = try HCI.LESetAdvertisingData(parameterBytes: params) }
        #expect(throws: DecodeError.self) { _ = try HCI.LESetScanResponseData(parameterBytes: params) }
    }

    @Test func leSetScanResponseData() throws {
        // 7.8.8: OGF 0x08 OCF 0x0009; same layout as 7.8.7.
        let data = h("04 09 4D 50 59")
        try CodecCheck.command(HCI.LESetScanResponseData(data: data),
                               encodesTo: h("09 20 20  05  04 09 4D 50 59") + CodecBytes.zeros(26))
        try CodecCheck.command(HCI.LESetScanResponseData(data: []), encodesTo: h("09 20 20  00") + CodecBytes.zeros(31))
    }

    @Test(arguments: [0, 1, 7, 30, 31])
    func advertisingAndScanResponseDataDifferOnlyInOpcode(count: Int) throws {
        // 7.8.7 and 7.8.8 share one layout (HCIAdvertisingDataCommand).
        let data = (0..<count).map { UInt8(truncatingIfNeeded: 0xA0 + $0) }
        let adv = HCI.LESetAdvertisingData(data: data).packetBytes()
        let rsp = HCI.LESetScanResponseData(data: data).packetBytes()
        #expect(adv.prefix(2) == [0x08, 0x20] && rsp.prefix(2) == [0x09, 0x20])
        #expect(adv.dropFirst(2) == rsp.dropFirst(2))
        #expect(try HCI.LESetScanResponseData(parameterBytes: Array(adv.dropFirst(3))).data == data)
    }

    @Test(arguments: [(true, "0A 20 01 01"), (false, "0A 20 01 00")])
    func leSetAdvertisingEnable(enable: Bool, expected: String) throws {
        // 7.8.9: OGF 0x08 OCF 0x000A; Advertising_Enable (1).
        try CodecCheck.command(HCI.LESetAdvertisingEnable(enable: enable), encodesTo: h(expected))
    }

    @Test func leSetScanParameters() throws {
        // 7.8.10: OGF 0x08 OCF 0x000B; LE_Scan_Type, LE_Scan_Interval (2), LE_Scan_Window (2),
        // Own_Address_Type, Scanning_Filter_Policy.
        try CodecCheck.command(HCI.LESetScanParameters(active: true, interval: 0x0010, window: 0x0010, ownAddressType: 0),
                               encodesTo: h("0B 20 07  01  10 00  10 00  00  00"))
        try CodecCheck.command(HCI.LESetScanParameters(active: false, interval: 0x0800, window: 0x0012, ownAddressType: 1,
                                                       filterPolicy: 2),
                               encodesTo: h("0B 20 07  00  00 08  12 00  01  02"))
    }

    @Test(arguments: [
        (true, false, "0C 20 02 01 00"),
        (false, false, "0C 20 02 00 00"),
        (true, true, "0C 20 02 01 01"),
    ])
    func leSetScanEnable(enable: Bool, filterDuplicates: Bool, expected: String) throws {
        // 7.8.11: OGF 0x08 OCF 0x000C; LE_Scan_Enable, Filter_Duplicates.
        try CodecCheck.command(HCI.LESetScanEnable(enable: enable, filterDuplicates: filterDuplicates),
                               encodesTo: h(expected))
    }

    @Test func leCreateConnection() throws {
        // 7.8.12: OGF 0x08 OCF 0x000D; LE_Scan_Interval (2), LE_Scan_Window (2),
        // Initiator_Filter_Policy, Peer_Address_Type, Peer_Address (6), Own_Address_Type,
        // Connection_Interval_Min (2), Connection_Interval_Max (2), Max_Latency (2),
        // Supervision_Timeout (2), Min_CE_Length (2), Max_CE_Length (2): 25 bytes.
        let command = HCI.LECreateConnection(
            scanInterval: 0x0060, scanWindow: 0x0030, peerAddressType: 1, peerAddress: addr("c1:c2:c3:c4:c5:c6"),
            ownAddressType: 0,
            connection: .init(intervalMin: 0x0018, intervalMax: 0x0028, supervisionTimeout: 0x01F4))
        try CodecCheck.command(command, encodesTo: h("""
            0D 20 19  60 00  30 00  00  01  C6 C5 C4 C3 C2 C1  00
            18 00  28 00  00 00  F4 01  00 00  00 00
            """))
        let other = HCI.LECreateConnection(
            scanInterval: 0x4000, scanWindow: 0x0004, filterPolicy: 1, peerAddressType: 0, peerAddress: .zero,
            ownAddressType: 3,
            connection: .init(intervalMin: 0x0006, intervalMax: 0x0C80, maxLatency: 0x01F3, supervisionTimeout: 0x0C80,
                              minCELength: 0x0102, maxCELength: 0x0304))
        try CodecCheck.command(other, encodesTo: h("""
            0D 20 19  00 40  04 00  01  00  00 00 00 00 00 00  03
            06 00  80 0C  F3 01  80 0C  02 01  04 03
            """))
        #expect(HCI.LECreateConnection.completesWithStatus)
    }

    @Test func leCreateConnectionCancel() throws {
        // 7.8.13: OGF 0x08 OCF 0x000E.
        try CodecCheck.command(HCI.LECreateConnectionCancel(), encodesTo: h("0E 20 00"))
        #expect(!HCI.LECreateConnectionCancel.completesWithStatus)
    }

    @Test func leReadSupportedStates() throws {
        // 7.8.27: OGF 0x08 OCF 0x001C.
        try CodecCheck.command(HCI.LEReadSupportedStates(), encodesTo: h("1C 20 00"))
    }

    // MARK: Filter Accept List (7.8.14 - 7.8.17)

    @Test func leReadFilterAcceptListSize() throws {
        // 7.8.14: OGF 0x08 OCF 0x000F.
        try CodecCheck.command(HCI.LEReadFilterAcceptListSize(), encodesTo: h("0F 20 00"))
    }

    @Test func leClearFilterAcceptList() throws {
        // 7.8.15: OGF 0x08 OCF 0x0010.
        try CodecCheck.command(HCI.LEClearFilterAcceptList(), encodesTo: h("10 20 00"))
    }

    @Test func leAddDeviceToFilterAcceptList() throws {
        // 7.8.16: OGF 0x08 OCF 0x0011; Address_Type, Address (6).
        try CodecCheck.command(HCI.LEAddDeviceToFilterAcceptList(addressType: 1, address: addr("c0:11:22:33:44:55")),
                               encodesTo: h("11 20 07  01  55 44 33 22 11 C0"))
        // 0xFF: anonymous advertisements.
        try CodecCheck.command(HCI.LEAddDeviceToFilterAcceptList(addressType: 0xFF, address: .zero),
                               encodesTo: h("11 20 07  FF  00 00 00 00 00 00"))
    }

    @Test func leRemoveDeviceFromFilterAcceptList() throws {
        // 7.8.17: OGF 0x08 OCF 0x0012; Address_Type, Address (6).
        try CodecCheck.command(HCI.LERemoveDeviceFromFilterAcceptList(addressType: 0,
                                                                      address: addr("00:1a:7d:da:71:13")),
                               encodesTo: h("12 20 07  00  13 71 DA 7D 1A 00"))
    }

    // MARK: Procedures on a connection (7.8.18, 7.8.21, 7.8.31 - 7.8.35, 7.8.46)

    @Test func leConnectionUpdate() throws {
        // 7.8.18: OGF 0x08 OCF 0x0013; Connection_Handle (2), Connection_Interval_Min (2),
        // Connection_Interval_Max (2), Max_Latency (2), Supervision_Timeout (2), Min_CE_Length (2),
        // Max_CE_Length (2): 14 bytes.
        let command = HCI.LEConnectionUpdate(
            handle: 0x0040,
            connection: .init(intervalMin: 6, intervalMax: 12, maxLatency: 4, supervisionTimeout: 0x0064,
                              minCELength: 1, maxCELength: 2))
        try CodecCheck.command(command, encodesTo: h("13 20 0E  40 00  06 00  0C 00  04 00  64 00  01 00  02 00"))
        #expect(HCI.LEConnectionUpdate.completesWithStatus)
    }

    @Test func leReadRemoteFeatures() throws {
        // 7.8.21: OGF 0x08 OCF 0x0016; Connection_Handle (2). Command Status, then LE Read Remote
        // Features Complete.
        try CodecCheck.command(HCI.LEReadRemoteFeatures(handle: 0x0040), encodesTo: h("16 20 02  40 00"))
        #expect(HCI.LEReadRemoteFeatures.completesWithStatus)
    }

    @Test func leRemoteConnectionParameterRequestReply() throws {
        // 7.8.31: OGF 0x08 OCF 0x0020; Connection_Handle (2), Interval_Min (2), Interval_Max (2),
        // Max_Latency (2), Timeout (2), Min_CE_Length (2), Max_CE_Length (2): 14 bytes.
        try CodecCheck.command(
            HCI.LERemoteConnectionParameterRequestReply(handle: 0x0040, intervalMin: 0x0010, intervalMax: 0x0018,
                                                        maxLatency: 1, supervisionTimeout: 0x01F4),
            encodesTo: h("20 20 0E  40 00  10 00  18 00  01 00  F4 01  00 00  00 00"))
        try CodecCheck.command(
            HCI.LERemoteConnectionParameterRequestReply(handle: 0x0EFF, intervalMin: 6, intervalMax: 0x0C80,
                                                        maxLatency: 0x01F3, supervisionTimeout: 0x0C80,
                                                        minCELength: 0x0102, maxCELength: 0x0304),
            encodesTo: h("20 20 0E  FF 0E  06 00  80 0C  F3 01  80 0C  02 01  04 03"))
        #expect(!HCI.LERemoteConnectionParameterRequestReply.completesWithStatus)
    }

    @Test func leRemoteConnectionParameterRequestNegativeReply() throws {
        // 7.8.32: OGF 0x08 OCF 0x0021; Connection_Handle (2), Reason (1), by default Unacceptable
        // Connection Parameters (0x3B).
        try CodecCheck.command(HCI.LERemoteConnectionParameterRequestNegativeReply(handle: 0x0040),
                               encodesTo: h("21 20 03  40 00  3B"))
        try CodecCheck.command(HCI.LERemoteConnectionParameterRequestNegativeReply(handle: 0x0041,
                                                                                   reason: .unspecifiedError),
                               encodesTo: h("21 20 03  41 00  1F"))
    }

    @Test func leSetDataLength() throws {
        // 7.8.33: OGF 0x08 OCF 0x0022; Connection_Handle (2), TX_Octets (2), TX_Time (2).
        try CodecCheck.command(HCI.LESetDataLength(handle: 0x0040, txOctets: 251, txTime: 2120),
                               encodesTo: h("22 20 06  40 00  FB 00  48 08"))
    }

    @Test func leReadSuggestedDefaultDataLength() throws {
        // 7.8.34: OGF 0x08 OCF 0x0023.
        try CodecCheck.command(HCI.LEReadSuggestedDefaultDataLength(), encodesTo: h("23 20 00"))
    }

    @Test func leWriteSuggestedDefaultDataLength() throws {
        // 7.8.35: OGF 0x08 OCF 0x0024; Suggested_Max_TX_Octets (2), Suggested_Max_TX_Time (2).
        try CodecCheck.command(HCI.LEWriteSuggestedDefaultDataLength(maxTxOctets: 251, maxTxTime: 2120),
                               encodesTo: h("24 20 04  FB 00  48 08"))
        try CodecCheck.command(HCI.LEWriteSuggestedDefaultDataLength(maxTxOctets: 27, maxTxTime: 328),
                               encodesTo: h("24 20 04  1B 00  48 01"))
    }

    @Test func leReadMaximumDataLength() throws {
        // 7.8.46: OGF 0x08 OCF 0x002F.
        try CodecCheck.command(HCI.LEReadMaximumDataLength(), encodesTo: h("2F 20 00"))
    }

    // MARK: Encryption (7.8.22 - 7.8.26)

    @Test func leEncrypt() throws {
        // 7.8.22: OGF 0x08 OCF 0x0017; Key (16), Plaintext_Data (16), each least significant octet
        // first: FIPS-197 C.1 reversed.
        let key = Array(h("00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F").reversed())
        let plaintext = Array(h("00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF").reversed())
        try CodecCheck.command(HCI.LEEncrypt(key: key, plaintext: plaintext), encodesTo: h("""
            17 20 20  0F 0E 0D 0C 0B 0A 09 08 07 06 05 04 03 02 01 00
            FF EE DD CC BB AA 99 88 77 66 55 44 33 22 11 00
            """))
        // Shorter values are zero-padded to their 16-octet fields.
        #expect(HCI.LEEncrypt(key: [1], plaintext: [2]).packetBytes()
                == h("17 20 20  01") + CodecBytes.zeros(15) + h("02") + CodecBytes.zeros(15))
    }

    @Test func leRand() throws {
        // 7.8.23: OGF 0x08 OCF 0x0018.
        try CodecCheck.command(HCI.LERand(), encodesTo: h("18 20 00"))
    }

    @Test func leEnableEncryption() throws {
        // 7.8.24: OGF 0x08 OCF 0x0019; Connection_Handle (2), Random_Number (8),
        // Encrypted_Diversifier (2), Long_Term_Key (16): 28 bytes. Command Status, then Encryption
        // Change or Encryption Key Refresh Complete.
        let ltk = (1...16).map { UInt8($0) }
        try CodecCheck.command(
            HCI.LEEnableEncryption(handle: 0x0040, random: 0x0123_4567_89AB_CDEF, ediv: 0xBEEF, ltk: ltk),
            encodesTo: h("""
                19 20 1C  40 00  EF CD AB 89 67 45 23 01  EF BE
                01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10
                """))
        // LE Secure Connections keys: Rand and EDIV zero.
        try CodecCheck.command(HCI.LEEnableEncryption(handle: 0x0001, random: 0, ediv: 0, ltk: CodecBytes.zeros(16)),
                               encodesTo: h("19 20 1C  01 00  00 00 00 00 00 00 00 00  00 00") + CodecBytes.zeros(16))
        #expect(HCI.LEEnableEncryption.completesWithStatus)
    }

    @Test func leLongTermKeyRequestReply() throws {
        // 7.8.25: OGF 0x08 OCF 0x001A; Connection_Handle (2), Long_Term_Key (16).
        let ltk = (0xA0...0xAF).map { UInt8($0) }
        try CodecCheck.command(HCI.LELongTermKeyRequestReply(handle: 0x0040, ltk: ltk),
                               encodesTo: h("1A 20 12  40 00  A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF"))
        #expect(!HCI.LELongTermKeyRequestReply.completesWithStatus)
    }

    @Test func leLongTermKeyRequestNegativeReply() throws {
        // 7.8.26: OGF 0x08 OCF 0x001B; Connection_Handle (2).
        try CodecCheck.command(HCI.LELongTermKeyRequestNegativeReply(handle: 0x0040), encodesTo: h("1B 20 02  40 00"))
    }

    // MARK: LE extended advertising, scanning, connecting (7.8.52 - 7.8.66)

    @Test func leSetAdvertisingSetRandomAddress() throws {
        // 7.8.52: OGF 0x08 OCF 0x0035; Advertising_Handle, Random_Address (6).
        try CodecCheck.command(HCI.LESetAdvertisingSetRandomAddress(handle: 1, address: addr("c0:11:22:33:44:55")),
                               encodesTo: h("35 20 07  01  55 44 33 22 11 C0"))
    }

    @Test func advertisingEventPropertiesLegacyValues() {
        // 7.8.53 Table 7.2: legacy PDUs through the extended commands.
        typealias P = HCI.AdvertisingEventProperties
        #expect(P.legacyAdvInd.rawValue == 0b0001_0011)
        #expect(P.legacyAdvScanInd.rawValue == 0b0001_0010)
        #expect(P.legacyAdvNonconnInd.rawValue == 0b0001_0000)
        #expect(P([.legacy, .directed, .connectable]).rawValue == 0b0001_0101)                     // ADV_DIRECT_IND low duty
        #expect(P([.legacy, .directed, .highDutyDirected, .connectable]).rawValue == 0b0001_1101)  // high duty
        #expect(P.anonymous.rawValue == 1 << 5)
        #expect(P.includeTxPower.rawValue == 1 << 6)
    }

    @Test func leSetExtendedAdvertisingParameters() throws {
        // 7.8.53 [v1]: OGF 0x08 OCF 0x0036; Advertising_Handle, Advertising_Event_Properties (2),
        // Primary_Advertising_Interval_Min (3), Primary_Advertising_Interval_Max (3),
        // Primary_Advertising_Channel_Map, Own_Address_Type, Peer_Address_Type, Peer_Address (6),
        // Advertising_Filter_Policy, Advertising_TX_Power, Primary_Advertising_PHY,
        // Secondary_Advertising_Max_Skip, Secondary_Advertising_PHY, Advertising_SID,
        // Scan_Request_Notification_Enable: 25 bytes.
        try CodecCheck.command(
            HCI.LESetExtendedAdvertisingParameters(handle: 0, properties: .legacyAdvInd, intervalMin: 0x0000A0,
                                                   intervalMax: 0x0000F0, ownAddressType: 1),
            encodesTo: h("""
                36 20 19  00  13 00  A0 00 00  F0 00 00  07  01  00  00 00 00 00 00 00  00  7F  01  00  01  00  00
                """))
        try CodecCheck.command(
            HCI.LESetExtendedAdvertisingParameters(
                handle: 7, properties: [.connectable, .directed], intervalMin: 0x012345, intervalMax: 0x0ABCDE,
                channelMap: 0x03, ownAddressType: 2, peerAddressType: 1, peerAddress: addr("a1:b2:c3:d4:e5:f6"),
                filterPolicy: 0, txPower: -8, primaryPHY: 3, secondaryMaxSkip: 2, secondaryPHY: 2, sid: 0x0F,
                scanRequestNotification: true),
            encodesTo: h("""
                36 20 19  07  05 00  45 23 01  DE BC 0A  03  02  01  F6 E5 D4 C3 B2 A1  00  F8  03  02  02  0F  01
                """))
    }

    @Test func leSetExtendedAdvertisingData() throws {
        // 7.8.54: OGF 0x08 OCF 0x0037; Advertising_Handle, Operation, Fragment_Preference,
        // Advertising_Data_Length, Advertising_Data (variable).
        try CodecCheck.command(HCI.LESetExtendedAdvertisingData(handle: 0, data: h("02 01 06 03 FF 4D 50")),
                               encodesTo: h("37 20 0B  00  03  01  07  02 01 06 03 FF 4D 50"))
        try CodecCheck.command(HCI.LESetExtendedAdvertisingData(handle: 1, operation: 1, fragmentPreference: 0, data: []),
                               encodesTo: h("37 20 04  01  01  00  00"))
        let big = (0..<251).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try CodecCheck.command(HCI.LESetExtendedAdvertisingData(handle: 2, data: big),
                               encodesTo: h("37 20 FF  02  03  01  FB") + big)
    }

    @Test func leSetExtendedScanResponseData() throws {
        // 7.8.55: OGF 0x08 OCF 0x0038; same layout as 7.8.54.
        try CodecCheck.command(HCI.LESetExtendedScanResponseData(handle: 0, data: h("04 09 4D 50 59")),
                               encodesTo: h("38 20 09  00  03  01  05  04 09 4D 50 59"))
        try CodecCheck.command(HCI.LESetExtendedScanResponseData(handle: 3, operation: 2, data: []),
                               encodesTo: h("38 20 04  03  02  01  00"))
    }

    @Test(arguments: [0, 1, 31, 251])
    func extendedAdvertisingAndScanResponseDataDifferOnlyInOpcode(count: Int) throws {
        // 7.8.54 and 7.8.55 share one layout (HCIExtendedAdvertisingDataCommand).
        let data = (0..<count).map { UInt8(truncatingIfNeeded: 0x5A &+ $0) }
        let adv = HCI.LESetExtendedAdvertisingData(handle: 4, operation: 1, fragmentPreference: 0, data: data)
        let rsp = HCI.LESetExtendedScanResponseData(handle: 4, operation: 1, fragmentPreference: 0, data: data)
        #expect(adv.packetBytes().prefix(2) == [0x37, 0x20] && rsp.packetBytes().prefix(2) == [0x38, 0x20])
        #expect(adv.packetBytes().dropFirst(2) == rsp.packetBytes().dropFirst(2))
        let parsed = try HCI.LESetExtendedScanResponseData(parameterBytes: Array(adv.packetBytes().dropFirst(3)))
        #expect(parsed == rsp)
    }

    @Test func leSetExtendedAdvertisingEnable() throws {
        // 7.8.56: OGF 0x08 OCF 0x0039; Enable, Num_Sets, then per set (Vol 4 Part E 5.2: arrayed
        // parameters interleave) Advertising_Handle[i], Duration[i] (2),
        // Max_Extended_Advertising_Events[i].
        typealias Enable = HCI.LESetExtendedAdvertisingEnable
        try CodecCheck.command(Enable(enable: true, sets: [.init(handle: 0)]),
                               encodesTo: h("39 20 06  01  01  00 00 00 00"))
        try CodecCheck.command(Enable(enable: true, sets: [.init(handle: 1, duration: 0x01F4),
                                                           .init(handle: 2, maxEvents: 5)]),
                               encodesTo: h("39 20 0A  01  02  01 F4 01 00  02 00 00 05"))
        // Disable every set: Num_Sets 0.
        try CodecCheck.command(Enable(enable: false, sets: []), encodesTo: h("39 20 02  00  00"))
    }

    @Test func leReadMaximumAdvertisingDataLength() throws {
        // 7.8.57: OGF 0x08 OCF 0x003A.
        try CodecCheck.command(HCI.LEReadMaximumAdvertisingDataLength(), encodesTo: h("3A 20 00"))
    }

    @Test func leReadNumberOfSupportedAdvertisingSets() throws {
        // 7.8.58: OGF 0x08 OCF 0x003B.
        try CodecCheck.command(HCI.LEReadNumberOfSupportedAdvertisingSets(), encodesTo: h("3B 20 00"))
    }

    @Test func leRemoveAdvertisingSet() throws {
        // 7.8.59: OGF 0x08 OCF 0x003C; Advertising_Handle.
        try CodecCheck.command(HCI.LERemoveAdvertisingSet(handle: 3), encodesTo: h("3C 20 01  03"))
    }

    @Test func leClearAdvertisingSets() throws {
        // 7.8.60: OGF 0x08 OCF 0x003D.
        try CodecCheck.command(HCI.LEClearAdvertisingSets(), encodesTo: h("3D 20 00"))
    }

    @Test func leSetExtendedScanParameters() throws {
        // 7.8.64: OGF 0x08 OCF 0x0041; Own_Address_Type, Scanning_Filter_Policy, Scanning_PHYs,
        // then per PHY bit set: Scan_Type[i], Scan_Interval[i] (2), Scan_Window[i] (2).
        try CodecCheck.command(
            HCI.LESetExtendedScanParameters(ownAddressType: 0, parameters: [.init(active: true, interval: 0x10, window: 0x10)]),
            encodesTo: h("41 20 08  00  00  01  01 10 00 10 00"))
        try CodecCheck.command(
            HCI.LESetExtendedScanParameters(ownAddressType: 1, phys: 0x05,
                                            parameters: [.init(active: false, interval: 0x0800, window: 0x0012),
                                                         .init(active: true, interval: 0x0060, window: 0x0030)]),
            encodesTo: h("41 20 0D  01  00  05  00 00 08 12 00  01 60 00 30 00"))
    }

    @Test func leSetExtendedScanEnable() throws {
        // 7.8.65: OGF 0x08 OCF 0x0042; Enable, Filter_Duplicates, Duration (2), Period (2).
        try CodecCheck.command(HCI.LESetExtendedScanEnable(enable: true, duration: 0x01F4),
                               encodesTo: h("42 20 06  01  00  F4 01  00 00"))
        try CodecCheck.command(HCI.LESetExtendedScanEnable(enable: true, filterDuplicates: 2, duration: 0x0102,
                                                           period: 0x0304),
                               encodesTo: h("42 20 06  01  02  02 01  04 03"))
        try CodecCheck.command(HCI.LESetExtendedScanEnable(enable: false), encodesTo: h("42 20 06  00  00  00 00  00 00"))
    }

    @Test func leExtendedCreateConnection() throws {
        // 7.8.66 [v1]: OGF 0x08 OCF 0x0043; Initiator_Filter_Policy, Own_Address_Type,
        // Peer_Address_Type, Peer_Address (6), Initiating_PHYs, then per PHY bit set:
        // Scan_Interval[i], Scan_Window[i], Connection_Interval_Min[i], Connection_Interval_Max[i],
        // Max_Latency[i], Supervision_Timeout[i], Min_CE_Length[i], Max_CE_Length[i] (2 each).
        let conn = HCI.ConnectionParameters(intervalMin: 0x0018, intervalMax: 0x0028, supervisionTimeout: 0x01F4)
        try CodecCheck.command(
            HCI.LEExtendedCreateConnection(ownAddressType: 0, peerAddressType: 1, peerAddress: addr("c1:c2:c3:c4:c5:c6"),
                                           parameters: [.init(scanInterval: 0x0060, scanWindow: 0x0060, connection: conn)]),
            encodesTo: h("""
                43 20 1A  00  00  01  C6 C5 C4 C3 C2 C1  01
                60 00  60 00  18 00  28 00  00 00  F4 01  00 00  00 00
                """))
        let coded = HCI.ConnectionParameters(intervalMin: 0x0050, intervalMax: 0x0060, maxLatency: 1,
                                             supervisionTimeout: 0x0200, minCELength: 3, maxCELength: 4)
        try CodecCheck.command(
            HCI.LEExtendedCreateConnection(filterPolicy: 1, ownAddressType: 1, peerAddressType: 0, peerAddress: .zero,
                                           phys: 0x05,
                                           parameters: [.init(scanInterval: 0x0060, scanWindow: 0x0030, connection: conn),
                                                        .init(scanInterval: 0x0120, scanWindow: 0x0090, connection: coded)]),
            encodesTo: h("""
                43 20 2A  01  01  00  00 00 00 00 00 00  05
                60 00  30 00  18 00  28 00  00 00  F4 01  00 00  00 00
                20 01  90 00  50 00  60 00  01 00  00 02  03 00  04 00
                """))
        #expect(HCI.LEExtendedCreateConnection.completesWithStatus)
    }

    // MARK: Opcodes and names

    @Test func opcodesAreOGFAndOCF() {
        // Vol 4 Part E 5.4.1: OGF in the upper 6 bits, OCF in the lower 10.
        let table: [(HCIOpcode, UInt16, UInt16)] = [
            (HCI.Disconnect.opcode, 0x01, 0x0006),
            (HCI.ReadRemoteVersionInformation.opcode, 0x01, 0x001D),
            (HCI.SetEventMask.opcode, 0x03, 0x0001),
            (HCI.Reset.opcode, 0x03, 0x0003),
            (HCI.ReadLocalVersionInformation.opcode, 0x04, 0x0001),
            (HCI.ReadLocalSupportedCommands.opcode, 0x04, 0x0002),
            (HCI.ReadLocalSupportedFeatures.opcode, 0x04, 0x0003),
            (HCI.ReadBufferSize.opcode, 0x04, 0x0005),
            (HCI.ReadBDADDR.opcode, 0x04, 0x0009),
            (HCI.ReadRSSI.opcode, 0x05, 0x0005),
            (HCI.LESetEventMask.opcode, 0x08, 0x0001),
            (HCI.LEReadBufferSize.opcode, 0x08, 0x0002),
            (HCI.LEReadLocalSupportedFeatures.opcode, 0x08, 0x0003),
            (HCI.LESetRandomAddress.opcode, 0x08, 0x0005),
            (HCI.LESetAdvertisingParameters.opcode, 0x08, 0x0006),
            (HCI.LEReadAdvertisingPhysicalChannelTxPower.opcode, 0x08, 0x0007),
            (HCI.LESetAdvertisingData.opcode, 0x08, 0x0008),
            (HCI.LESetScanResponseData.opcode, 0x08, 0x0009),
            (HCI.LESetAdvertisingEnable.opcode, 0x08, 0x000A),
            (HCI.LESetScanParameters.opcode, 0x08, 0x000B),
            (HCI.LESetScanEnable.opcode, 0x08, 0x000C),
            (HCI.LECreateConnection.opcode, 0x08, 0x000D),
            (HCI.LECreateConnectionCancel.opcode, 0x08, 0x000E),
            (HCI.LEReadFilterAcceptListSize.opcode, 0x08, 0x000F),
            (HCI.LEClearFilterAcceptList.opcode, 0x08, 0x0010),
            (HCI.LEAddDeviceToFilterAcceptList.opcode, 0x08, 0x0011),
            (HCI.LERemoveDeviceFromFilterAcceptList.opcode, 0x08, 0x0012),
            (HCI.LEConnectionUpdate.opcode, 0x08, 0x0013),
            (HCI.LEReadRemoteFeatures.opcode, 0x08, 0x0016),
            (HCI.LEEncrypt.opcode, 0x08, 0x0017),
            (HCI.LERand.opcode, 0x08, 0x0018),
            (HCI.LEEnableEncryption.opcode, 0x08, 0x0019),
            (HCI.LELongTermKeyRequestReply.opcode, 0x08, 0x001A),
            (HCI.LELongTermKeyRequestNegativeReply.opcode, 0x08, 0x001B),
            (HCI.LEReadSupportedStates.opcode, 0x08, 0x001C),
            (HCI.LERemoteConnectionParameterRequestReply.opcode, 0x08, 0x0020),
            (HCI.LERemoteConnectionParameterRequestNegativeReply.opcode, 0x08, 0x0021),
            (HCI.LESetDataLength.opcode, 0x08, 0x0022),
            (HCI.LEReadSuggestedDefaultDataLength.opcode, 0x08, 0x0023),
            (HCI.LEWriteSuggestedDefaultDataLength.opcode, 0x08, 0x0024),
            (HCI.LEReadMaximumDataLength.opcode, 0x08, 0x002F),
            (HCI.LESetAdvertisingSetRandomAddress.opcode, 0x08, 0x0035),
            (HCI.LESetExtendedAdvertisingParameters.opcode, 0x08, 0x0036),
            (HCI.LESetExtendedAdvertisingData.opcode, 0x08, 0x0037),
            (HCI.LESetExtendedScanResponseData.opcode, 0x08, 0x0038),
            (HCI.LESetExtendedAdvertisingEnable.opcode, 0x08, 0x0039),
            (HCI.LEReadMaximumAdvertisingDataLength.opcode, 0x08, 0x003A),
            (HCI.LEReadNumberOfSupportedAdvertisingSets.opcode, 0x08, 0x003B),
            (HCI.LERemoveAdvertisingSet.opcode, 0x08, 0x003C),
            (HCI.LEClearAdvertisingSets.opcode, 0x08, 0x003D),
            (HCI.LESetExtendedScanParameters.opcode, 0x08, 0x0041),
            (HCI.LESetExtendedScanEnable.opcode, 0x08, 0x0042),
            (HCI.LEExtendedCreateConnection.opcode, 0x08, 0x0043),
            (HCI.LEReadBufferSizeV2.opcode, 0x08, 0x0060),
        ]
        for (opcode, ogf, ocf) in table {
            #expect(opcode == HCIOpcode(ogf: ogf, ocf: ocf), "\(opcode)")
            #expect(opcode.ogf == ogf && opcode.ocf == ocf, "\(opcode)")
            #expect(HCI.commandNames[opcode.rawValue] != nil, "no name for \(opcode)")
        }
        #expect(HCI.Reset.opcode.description == "Reset (0x0c03)")
        #expect(HCIOpcode(rawValue: 0xFC01).description == "Unknown (0xfc01)")
    }

    @Test func commandPacketKeepsUnknownOpcodesAndTheirParameters() throws {
        let packet = try HCI.CommandPacket(parsing: h("01 FC 03 AA BB CC"))
        #expect(packet == HCI.CommandPacket(opcode: HCIOpcode(rawValue: 0xFC01), parameters: h("AA BB CC")))
        #expect(packet.opcode.ogf == 0x3F && packet.opcode.ocf == 0x001)
    }
}
