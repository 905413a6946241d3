import BluetoothCore

// Command intake: framing, the unknown/malformed paths, the legacy/extended mode rule, and the
// informational and controller-setup commands.

extension VirtualController {
    func receiveFromHost(_ packet: HCIPacket) {
        guard powered else { return }
        switch packet.type {
        case .command: handleCommand(packet.bytes)
        case .acl: handleACL(packet.bytes)
        case .sco, .iso, .event:
            violation("\(packet.type) packet from the host (\(packet.bytes.count) bytes) dropped")
        }
    }

    func handleCommand(_ bytes: [UInt8]) {
        guard bytes.count >= 3 else {
            // Not even a header: answer for whatever opcode we can read so the host is not left
            // waiting for a reply that never comes.
            let opcode: UInt16 = bytes.count == 2 ? UInt16(bytes[0]) | UInt16(bytes[1]) << 8 : 0
            violation("command packet of \(bytes.count) byte(s)")
            reject(HCIOpcode(rawValue: opcode), .invalidParameters)
            return
        }
        let opcode = HCIOpcode(rawValue: UInt16(bytes[0]) | UInt16(bytes[1]) << 8)
        let declared = Int(bytes[2])
        guard bytes.count - 3 >= declared else {
            violation("\(opcode): parameter length \(declared) but \(bytes.count - 3) byte(s) follow")
            reject(opcode, .invalidParameters)
            return
        }
        guard let entry = CommandTable.entry(opcode.rawValue, configuration) else {
            complete(opcode, status: .unknownCommand)
            return
        }
        if entry.mode != .unset {
            if mode == .unset {
                mode = entry.mode
            } else if mode != entry.mode {
                reject(opcode, .commandDisallowed)
                return
            }
        }
        let command = HCI.CommandPacket(opcode: opcode, parameters: Array(bytes[3..<(3 + declared)]))
        dispatch(command)
    }

    private func dispatch(_ c: HCI.CommandPacket) {
        switch c.opcode.rawValue {
        // Link control, controller and baseband, informational, status
        case 0x0406: disconnect(c)
        case 0x041D: readRemoteVersion(c)
        case 0x0C01: setEventMask(c)
        case 0x0C03: reset(c)
        case 0x1001: readLocalVersion(c)
        case 0x1002: readLocalSupportedCommands(c)
        case 0x1003: readLocalSupportedFeatures(c)
        case 0x1005: readBufferSize(c)
        case 0x1009: readBDADDR(c)
        case 0x1405: readRSSI(c)
        // LE controller
        case 0x2001: leSetEventMask(c)
        case 0x2002: leReadBufferSize(c)
        case 0x2003: leReadLocalSupportedFeatures(c)
        case 0x2005: leSetRandomAddress(c)
        case 0x2006: leSetAdvertisingParameters(c)
        case 0x2007: leReadAdvertisingTxPower(c)
        case 0x2008: leSetAdvertisingData(c)
        case 0x2009: leSetScanResponseData(c)
        case 0x200A: leSetAdvertisingEnable(c)
        case 0x200B: leSetScanParameters(c)
        case 0x200C: leSetScanEnable(c)
        case 0x200D: leCreateConnection(c)
        case 0x200E: leCreateConnectionCancel(c)
        case 0x200F: leReadFilterAcceptListSize(c)
        case 0x2010: leClearFilterAcceptList(c)
        case 0x2011: leAddToFilterAcceptList(c)
        case 0x2012: leRemoveFromFilterAcceptList(c)
        case 0x2013: leConnectionUpdate(c)
        case 0x2016: leReadRemoteFeatures(c)
        case 0x2017: leEncrypt(c)
        case 0x2018: leRand(c)
        case 0x2019: leEnableEncryption(c)
        case 0x201A: leLongTermKeyRequestReply(c)
        case 0x201B: leLongTermKeyRequestNegativeReply(c)
        case 0x201C: leReadSupportedStates(c)
        case 0x2020: leRemoteConnectionParameterRequestReply(c)
        case 0x2021: leRemoteConnectionParameterRequestNegativeReply(c)
        case 0x2022: leSetDataLength(c)
        case 0x2023: leReadSuggestedDefaultDataLength(c)
        case 0x2024: leWriteSuggestedDefaultDataLength(c)
        case 0x202F: leReadMaximumDataLength(c)
        case 0x2035: leSetAdvertisingSetRandomAddress(c)
        case 0x2036: leSetExtendedAdvertisingParameters(c)
        case 0x2037: leSetExtendedAdvertisingData(c, scanResponse: false)
        case 0x2038: leSetExtendedAdvertisingData(c, scanResponse: true)
        case 0x2039: leSetExtendedAdvertisingEnable(c)
        case 0x203A: leReadMaximumAdvertisingDataLength(c)
        case 0x203B: leReadNumberOfSupportedAdvertisingSets(c)
        case 0x203C: leRemoveAdvertisingSet(c)
        case 0x203D: leClearAdvertisingSets(c)
        case 0x2041: leSetExtendedScanParameters(c)
        case 0x2042: leSetExtendedScanEnable(c)
        case 0x2043: leExtendedCreateConnection(c)
        case 0x2060: leReadBufferSizeV2(c)
        default:
            // Listed in the table but not dispatched: a bug here, still answered.
            complete(c.opcode, status: .unknownCommand)
        }
    }

