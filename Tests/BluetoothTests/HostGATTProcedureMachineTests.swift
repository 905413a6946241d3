import Testing
@testable import Bluetooth
@testable import BluetoothHost
import BluetoothCore

/// The GATT client procedures as values, alone: server PDUs in (exact bytes), actions out (the
/// exact bytes of each request, the events, the end). No host, no controller, no time.
@Suite("Host: GATT client procedure machines")
struct HostGATTProcedureMachineTests {
    static func pdu(_ hex: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ATTPDU {
        try ATTPDU(parsing: CodecBytes.hex(hex, sourceLocation: sourceLocation))
    }

    /// Requests as hex, events as values, the rest by name.
    static func show(_ actions: [GATTClientAction]) -> [String] {
        actions.map { a in
            switch a {
            case .request(let p): return "request " + CodecBytes.hexString(p.encode())
            case .send(let p): return "send " + CodecBytes.hexString(p.encode())
            case .mtu(let m): return "mtu \(m)"
            case .emit(let e): return "\(e)"
            case .log: return "log"
            case .done: return "done"
            }
        }
    }

    @Test func discoverAllServicesAcrossTwoResponses() throws {
        var p = GATTClientProcedure(conn: 0x40, .discoverServices(uuid: nil, next: 1), ourMTU: 256)
        #expect(Self.show(p.start(mtu: 23)) == ["request 10 01 00 FF FF 00 28"])
        let first = p.receive(try Self.pdu("11 06 01 00 05 00 00 18 06 00 09 00 01 18"), mtu: 23)
        #expect(Self.show(first) == [
            "\(BLEEvent.gattcServiceResult(connHandle: 0x40, startHandle: 1, endHandle: 5, uuid: 0x1800))",
            "\(BLEEvent.gattcServiceResult(connHandle: 0x40, startHandle: 6, endHandle: 9, uuid: 0x1801))",
            "request 10 0A 00 FF FF 00 28",
        ])
        // Attribute Not Found ends it normally.
        #expect(Self.show(p.receive(try Self.pdu("01 10 0A 00 0A"), mtu: 23)) == [
            "\(BLEEvent.gattcServiceDone(connHandle: 0x40, status: 0))", "done",
        ])
    }

    @Test func aDiscoveryThatGoesBackEndsWithProtocolError() throws {
        var p = GATTClientProcedure(conn: 1, .discoverServices(uuid: nil, next: 1), ourMTU: 23)
        _ = p.start(mtu: 23)
        _ = p.receive(try Self.pdu("11 06 01 00 05 00 00 18"), mtu: 23)
        let again = p.receive(try Self.pdu("11 06 01 00 05 00 00 18"), mtu: 23)
        #expect(Self.show(again) == ["log", "\(BLEEvent.gattcServiceDone(connHandle: 1, status: BLEStatus.protocolError))", "done"])
    }

    @Test func characteristicsAreHeldUntilTheirEndIsKnown() throws {
        var p = GATTClientProcedure(conn: 2, .discoverCharacteristics(start: 1, end: 9, uuid: nil, next: 1, held: nil), ourMTU: 23)
        #expect(Self.show(p.start(mtu: 23)) == ["request 08 01 00 09 00 03 28"])
        // Two declarations: the first is raised (it ends at 3), the second waits.
        let r = p.receive(try Self.pdu("09 07 02 00 02 03 00 00 2A 04 00 10 05 00 01 2A"), mtu: 23)
        #expect(Self.show(r) == [
            "\(BLEEvent.gattcCharacteristicResult(connHandle: 2, endHandle: 3, valueHandle: 3, properties: 0x02, uuid: 0x2A00))",
            "request 08 05 00 09 00 03 28",
        ])
        #expect(Self.show(p.receive(try Self.pdu("01 08 05 00 0A"), mtu: 23)) == [
            "\(BLEEvent.gattcCharacteristicResult(connHandle: 2, endHandle: 9, valueHandle: 5, properties: 0x10, uuid: 0x2A01))",
            "\(BLEEvent.gattcCharacteristicDone(connHandle: 2, status: 0))", "done",
        ])
    }

    @Test func descriptorsOfAnEmptyRangeEndAtOnce() {
        var p = GATTClientProcedure(conn: 3, .discoverDescriptors(end: 5, next: 6), ourMTU: 23)
        #expect(Self.show(p.start(mtu: 23)) == ["\(BLEEvent.gattcDescriptorDone(connHandle: 3, status: 0))", "done"])
    }

    /// A long read: Read, then Read Blob while responses fill the MTU, then one result.
    @Test func aLongReadUsesReadBlobUntilAShortPart() throws {
        var p = GATTClientProcedure(conn: 4, .read(handle: 0x0010, value: []), ourMTU: 23)
        #expect(Self.show(p.start(mtu: 23)) == ["request 0A 10 00"])
        let full = [UInt8](repeating: 0xAB, count: 22)
        #expect(Self.show(p.receive(.readResponse(value: full), mtu: 23)) == ["request 0C 10 00 16 00"])
        let last = p.receive(.readBlobResponse(value: [1, 2]), mtu: 23)
        #expect(Self.show(last) == [
            "\(BLEEvent.gattcReadResult(connHandle: 4, valueHandle: 0x10, charData: full + [1, 2]))",
            "\(BLEEvent.gattcReadDone(connHandle: 4, valueHandle: 0x10, status: 0))", "done",
        ])
    }

    /// A long write whose parts follow the MTU of the moment: 18 bytes at 23, 95 at 100.
    @Test func aLongWriteFollowsTheMTUOfTheMoment() throws {
        let data = [UInt8](0..<120)
        var p = GATTClientProcedure(conn: 5, .longWrite(handle: 0x20, data: data, offset: 0, sent: 0, executing: false), ourMTU: 100)
        let first = p.start(mtu: 23)
        #expect(Self.show(first) == ["request 16 20 00 00 00 " + CodecBytes.hexString(data[0..<18])])
        // The server's MTU exchange happened meanwhile: the echo is checked against what was sent.
        let second = p.receive(.prepareWriteResponse(handle: 0x20, offset: 0, value: Array(data[0..<18])), mtu: 100)
        #expect(Self.show(second) == ["request 16 20 00 12 00 " + CodecBytes.hexString(data[18..<113])])
        let third = p.receive(.prepareWriteResponse(handle: 0x20, offset: 18, value: Array(data[18..<113])), mtu: 100)
        #expect(Self.show(third) == ["request 16 20 00 71 00 " + CodecBytes.hexString(data[113..<120])])
        let execute = p.receive(.prepareWriteResponse(handle: 0x20, offset: 113, value: Array(data[113..<120])), mtu: 100)
        #expect(Self.show(execute) == ["request 18 01"])
        #expect(Self.show(p.receive(.executeWriteResponse, mtu: 100)) == [
            "\(BLEEvent.gattcWriteDone(connHandle: 5, valueHandle: 0x20, status: 0))", "done",
        ])
    }

    @Test func aChangedEchoCancelsTheWrite() throws {
        var p = GATTClientProcedure(conn: 6, .longWrite(handle: 0x20, data: [UInt8](repeating: 7, count: 40), offset: 0,
                                                          sent: 0, executing: false), ourMTU: 23)
        _ = p.start(mtu: 23)
        let r = p.receive(.prepareWriteResponse(handle: 0x20, offset: 0, value: [UInt8](repeating: 8, count: 18)), mtu: 23)
        #expect(Self.show(r) == ["log", "send 18 00",
                                 "\(BLEEvent.gattcWriteDone(connHandle: 6, valueHandle: 0x20, status: BLEStatus.protocolError))", "done"])
    }

    @Test func theMTUExchangeSettlesOnTheSmaller() throws {
        var p = GATTClientProcedure(conn: 7, .exchangeMTU, ourMTU: 185)
        #expect(Self.show(p.start(mtu: 23)) == ["request 02 B9 00"])
        #expect(Self.show(p.receive(try Self.pdu("03 F7 00"), mtu: 23)) == [
            "mtu 185", "\(BLEEvent.mtuExchanged(connHandle: 7, mtu: 185))", "done",
        ])
    }

    /// A timeout or the link's end: the done event with the status, and no result.
    @Test func theEndOfAProcedureCarriesItsStatus() {
        let p = GATTClientProcedure(conn: 8, .read(handle: 3, value: [1]), ourMTU: 23)
        #expect(Self.show(p.end(status: BLEStatus.timedOut)) == [
            "\(BLEEvent.gattcReadDone(connHandle: 8, valueHandle: 3, status: BLEStatus.timedOut))", "done",
        ])
        let w = GATTClientProcedure(conn: 8, .write(handle: 3, data: [1]), ourMTU: 23)
        #expect(Self.show(w.end(status: BLEStatus.notConnected)) == [
            "\(BLEEvent.gattcWriteDone(connHandle: 8, valueHandle: 3, status: BLEStatus.notConnected))", "done",
        ])
    }

    /// A response that answers another request: protocolError.
    @Test func aResponseToAnotherRequestEndsTheProcedure() throws {
        var p = GATTClientProcedure(conn: 9, .write(handle: 3, data: [1]), ourMTU: 23)
        _ = p.start(mtu: 23)
        #expect(Self.show(p.receive(.readResponse(value: [1]), mtu: 23)) == [
            "log", "\(BLEEvent.gattcWriteDone(connHandle: 9, valueHandle: 3, status: BLEStatus.protocolError))", "done",
        ])
    }
}

