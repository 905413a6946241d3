import BluetoothCore
import BluetoothSimulator
import BluetoothTransport
import Testing

@Suite("Simulator: controller setup and information")
struct SimulatorInitTests {
    @Test func readLocalVersionExactBytes() async throws {
        let host = try SimulatorHost(radio: VirtualRadio())
        host.send(HCI.ReadLocalVersionInformation().packet)
        let p = try await host.next("version") { $0.type == .event }
        // Command Complete, 12 parameter bytes, 1 credit, opcode 0x1001, status 0, HCI 5.4,
        // subversion 1, LMP 5.4, manufacturer 0xFFFF, LMP subversion 1.
        #expect(p.bytes == [0x0E, 0x0C, 0x01, 0x01, 0x10, 0x00, 0x0D, 0x01, 0x00, 0x0D, 0xFF, 0xFF, 0x01, 0x00])
    }

    @Test func resetAnswersCommandComplete() async throws {
        let host = try SimulatorHost(radio: VirtualRadio())
        host.send(HCI.Reset().packet)
        let p = try await host.next("reset") { $0.type == .event }
        #expect(p.bytes == [0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00])
    }

    @Test func bdAddrIsUniqueAcrossControllers() async throws {
        let radio = VirtualRadio()
        var seen = Set<BluetoothAddress>()
        for _ in 0..<5 {
            let host = try SimulatorHost(radio: radio)
            let r = try await host.command(HCI.ReadBDADDR())
            #expect(r.count == 7 && r[0] == 0)
            let address = BluetoothAddress(littleEndian: Array(r[1...]))
            #expect(address == host.controller.publicAddress)
            seen.insert(address)
        }
        // Another radio's controllers do not reuse them either.
        let other = try SimulatorHost(radio: VirtualRadio())
        seen.insert(other.address)
        #expect(seen.count == 6)
    }

    @Test func bufferSizesV2() async throws {
        let host = try SimulatorHost(radio: VirtualRadio())
        #expect(try await host.command(HCI.LEReadBufferSizeV2()) == [0x00, 0xFB, 0x00, 0x10, 0x00, 0x00, 0x00])
        #expect(try await host.command(HCI.LEReadBufferSize()) == [0x00, 0xFB, 0x00, 0x10])
        #expect(try await host.command(HCI.ReadBufferSize()) == [0x00, 0xFB, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00])
        let bits = try await host.command(HCI.ReadLocalSupportedCommands())
        let commands = SupportedCommands(bitmap: Array(bits.dropFirst()))
        #expect(commands.contains(octet: 41, bit: 5))
    }

    @Test func bufferSizesV1Only() async throws {
        let host = try SimulatorHost(radio: VirtualRadio(), configuration: .init(aclDataPacketLength: 27,
                                                                                 totalNumACLDataPackets: 4,
                                                                                 leBufferSize: .v1only))
        #expect(try await host.command(HCI.LEReadBufferSizeV2()) == [0x01])
        #expect(try await host.command(HCI.LEReadBufferSize()) == [0x00, 0x1B, 0x00, 0x04])
        let bits = try await host.command(HCI.ReadLocalSupportedCommands())
        let commands = SupportedCommands(bitmap: Array(bits.dropFirst()))
        #expect(!commands.contains(octet: 41, bit: 5))
        #expect(commands.contains(octet: 25, bit: 1))
    }

    @Test func bufferSizesSharedOnly() async throws {
        let host = try SimulatorHost(radio: VirtualRadio(), configuration: .init(leBufferSize: .sharedOnly))
        #expect(try await host.command(HCI.LEReadBufferSize()) == [0x00, 0x00, 0x00, 0x00])
        #expect(try await host.command(HCI.LEReadBufferSizeV2()) == [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
        #expect(try await host.command(HCI.ReadBufferSize()) == [0x00, 0xFB, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00])
    }