    // MARK: Replies

    /// Command Complete with only a status.
    func complete(_ opcode: HCIOpcode, status: HCIStatus) {
        complete(opcode, [status.rawValue])
    }

    func complete(_ opcode: HCIOpcode, _ returnParameters: [UInt8]) {
        emit(HCI.CommandComplete(numHCICommandPackets: 1, opcode: opcode, returnParameters: returnParameters))
    }

    /// Command Complete with success and return parameters.
    func complete<R: HCIReturnParameters>(_ opcode: HCIOpcode, _ r: R) {
        complete(opcode, r.bytes(status: .success))
    }

    /// Command Complete for commands that return a connection handle after the status (also on
    /// errors, as the spec asks).
    func complete(_ opcode: HCIOpcode, status: HCIStatus, handle: UInt16) {
        var w = ByteWriter(capacity: 3)
        w.u8(status.rawValue)
        w.u16(handle)
        complete(opcode, w.bytes)
    }

    func commandStatus(_ opcode: HCIOpcode, _ status: HCIStatus) {
        emit(HCI.CommandStatus(status: status, numHCICommandPackets: 1, opcode: opcode))
    }

    /// A failure in whichever event the command completes with.
    func reject(_ opcode: HCIOpcode, _ status: HCIStatus) {
        if CommandTable.entries[opcode.rawValue]?.usesStatus == true {
            commandStatus(opcode, status)
        } else {
            complete(opcode, status: status)
        }
    }

    /// Parses a command's parameters; on malformed input answers Invalid HCI Command Parameters and
    /// returns nil.
    func decode<C: HCICommand>(_ type: C.Type, _ c: HCI.CommandPacket) -> C? {
        do {
            return try c.decode(type)
        } catch {
            reject(c.opcode, .invalidParameters)
            return nil
        }
    }

    /// A boolean parameter byte must be 0 or 1.
    func isBoolean(_ c: HCI.CommandPacket, at index: Int) -> Bool {
        index < c.parameters.count && c.parameters[index] <= 1
    }

    // MARK: Controller setup and information