/// The server's indications as a value: one in flight, the rest in order; confirmation, timeout
/// and the link's end.
@Suite("Host: GATT indication machine")
struct HostGATTIndicationMachineTests {
    @Test func oneInFlightTheRestInOrder() {
        var m = GATTIndications(conn: 7)
        #expect(m.offer(handle: 0x10, value: [1]) == [.indicate(handle: 0x10, value: [1])])
        #expect(m.offer(handle: 0x11, value: [2]).isEmpty)
        #expect(m.offer(handle: 0x12, value: [3]).isEmpty)
        #expect(m.waitingCount == 2 && m.inFlight == 0x10)
        #expect(m.confirmed() == [.stopTimer, .emit(.gattsIndicateDone(connHandle: 7, valueHandle: 0x10, status: 0)),
                                  .indicate(handle: 0x11, value: [2])])
        #expect(m.confirmed() == [.stopTimer, .emit(.gattsIndicateDone(connHandle: 7, valueHandle: 0x11, status: 0)),
                                  .indicate(handle: 0x12, value: [3])])
        #expect(m.confirmed() == [.stopTimer, .emit(.gattsIndicateDone(connHandle: 7, valueHandle: 0x12, status: 0))])
        // A confirmation nobody asked for changes nothing.
        #expect(m.confirmed().isEmpty)
    }

    @Test func aTimeoutEndsTheBearerAndTheLinkEndsTheRest() {
        var m = GATTIndications(conn: 8)
        _ = m.offer(handle: 0x20, value: [1])
        _ = m.offer(handle: 0x21, value: [2])
        #expect(m.timedOut() == [.emit(.gattsIndicateDone(connHandle: 8, valueHandle: 0x20, status: BLEStatus.timedOut)),
                                 .closeBearer])
        #expect(m.timedOut().isEmpty)
        #expect(m.linkLost() == [.stopTimer,
                                 .emit(.gattsIndicateDone(connHandle: 8, valueHandle: 0x21, status: BLEStatus.notConnected))])
        var n = GATTIndications(conn: 9)
        _ = n.offer(handle: 0x30, value: [])
        #expect(n.linkLost() == [.stopTimer,
                                 .emit(.gattsIndicateDone(connHandle: 9, valueHandle: 0x30, status: BLEStatus.notConnected))])
    }
}