    @Test func unknownOpcodeAnswersUnknownCommand() async throws {
        let host = try SimulatorHost(radio: VirtualRadio())
        // A vendor command and an LE command this controller does not have.
        for opcode: UInt16 in [0xFC01, 0x2063, 0x0000] {
            let e = try await host.raw(commandBytes(opcode, [1, 2, 3]), opcode: opcode)
            guard case .commandComplete(let cc) = e else {
                Issue.record("expected Command Complete, got \(e)")
                continue
            }
            #expect(cc.returnParameters == [0x01])
            #expect(cc.numHCICommandPackets == 1)
        }
    }

    @Test func malformedParametersAnswerInvalidParameters() async throws {
        let host = try SimulatorHost(radio: VirtualRadio())
        // Too short for its opcode: Command Complete 0x12.
        var e = try await host.raw(commandBytes(0x0C01, [0x01, 0x02]), opcode: 0x0C01)
        #expect(e == .commandComplete(.init(opcode: HCI.SetEventMask.opcode, returnParameters: [0x12])))
        // A Command Status command with short parameters: Command Status 0x12.
        e = try await host.raw(commandBytes(0x0406, [0x01]), opcode: 0x0406)
        #expect(e == .commandStatus(.init(status: .invalidParameters, opcode: HCI.Disconnect.opcode)))
        // Length byte larger than the bytes that follow.
        e = try await host.raw([0x03, 0x0C, 0x05, 0x00], opcode: 0x0C03)
        #expect(e == .commandComplete(.init(opcode: HCI.Reset.opcode, returnParameters: [0x12])))
        // Out-of-range values.
        var s = try await host.status(HCI.LESetAdvertisingParameters(intervalMin: 0x10, intervalMax: 0x20, type: .advInd,
                                                                     ownAddressType: 0))
        #expect(s == .invalidParameters)
        s = try await host.status(HCI.LESetAdvertisingParameters(intervalMin: 0x40, intervalMax: 0x30, type: .advInd,
                                                                 ownAddressType: 0))
        #expect(s == .invalidParameters)
        s = try await host.status(HCI.LESetScanParameters(active: false, interval: 0x10, window: 0x20, ownAddressType: 0))
        #expect(s == .invalidParameters)
        e = try await host.raw(commandBytes(0x200A, [0x02]), opcode: 0x200A)
        #expect(e == .commandComplete(.init(opcode: HCI.LESetAdvertisingEnable.opcode, returnParameters: [0x12])))
        // Advertising data length over 31.
        e = try await host.raw(commandBytes(0x2008, [32] + [UInt8](repeating: 0, count: 31)), opcode: 0x2008)
        #expect(e == .commandComplete(.init(opcode: HCI.LESetAdvertisingData.opcode, returnParameters: [0x12])))
        // Still alive afterwards.
        #expect(try await host.status(HCI.Reset()) == .success)
    }

    @Test func garbageNeverSilencesOrCrashes() async throws {
        let host = try SimulatorHost(radio: VirtualRadio(), configuration: .init(log: nil))
        // Seeded: a failure names the opcode and the parameters that caused it.
        var g = CodecSeededGenerator(seed: 0x5EED_0C0D)
        // Every known opcode with random parameter bytes of random lengths: each gets an answer.
        let opcodes: [UInt16] = [0x0406, 0x041D, 0x0C01, 0x1405, 0x2001, 0x2005, 0x2006, 0x2008, 0x2009, 0x200A,
                                 0x200B, 0x200C, 0x200D, 0x2011, 0x2013, 0x2016, 0x2017, 0x2019, 0x201A, 0x2020,
                                 0x2022, 0x2035, 0x2036, 0x2037, 0x2038, 0x2039, 0x203C, 0x2041, 0x2042, 0x2043]
        for opcode in opcodes {
            for _ in 0..<8 {
                let n = Int.random(in: 0...40, using: &g)
                let params = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
                _ = try await host.raw(commandBytes(opcode, params), opcode: opcode)
            }
            try await host.ok(HCI.Reset())
        }
        // Random ACL and ISO packets: dropped and counted, never trapped on.
        for _ in 0..<200 {
            let n = Int.random(in: 0...300, using: &g)
            host.send(HCIPacket(.acl, (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }))
        }
        host.send(HCIPacket(.iso, [1, 2, 3, 4]))
        // Short packets of every kind.
        host.send(HCIPacket(.command, [0x01]))
        _ = try await host.raw([], opcode: 0x0000)
        host.send(HCIPacket(.acl, [0x01, 0x00]))
        host.send(HCIPacket(.event, [0x0E, 0x00]))
        #expect(try await host.status(HCI.Reset()) == .success)
        #expect(host.controller.protocolViolations >= 204)
    }

