import Testing
import BluetoothCore

fileprivate func h(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
    CodecBytes.hex(text, sourceLocation: sourceLocation)
}

/// Return parameters of every command that has them, read from a whole Command Complete event
/// (7.7.14: event code 0x0E, length, Num_HCI_Command_Packets, Command_Opcode (2), Status, ...).
struct CodecHCIReturnParameterTests {
    @Test func readLocalVersionInformation() throws {
        // 7.4.1: HCI_Version, HCI_Subversion (2), LMP_Version, Company_Identifier (2), LMP_Subversion (2).
        try CodecCheck.returnParameters(
            HCI.ReadLocalVersionInformation.self,
            .init(hciVersion: 0x0D, hciSubversion: 0x1234, lmpVersion: 0x0D, manufacturer: 0x0002, lmpSubversion: 0x5678),
            inEvent: h("0E 0C 01 01 10  00  0D  34 12  0D  02 00  78 56"))
    }

    @Test func readLocalSupportedCommands() throws {
        // 7.4.2: Supported_Commands (64 octets).
        var bitmap = CodecBytes.zeros(64)
        bitmap[0] = 0x20   // Disconnect: octet 0 bit 5
        bitmap[5] = 0xC0   // Set Event Mask, Reset: octet 5 bits 6, 7
        bitmap[15] = 0x22  // Read BD_ADDR, Read RSSI: octet 15 bits 1, 5
        bitmap[36] = 0x04  // LE Set Extended Advertising Parameters: octet 36 bit 2
        bitmap[41] = 0x20  // LE Read Buffer Size [v2]: octet 41 bit 5
        let value = HCI.ReadLocalSupportedCommands.Return(commands: SupportedCommands(bitmap: bitmap))
        try CodecCheck.returnParameters(HCI.ReadLocalSupportedCommands.self, value,
                                        inEvent: h("0E 44 01 02 10  00") + bitmap)
        #expect(value.commands.contains(octet: 0, bit: 5))
        #expect(value.commands.contains(octet: 5, bit: 7))
        #expect(!value.commands.contains(octet: 5, bit: 5))
        #expect(!value.commands.contains(octet: 64, bit: 0))
    }

    @Test func readLocalSupportedCommandsPadsAShortBitmap() {
        let value = HCI.ReadLocalSupportedCommands.Return(commands: SupportedCommands(bitmap: [0xFF]))
        #expect(value.bytes() == [0x00, 0xFF] + CodecBytes.zeros(63))
    }

    @Test func readLocalSupportedFeatures() throws {
        // 7.4.3: LMP_Features (8); byte 4 bits 5, 6 = BR/EDR Not Supported, LE Supported (Controller).
        try CodecCheck.returnParameters(HCI.ReadLocalSupportedFeatures.self, .init(features: 0x0000_0060_0000_0000),
                                        inEvent: h("0E 0C 01 03 10  00  00 00 00 00 60 00 00 00"))
    }

    @Test func readBufferSize() throws {
        // 7.4.5: ACL_Data_Packet_Length (2), Synchronous_Data_Packet_Length (1),
        // Total_Num_ACL_Data_Packets (2), Total_Num_Synchronous_Data_Packets (2).
        try CodecCheck.returnParameters(
            HCI.ReadBufferSize.self,
            .init(aclDataPacketLength: 0x0153, scoDataPacketLength: 0x3C, totalNumACLDataPackets: 0x000A,
                  totalNumSCODataPackets: 0x0002),
            inEvent: h("0E 0B 01 05 10  00  53 01  3C  0A 00  02 00"))
    }

    @Test func readBDADDR() throws {
        // 7.4.6: BD_ADDR (6, least significant byte first).
        let address = CodecBytes.address("00:1a:7d:da:71:13")
        try CodecCheck.returnParameters(HCI.ReadBDADDR.self, .init(address: address),
                                        inEvent: h("0E 0A 01 09 10  00  13 71 DA 7D 1A 00"))
    }

    @Test func readRSSI() throws {
        // 7.5.4: Handle (2), RSSI (1, signed).
        try CodecCheck.returnParameters(HCI.ReadRSSI.self, .init(handle: 0x0040, rssi: -60),
                                        inEvent: h("0E 07 01 05 14  00  40 00  C4"))
        try CodecCheck.returnParameters(HCI.ReadRSSI.self, .init(handle: 0x0EFF, rssi: 20),
                                        inEvent: h("0E 07 01 05 14  00  FF 0E  14"))
    }

