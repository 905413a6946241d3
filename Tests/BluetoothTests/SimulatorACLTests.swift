import BluetoothCore
import BluetoothSimulator
import Testing

@Suite("Simulator: ACL data")
struct SimulatorACLTests {
    static func acl(_ handle: UInt16, _ boundary: UInt16, _ payload: [UInt8]) -> HCIPacket {
        let hf = handle | boundary << 12
        return HCIPacket(.acl, [UInt8(hf & 0xFF), UInt8(hf >> 8), UInt8(payload.count & 0xFF), UInt8(payload.count >> 8)]
            + payload)
    }

    /// Waits until Number Of Completed Packets for `handle` add up to `count`.
    static func completed(_ host: SimulatorHost, handle: UInt16, count: Int) async throws {
        var total = 0
        while total < count {
            let e = try await host.event("Number Of Completed Packets") { e in
                if case .numberOfCompletedPackets = e { return true }
                return false
            }
            guard case .numberOfCompletedPackets(let n) = e else { continue }
            for entry in n.entries where entry.handle == handle { total += Int(entry.count) }
        }
        #expect(total == count)
    }

    @Test func fragmentsArriveInOrderWithTheirBoundaries() async throws {
        let (central, peripheral, ch, ph) = try await connectedPair()
        let a = [UInt8](repeating: 0xA1, count: 10), b = [UInt8](repeating: 0xB2, count: 251), c: [UInt8] = [1, 2, 3]
        central.send(Self.acl(ch, 0b00, a))
        central.send(Self.acl(ch, 0b01, b))
        central.send(Self.acl(ch, 0b01, c))
        central.send(Self.acl(ch, 0b10, a))
        #expect(try await peripheral.acl() == Self.acl(ph, 0b10, a).bytes)
        #expect(try await peripheral.acl() == Self.acl(ph, 0b01, b).bytes)
        #expect(try await peripheral.acl() == Self.acl(ph, 0b01, c).bytes)
        #expect(try await peripheral.acl() == Self.acl(ph, 0b10, a).bytes)
        try await Self.completed(central, handle: ch, count: 4)
        // And back.
        peripheral.send(Self.acl(ph, 0b00, c))
        #expect(try await central.acl() == Self.acl(ch, 0b10, c).bytes)
        try await Self.completed(peripheral, handle: ph, count: 1)
        #expect(central.controller.protocolViolations == 0 && peripheral.controller.protocolViolations == 0)
    }

    @Test func manyPacketsWithinTheBufferCount() async throws {
        let (central, peripheral, ch, _) = try await connectedPair()
        // Waiting for completions, 200 packets go through 16 buffers.
        var credits = 16
        var sent = 0
        var received = 0
        while received < 200 {
            while credits > 0 && sent < 200 {
                central.send(Self.acl(ch, 0b00, [UInt8(truncatingIfNeeded: sent), 0, 1, 2]))
                sent += 1
                credits -= 1
            }
            let e = try await central.event("NOCP") { e in
                if case .numberOfCompletedPackets = e { return true }
                return false
            }
            if case .numberOfCompletedPackets(let n) = e { credits += n.entries.reduce(0) { $0 + Int($1.count) } }
            while received < sent, let p = try? await peripheral.acl(timeout: .seconds(2)) {
                #expect(p[4] == UInt8(truncatingIfNeeded: received))
                received += 1
            }
        }
        #expect(central.controller.protocolViolations == 0)
    }

    @Test func bufferOverrunIsAViolation() async throws {
        let (central, peripheral, ch, ph) = try await connectedPair()
        // 17 packets in one burst (enqueued together on the radio queue) into 16 buffers.
        let controller = central.controller
        controller.radio.queue.async {
            for i in 0..<17 { controller.send(Self.acl(ch, 0b00, [UInt8(i)])) }
        }
        for i in 0..<16 { #expect(try await peripheral.acl() == [UInt8(ph & 0xFF), UInt8(0x20 | ph >> 8), 1, 0, UInt8(i)]) }
        try await Self.completed(central, handle: ch, count: 16)
        #expect(controller.protocolViolations == 1)
        #expect(controller.lastProtocolViolation?.contains("buffers") == true)
        // After the completions, buffers are free again.
        central.send(Self.acl(ch, 0b00, [0x77]))
        #expect(try await peripheral.acl().last == 0x77)
    }

    @Test func malformedACLIsDroppedAndCounted() async throws {
        let (central, peripheral, ch, _) = try await connectedPair()
        central.send(Self.acl(ch, 0b00, [UInt8](repeating: 0, count: 252)))      // longer than a buffer
        central.send(Self.acl(0x0ABC, 0b00, [1]))                                  // unknown handle
        central.send(HCIPacket(.acl, [UInt8(ch & 0xFF), UInt8(ch >> 8), 5, 0, 1])) // length field lies
        central.send(Self.acl(ch, 0b11, [1]))                                      // not an LE boundary
        central.send(Self.acl(ch, 0b00, [0x42]))
        #expect(try await peripheral.acl().last == 0x42)
        #expect(central.controller.protocolViolations == 4)
    }

    @Test func disconnectFreesOutstandingBuffers() async throws {
        let (central, peripheral, ch, _) = try await connectedPair()
        let controller = central.controller
        controller.radio.queue.async {
            for _ in 0..<16 { controller.send(Self.acl(ch, 0b00, [1])) }
            controller.send(HCI.Disconnect(handle: ch).packet)
        }
        _ = try await central.disconnectionComplete()
        _ = try await peripheral.disconnectionComplete()
        #expect(!central.allEvents.contains { e in
            if case .numberOfCompletedPackets = e { return true }
            return false
        })
        // A new connection has all 16 buffers.
        try await peripheral.advertise(.advInd)
        try await central.connect(to: peripheral.address)
        let handle = try await central.connectionComplete().handle
        _ = try await peripheral.connectionComplete()
        controller.radio.queue.async {
            for _ in 0..<16 { controller.send(Self.acl(handle, 0b00, [2])) }
        }
        try await Self.completed(central, handle: handle, count: 16)
        #expect(controller.protocolViolations == 0)
    }
}