    @Test func supportedCommandsAndFeaturesFollowConfiguration() async throws {
        let radio = VirtualRadio()
        let ext = try SimulatorHost(radio: radio)
        let legacy = try SimulatorHost(radio: radio, configuration: .init(extendedAdvertising: false))
        for (host, extended) in [(ext, true), (legacy, false)] {
            let bits = try await host.command(HCI.ReadLocalSupportedCommands())
            #expect(bits.count == 65)
            let c = SupportedCommands(bitmap: Array(bits.dropFirst()))
            #expect(c.contains(octet: 0, bit: 5))   // Disconnect
            #expect(c.contains(octet: 5, bit: 7))   // Reset
            #expect(c.contains(octet: 15, bit: 5))  // Read RSSI
            #expect(c.contains(octet: 27, bit: 7))  // LE Rand
            #expect(!c.contains(octet: 0, bit: 0))  // Inquiry: not an LE controller command
            #expect(c.contains(octet: 36, bit: 2) == extended)
            #expect(c.contains(octet: 37, bit: 5) == extended)
            #expect(c.contains(octet: 37, bit: 7) == extended)
            let f = try await host.command(HCI.LEReadLocalSupportedFeatures())
            var r = ByteReader(Array(f.dropFirst()))
            let features = LEFeatures(rawValue: try r.u64())
            #expect(features.contains(.encryption))
            #expect(features.contains(.dataPacketLengthExtension))
            #expect(features.contains(.extendedAdvertising) == extended)
        }
        // A legacy-only controller does not know the extended commands.
        #expect(try await legacy.status(HCI.LESetExtendedScanEnable(enable: false)) == .unknownCommand)
        let lmp = try await ext.command(HCI.ReadLocalSupportedFeatures())
        #expect(lmp == [0x00, 0, 0, 0, 0, 0x60, 0, 0, 0])
    }

    @Test func leRandDiffersBetweenCalls() async throws {
        let host = try SimulatorHost(radio: VirtualRadio())
        let a = try await host.command(HCI.LERand())
        let b = try await host.command(HCI.LERand())
        #expect(a.count == 9 && b.count == 9)
        #expect(a[0] == 0 && b[0] == 0)
        #expect(a != b)
    }

    @Test func leEncryptMatchesFIPS197() async throws {
        let host = try SimulatorHost(radio: VirtualRadio())
        // FIPS-197 C.1, with HCI's least-significant-octet-first order.
        let key: [UInt8] = Array((0x00...0x0F).map { UInt8($0) }.reversed())
        let plain: [UInt8] = Array([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD,
                                    0xEE, 0xFF].reversed())
        let r = try await host.command(HCI.LEEncrypt(key: key, plaintext: plain))
        let expected: [UInt8] = [0x69, 0xC4, 0xE0, 0xD8, 0x6A, 0x7B, 0x04, 0x30, 0xD8, 0xCD, 0xB7, 0x80, 0x70, 0xB4,
                                 0xC5, 0x5A]
        #expect(r == [0x00] + expected.reversed())
    }

    @Test func namedRadiosAreSharedAndCounted() async throws {
        let name = "simulator-test-\(UInt32.random(in: 0...UInt32.max))"
        let a = VirtualRadio.named(name)
        let b = VirtualRadio.named(name)
        #expect(a === b)
        #expect(VirtualRadio() !== VirtualRadio())
        let c = VirtualController(radio: a)
        #expect(c.name == "virtual:\(name)")
        #expect(a.controllerCount == 0)
        let host = try SimulatorHost(radio: a)
        #expect(a.controllerCount == 1)
        #expect(throws: TransportError.self) { try host.controller.open(delegate: host) }
        host.controller.close()
        host.controller.close()
        #expect(a.controllerCount == 0)
        #expect(VirtualRadio.named("default").name == "default")
        _ = c
    }
}