    @Test func leReadBufferSize() throws {
        // 7.8.2 [v1]: LE_ACL_Data_Packet_Length (2), Total_Num_LE_ACL_Data_Packets (1).
        try CodecCheck.returnParameters(HCI.LEReadBufferSize.self,
                                        .init(aclDataPacketLength: 251, totalNumACLDataPackets: 15),
                                        inEvent: h("0E 07 01 02 20  00  FB 00  0F"))
    }

    @Test func leReadBufferSizeV2() throws {
        // 7.8.2 [v2]: LE_ACL_Data_Packet_Length (2), Total_Num_LE_ACL_Data_Packets (1),
        // ISO_Data_Packet_Length (2), Total_Num_ISO_Data_Packets (1).
        try CodecCheck.returnParameters(
            HCI.LEReadBufferSizeV2.self,
            .init(aclDataPacketLength: 251, totalNumACLDataPackets: 15, isoDataPacketLength: 300,
                  totalNumISODataPackets: 4),
            inEvent: h("0E 0A 01 60 20  00  FB 00  0F  2C 01  04"))
    }

    @Test func leReadLocalSupportedFeatures() throws {
        // 7.8.3: LE_Features (8).
        try CodecCheck.returnParameters(HCI.LEReadLocalSupportedFeatures.self,
                                        .init(features: [.encryption, .le2MPHY, .extendedAdvertising]),
                                        inEvent: h("0E 0C 01 03 20  00  01 11 00 00 00 00 00 00"))
    }

    @Test func leFeatureBitPositions() {
        // Core Vol 6 Part B 4.6.
        #expect(LEFeatures.encryption.rawValue == 1 << 0)
        #expect(LEFeatures.connectionParametersRequest.rawValue == 1 << 1)
        #expect(LEFeatures.extendedRejectIndication.rawValue == 1 << 2)
        #expect(LEFeatures.peripheralInitiatedFeaturesExchange.rawValue == 1 << 3)
        #expect(LEFeatures.ping.rawValue == 1 << 4)
        #expect(LEFeatures.dataPacketLengthExtension.rawValue == 1 << 5)
        #expect(LEFeatures.llPrivacy.rawValue == 1 << 6)
        #expect(LEFeatures.extendedScannerFilterPolicies.rawValue == 1 << 7)
        #expect(LEFeatures.le2MPHY.rawValue == 1 << 8)
        #expect(LEFeatures.leCodedPHY.rawValue == 1 << 11)
        #expect(LEFeatures.extendedAdvertising.rawValue == 1 << 12)
        #expect(LEFeatures.periodicAdvertising.rawValue == 1 << 13)
        #expect(LEFeatures.channelSelectionAlgorithm2.rawValue == 1 << 14)
    }

    @Test func leRand() throws {
        // 7.8.23: Random_Number (8).
        try CodecCheck.returnParameters(HCI.LERand.self, .init(random: 0x0123_4567_89AB_CDEF),
                                        inEvent: h("0E 0C 01 18 20  00  EF CD AB 89 67 45 23 01"))
    }

    @Test func leReadAdvertisingPhysicalChannelTxPower() throws {
        // 7.8.6: TX_Power_Level (1, signed).
        try CodecCheck.returnParameters(HCI.LEReadAdvertisingPhysicalChannelTxPower.self, .init(txPower: -10),
                                        inEvent: h("0E 05 01 07 20  00  F6"))
    }

    @Test func leReadFilterAcceptListSize() throws {
        // 7.8.14: Filter_Accept_List_Size (1).
        try CodecCheck.returnParameters(HCI.LEReadFilterAcceptListSize.self, .init(size: 16),
                                        inEvent: h("0E 05 01 0F 20  00  10"))
    }

    @Test func leEncrypt() throws {
        // 7.8.22: Encrypted_Data (16, least significant octet first): FIPS-197 C.1's ciphertext
        // reversed.
        let encrypted = Array(h("69 C4 E0 D8 6A 7B 04 30 D8 CD B7 80 70 B4 C5 5A").reversed())
        try CodecCheck.returnParameters(HCI.LEEncrypt.self, .init(encrypted: encrypted),
                                        inEvent: h("0E 14 01 17 20  00  5A C5 B4 70 80 B7 CD D8 30 04 7B 6A D8 E0 C4 69"))
    }

