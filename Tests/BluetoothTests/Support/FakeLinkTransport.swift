import Foundation
import BluetoothCore
import BluetoothSimulator
import BluetoothTransport
@testable import BluetoothHost

/// A fake HCI for procedure tests in manual time: a real virtual controller (on a virtual-time
/// radio, so the host shares its executor) answers everything, except one made-up link whose peer
/// is a closure. The host's ACL on that link never reaches the radio: it is acknowledged with
/// Number Of Completed Packets, reassembled, recorded and handed to `peer`, whose answers come
/// back as whole PDUs; a Disconnect for it is answered as a controller would. No second stack.
final class FakeLinkTransport: HCITransport, HCITransportDelegate, @unchecked Sendable {
    // Safe: every mutable field is touched only on the radio's executor (the host's `send` and the
    // controller's deliveries both run there, one job at a time), and `peer` is immutable.
    let inner: VirtualController
    let handle: UInt16
    private let peer: @Sendable (_ cid: UInt16, _ payload: [UInt8]) -> [(cid: UInt16, payload: [UInt8])]
    private weak var downstream: HCITransportDelegate?
    private var reassembler = ACLReassembler()
    /// Every L2CAP PDU the host sent on the fake link: (CID, payload), in order.
    private(set) var sent: [(cid: UInt16, payload: [UInt8])] = []
    private(set) var linkUp = false

    var name: String { inner.name }
    var executor: VirtualTimeExecutor? { inner.executor }

    /// Commands (by opcode) the controller never answers, as a controller that lost them.
    private let swallowed: Set<UInt16>

    init(radio: VirtualRadio, handle: UInt16 = 0x0040, swallowing swallowed: Set<UInt16> = [],
         peer: @escaping @Sendable (_ cid: UInt16, _ payload: [UInt8]) -> [(cid: UInt16, payload: [UInt8])]) {
        inner = VirtualController(radio: radio)
        self.handle = handle
        self.swallowed = swallowed
        self.peer = peer
    }

    func open(delegate: HCITransportDelegate) throws {
        downstream = delegate
        try inner.open(delegate: self)
    }

    func close() { inner.close() }

    /// Brings the made-up link up: an LE Connection Complete (this device central).
    func connect() {
        linkUp = true
        deliver(HCI.LEConnectionComplete(status: .success, handle: handle, role: 0, peerAddressType: 1,
                                         peerAddress: BluetoothAddress(value: 0xC0FF_EE00_0002), interval: 24,
                                         latency: 0, supervisionTimeout: 400).packet)
    }

    func send(_ packet: HCIPacket) {
        let bytes = packet.bytes
        if packet.type == .acl, let header = try? ACLHeader(parsing: bytes), header.handle == handle {
            deliver(HCI.NumberOfCompletedPackets(entries: [.init(handle: handle, count: 1)]).packet)
            if case let .pdu(cid, payload) = reassembler.receive(header: header, packet: bytes, maxPayload: 0xFFFF).outcome {
                sent.append((cid, payload))
                for reply in peer(cid, payload) {
                    deliver(HostileController.aclPacket(handle: handle, cid: reply.cid, payload: reply.payload))
                }
            }
            return
        }
        if packet.type == .command, bytes.count >= 2, swallowed.contains(UInt16(bytes[0]) | UInt16(bytes[1]) << 8) {
            return
        }
        // HCI Disconnect (0x0406) for the made-up link: answered as a controller does.
        if packet.type == .command, bytes.count >= 5, bytes[0] == 0x06, bytes[1] == 0x04,
           UInt16(bytes[3]) | UInt16(bytes[4]) << 8 == handle {
            deliver(HCI.CommandStatus(status: .success, opcode: HCIOpcode(rawValue: 0x0406)).packet)
            if linkUp {
                linkUp = false
                deliver(HCI.DisconnectionComplete(handle: handle, reason: .localHostTerminated).packet)
            }
            return
        }
        inner.send(packet)
    }

    /// To the host, later in the executor's order (as a controller answers after the command).
    private func deliver(_ packet: HCIPacket) {
        inner.radio.queue.async { [weak self] in self?.downstream?.transport(didReceive: packet) }
    }

    func transport(didReceive packet: HCIPacket) { downstream?.transport(didReceive: packet) }
    func transport(didClose error: TransportError?) { downstream?.transport(didClose: error) }
}