    private func setEventMask(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.SetEventMask.self, c) else { return }
        eventMask = cmd.mask
        complete(c.opcode, status: .success)
    }

    private func reset(_ c: HCI.CommandPacket) {
        resetState(peerReason: .connectionTimeout)
        complete(c.opcode, status: .success)
    }

    private func readLocalVersion(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.ReadLocalVersionInformation.Return(
            hciVersion: configuration.hciVersion, hciSubversion: configuration.hciSubversion,
            lmpVersion: configuration.lmpVersion, manufacturer: configuration.manufacturer,
            lmpSubversion: configuration.lmpSubversion))
    }

    private func readLocalSupportedCommands(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.ReadLocalSupportedCommands.Return(commands: CommandTable.bitmap(configuration)))
    }

    /// LMP features page 0: LE Supported (Controller) and BR/EDR Not Supported.
    static let lmpFeatures: UInt64 = 1 << 38 | 1 << 37

    private func readLocalSupportedFeatures(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.ReadLocalSupportedFeatures.Return(features: Self.lmpFeatures))
    }

    private func readBufferSize(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.ReadBufferSize.Return(
            aclDataPacketLength: configuration.aclDataPacketLength, scoDataPacketLength: 0,
            totalNumACLDataPackets: UInt16(configuration.totalNumACLDataPackets), totalNumSCODataPackets: 0))
    }

    private func readBDADDR(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.ReadBDADDR.Return(address: publicAddress))
    }

    private func leSetEventMask(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetEventMask.self, c) else { return }
        leEventMask = cmd.mask
        complete(c.opcode, status: .success)
    }

    private var leBuffers: (length: UInt16, count: UInt8) {
        configuration.leBufferSize == .sharedOnly
            ? (0, 0) : (configuration.aclDataPacketLength, configuration.totalNumACLDataPackets)
    }

    private func leReadBufferSize(_ c: HCI.CommandPacket) {
        let b = leBuffers
        complete(c.opcode, HCI.LEReadBufferSize.Return(aclDataPacketLength: b.length, totalNumACLDataPackets: b.count))
    }

    private func leReadBufferSizeV2(_ c: HCI.CommandPacket) {
        let b = leBuffers
        complete(c.opcode, HCI.LEReadBufferSizeV2.Return(aclDataPacketLength: b.length, totalNumACLDataPackets: b.count,
                                                         isoDataPacketLength: 0, totalNumISODataPackets: 0))
    }

    /// The LE features this controller supports.
    var leFeatures: LEFeatures {
        var f: LEFeatures = [.encryption, .connectionParametersRequest, .extendedRejectIndication,
                             .peripheralInitiatedFeaturesExchange, .dataPacketLengthExtension]
        if configuration.extendedAdvertising { f.insert(.extendedAdvertising) }
        return f
    }

    private func leReadLocalSupportedFeatures(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.LEReadLocalSupportedFeatures.Return(features: leFeatures))
    }

    private func leSetRandomAddress(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LESetRandomAddress.self, c) else { return }
        // Not while legacy advertising, scanning or initiating use it (7.8.4).
        guard !legacySet.enabled, scan == nil, initiator == nil else {
            complete(c.opcode, status: .commandDisallowed)
            return
        }
        randomAddress = cmd.address
        complete(c.opcode, status: .success)
    }

    private func leRand(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.LERand.Return(random: core.rng.next()))
    }

    private func leReadSupportedStates(_ c: HCI.CommandPacket) {
        // Every state and role combination of Core Vol 6 Part B 4.6 / Vol 4 Part E 7.8.27.
        complete(c.opcode, HCI.LEReadSupportedStates.Return(states: 0x0000_03FF_FFFF_FFFF))
    }

    private func leEncrypt(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LEEncrypt.self, c) else { return }
        // HCI carries both least significant octet first; the security function e works most
        // significant first. The parser reads 16 octets of each, so e cannot refuse them.
        guard let out = try? CryptoToolbox.e(key: cmd.key.reversed(), plaintext: cmd.plaintext.reversed()) else {
            return complete(c.opcode, status: .unspecifiedError)
        }
        complete(c.opcode, HCI.LEEncrypt.Return(encrypted: out.reversed()))
    }

    // MARK: Filter Accept List

    private var filterAcceptListInUse: Bool {
        (legacySet.enabled && legacySet.filterPolicy != 0)
            || extendedSets.values.contains { $0.enabled && $0.filterPolicy != 0 }
            || (scan.map { $0.filterPolicy & 1 == 1 } ?? false)
            || (initiator.map { $0.filterPolicy == 1 } ?? false)
    }

    private func leReadFilterAcceptListSize(_ c: HCI.CommandPacket) {
        complete(c.opcode, HCI.LEReadFilterAcceptListSize.Return(size: UInt8(Self.filterAcceptListSize)))
    }

    private func leClearFilterAcceptList(_ c: HCI.CommandPacket) {
        guard !filterAcceptListInUse else { return complete(c.opcode, status: .commandDisallowed) }
        filterAcceptList.removeAll()
        complete(c.opcode, status: .success)
    }

    private func leAddToFilterAcceptList(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LEAddDeviceToFilterAcceptList.self, c) else { return }
        guard cmd.addressType <= 1 || cmd.addressType == 0xFF else {
            return complete(c.opcode, status: .invalidParameters)
        }
        guard !filterAcceptListInUse else { return complete(c.opcode, status: .commandDisallowed) }
        let e = FilterEntry(type: cmd.addressType, address: cmd.address)
        if !filterAcceptList.contains(e) {
            guard filterAcceptList.count < Self.filterAcceptListSize else {
                return complete(c.opcode, status: .memoryCapacityExceeded)
            }
            filterAcceptList.insert(e)
        }
        complete(c.opcode, status: .success)
    }

    private func leRemoveFromFilterAcceptList(_ c: HCI.CommandPacket) {
        guard let cmd = decode(HCI.LERemoveDeviceFromFilterAcceptList.self, c) else { return }
        guard cmd.addressType <= 1 || cmd.addressType == 0xFF else {
            return complete(c.opcode, status: .invalidParameters)
        }
        guard !filterAcceptListInUse else { return complete(c.opcode, status: .commandDisallowed) }
        filterAcceptList.remove(FilterEntry(type: cmd.addressType, address: cmd.address))
        complete(c.opcode, status: .success)
    }

    /// True when (type, address) passes the Filter Accept List.
    func acceptListContains(type: UInt8, address: BluetoothAddress) -> Bool {
        filterAcceptList.contains(FilterEntry(type: type & 1, address: address))
    }
}