    @Test func handleOnlyReturnParameters() throws {
        // 7.8.25, 7.8.26, 7.8.31, 7.8.32, 7.8.33: Connection_Handle (2).
        let handleOnly: [Any.Type] = [
            HCI.LELongTermKeyRequestReply.Return.self, HCI.LELongTermKeyRequestNegativeReply.Return.self,
            HCI.LERemoteConnectionParameterRequestReply.Return.self,
            HCI.LERemoteConnectionParameterRequestNegativeReply.Return.self, HCI.LESetDataLength.Return.self,
        ]
        for t in handleOnly { #expect(ObjectIdentifier(t) == ObjectIdentifier(HCI.HandleReturn.self), "\(t)") }
        try CodecCheck.returnParameters(HCI.LELongTermKeyRequestReply.self, .init(handle: 0x0040),
                                        inEvent: h("0E 06 01 1A 20  00  40 00"))
        try CodecCheck.returnParameters(HCI.LELongTermKeyRequestNegativeReply.self, .init(handle: 0x0041),
                                        inEvent: h("0E 06 01 1B 20  00  41 00"))
        try CodecCheck.returnParameters(HCI.LERemoteConnectionParameterRequestReply.self, .init(handle: 0x0EFF),
                                        inEvent: h("0E 06 01 20 20  00  FF 0E"))
        try CodecCheck.returnParameters(HCI.LERemoteConnectionParameterRequestNegativeReply.self, .init(handle: 1),
                                        inEvent: h("0E 06 01 21 20  00  01 00"))
        try CodecCheck.returnParameters(HCI.LESetDataLength.self, .init(handle: 0x0040),
                                        inEvent: h("0E 06 01 22 20  00  40 00"))
    }

    @Test func leReadSupportedStates() throws {
        // 7.8.27: LE_States (8).
        try CodecCheck.returnParameters(HCI.LEReadSupportedStates.self, .init(states: 0x0000_03FF_FFFF_FFFF),
                                        inEvent: h("0E 0C 01 1C 20  00  FF FF FF FF FF 03 00 00"))
    }

    @Test func leReadSuggestedDefaultDataLength() throws {
        // 7.8.34: Suggested_Max_TX_Octets (2), Suggested_Max_TX_Time (2).
        try CodecCheck.returnParameters(HCI.LEReadSuggestedDefaultDataLength.self,
                                        .init(maxTxOctets: 27, maxTxTime: 328),
                                        inEvent: h("0E 08 01 23 20  00  1B 00  48 01"))
    }

    @Test func leReadMaximumDataLength() throws {
        // 7.8.46: Supported_Max_TX_Octets (2), Supported_Max_TX_Time (2), Supported_Max_RX_Octets
        // (2), Supported_Max_RX_Time (2).
        try CodecCheck.returnParameters(HCI.LEReadMaximumDataLength.self,
                                        .init(maxTxOctets: 251, maxTxTime: 2120, maxRxOctets: 0x00FA, maxRxTime: 17040),
                                        inEvent: h("0E 0C 01 2F 20  00  FB 00  48 08  FA 00  90 42"))
    }

    @Test func leReadMaximumAdvertisingDataLength() throws {
        // 7.8.57: Max_Advertising_Data_Length (2).
        try CodecCheck.returnParameters(HCI.LEReadMaximumAdvertisingDataLength.self, .init(maxLength: 1650),
                                        inEvent: h("0E 06 01 3A 20  00  72 06"))
    }

    @Test func leReadNumberOfSupportedAdvertisingSets() throws {
        // 7.8.58: Num_Supported_Advertising_Sets (1).
        try CodecCheck.returnParameters(HCI.LEReadNumberOfSupportedAdvertisingSets.self, .init(count: 16),
                                        inEvent: h("0E 05 01 3B 20  00  10"))
    }

    @Test func leSetExtendedAdvertisingParameters() throws {
        // 7.8.53: Selected_TX_Power (1, signed).
        try CodecCheck.returnParameters(HCI.LESetExtendedAdvertisingParameters.self, .init(selectedTxPower: -4),
                                        inEvent: h("0E 05 01 36 20  00  FC"))
        try CodecCheck.returnParameters(HCI.LESetExtendedAdvertisingParameters.self, .init(selectedTxPower: 9),
                                        inEvent: h("0E 05 01 36 20  00  09"))
    }

    @Test func commandsWithoutReturnParametersUseNoReturn() throws {
        let noReturn: [Any.Type] = [
            HCI.Disconnect.Return.self, HCI.SetEventMask.Return.self, HCI.Reset.Return.self,
            HCI.LESetEventMask.Return.self, HCI.LESetRandomAddress.Return.self,
            HCI.LESetAdvertisingParameters.Return.self, HCI.LESetAdvertisingData.Return.self,
            HCI.LESetScanResponseData.Return.self, HCI.LESetAdvertisingEnable.Return.self,
            HCI.LESetScanParameters.Return.self, HCI.LESetScanEnable.Return.self,
            HCI.LECreateConnection.Return.self, HCI.LECreateConnectionCancel.Return.self,
            HCI.LEConnectionUpdate.Return.self, HCI.LESetAdvertisingSetRandomAddress.Return.self,
            HCI.LESetExtendedAdvertisingData.Return.self, HCI.LESetExtendedScanResponseData.Return.self,
            HCI.LESetExtendedAdvertisingEnable.Return.self, HCI.LERemoveAdvertisingSet.Return.self,
            HCI.LESetExtendedScanParameters.Return.self, HCI.LESetExtendedScanEnable.Return.self,
            HCI.LEExtendedCreateConnection.Return.self, HCI.ReadRemoteVersionInformation.Return.self,
            HCI.LEClearFilterAcceptList.Return.self, HCI.LEAddDeviceToFilterAcceptList.Return.self,
            HCI.LERemoveDeviceFromFilterAcceptList.Return.self, HCI.LEReadRemoteFeatures.Return.self,
            HCI.LEEnableEncryption.Return.self, HCI.LEWriteSuggestedDefaultDataLength.Return.self,
            HCI.LEClearAdvertisingSets.Return.self,
        ]
        for t in noReturn { #expect(ObjectIdentifier(t) == ObjectIdentifier(HCI.NoReturn.self), "\(t)") }
        // Reset complete: Status only.
        try CodecCheck.returnParameters(HCI.Reset.self, HCI.NoReturn(), inEvent: h("0E 04 01 03 0C  00"))
        try CodecCheck.returnParameters(HCI.LESetScanEnable.self, HCI.NoReturn(), inEvent: h("0E 04 02 0C 20  00"))
    }

    @Test func failedCommandCompleteCarriesOnlyTheStatus() throws {
        let event = try HCIEvent(parsing: h("0E 04 01 09 10  0C"))
        guard case .commandComplete(let cc) = event else {
            Issue.record("expected Command Complete, got \(event)")
            return
        }
        #expect(cc.opcode == HCI.ReadBDADDR.opcode)
        #expect(cc.status == .commandDisallowed)
        #expect(cc.returnParameters == [0x0C])
    }

    @Test(arguments: [
        ("LE Read Buffer Size [v2]", SupportedCommands.leReadBufferSizeV2, 41, 5),
        ("LE Set Extended Scan Parameters", SupportedCommands.leSetExtendedScanParameters, 37, 5),
        ("LE Extended Create Connection", SupportedCommands.leExtendedCreateConnection, 37, 7),
        ("Read RSSI", SupportedCommands.readRSSI, 15, 5),
    ])
    func supportedCommandsPositions(name: String, position: (octet: Int, bit: Int), octet: Int, bit: Int) {
        // Vol 4 Part E 6.27, Table 6.27 (Supported_Commands).
        #expect(position.octet == octet && position.bit == bit, "\(name)")
        var bitmap = CodecBytes.zeros(64)
        bitmap[octet] = 1 << bit
        let commands = SupportedCommands(bitmap: bitmap)
        #expect(commands.contains(octet: position.octet, bit: position.bit), "\(name)")
    }

    @Test func supportedCommandsPositionOfLESetExtendedAdvertisingParameters() {
        // Vol 4 Part E 6.27: octet 36 is bit 0 LE Transmitter Test [v2], bit 1 LE Set Advertising
        // Set Random Address, bit 2 LE Set Extended Advertising Parameters, bit 3 ... Data, bit 4
        // ... Scan Response Data, bit 5 ... Enable, bit 6 LE Read Maximum Advertising Data Length,
        // bit 7 LE Read Number of Supported Advertising Sets.
        let position = SupportedCommands.leSetExtendedAdvertisingParameters
        #expect(position.octet == 36)
        #expect(position.bit == 2)
        var commands = SupportedCommands(bitmap: [])
        commands.insert(octet: 36, bit: 2)
        #expect(commands.bitmap.count == 64 && commands.bitmap[36] == 0x04)
    }
}
