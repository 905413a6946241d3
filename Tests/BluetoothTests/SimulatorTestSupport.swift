import BluetoothCore
import BluetoothSimulator
import BluetoothTransport
import Foundation
import Testing

/// Thrown when an expected packet does not arrive in time.
struct SimulatorTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A raw HCI test host: opens a virtual controller, records every packet it delivers, and waits
/// (with a timeout, never by sleeping) for the next packet matching a predicate.
final class SimulatorHost: HCITransportDelegate, @unchecked Sendable {
    // Safe: the mutable state below is touched only while holding `lock`.
    let controller: VirtualController
    private let lock = NSLock()
    private var packets: [HCIPacket] = []
    private var consumed: [Bool] = []
    /// Every packet before this index has been taken: searches start here.
    private var firstUnconsumed = 0
    private var waiters: [Waiter] = []
    private var nextWaiterID = 0

    private struct Waiter {
        var id: Int
        var match: @Sendable (HCIPacket) -> Bool
        var continuation: CheckedContinuation<HCIPacket, any Error>
    }

    init(radio: VirtualRadio, configuration: VirtualController.Configuration = .init()) throws {
        controller = VirtualController(radio: radio, configuration: configuration)
        try controller.open(delegate: self)
    }

    var address: BluetoothAddress { controller.publicAddress }

    // MARK: HCITransportDelegate

    func transport(didReceive packet: HCIPacket) {
        lock.lock()
        packets.append(packet)
        consumed.append(false)
        var resumed: (CheckedContinuation<HCIPacket, any Error>)?
        if let i = waiters.firstIndex(where: { $0.match(packet) }) {
            consumed[consumed.count - 1] = true
            resumed = waiters.remove(at: i).continuation
        }
        lock.unlock()
        resumed?.resume(returning: packet)
    }

    func transport(didClose error: TransportError?) {}

    // MARK: Waiting

    /// The first packet not yet taken that matches, waiting up to `timeout` for it.
    func next(_ what: String, timeout: Duration = .seconds(5),
              where match: @escaping @Sendable (HCIPacket) -> Bool) async throws -> HCIPacket {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<HCIPacket, any Error>) in
            lock.lock()
            while firstUnconsumed < packets.count && consumed[firstUnconsumed] { firstUnconsumed += 1 }
            if let i = (firstUnconsumed..<packets.count).first(where: { !consumed[$0] && match(packets[$0]) }) {
                consumed[i] = true
                let p = packets[i]
                lock.unlock()
                cont.resume(returning: p)
                return
            }
            nextWaiterID += 1
            let id = nextWaiterID
            waiters.append(Waiter(id: id, match: match, continuation: cont))
            lock.unlock()
            // The waiter's deadline: a timer, not a sleep; a packet that arrives first wins.
            let c = timeout.components
            let ns = Int(c.seconds) * 1_000_000_000 + Int(c.attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(ns)) { [weak self] in
                self?.expire(id, what)
            }
        }
    }

    private func expire(_ id: Int, _ what: String) {
        lock.lock()
        let w = waiters.firstIndex(where: { $0.id == id }).map { waiters.remove(at: $0) }
        lock.unlock()
        w?.continuation.resume(throwing: SimulatorTimeout(what: what))
    }

    /// The next event matching `match`.
    @discardableResult
    func event(_ what: String, timeout: Duration = .seconds(5),
               _ match: @escaping @Sendable (HCIEvent) -> Bool) async throws -> HCIEvent {
        let p = try await next(what, timeout: timeout) { p in
            guard p.type == .event, let e = try? HCIEvent(parsing: p.bytes) else { return false }
            return match(e)
        }
        return try HCIEvent(parsing: p.bytes)
    }

    /// The next ACL packet.
    func acl(timeout: Duration = .seconds(5)) async throws -> [UInt8] {
        try await next("ACL data", timeout: timeout) { $0.type == .acl }.bytes
    }

    /// Every packet received so far (taken or not).
    var allPackets: [HCIPacket] {
        lock.lock()
        defer { lock.unlock() }
        return packets
    }

    var allEvents: [HCIEvent] {
        allPackets.compactMap { $0.type == .event ? try? HCIEvent(parsing: $0.bytes) : nil }
    }

    // MARK: Commands

    func send(_ packet: HCIPacket) { controller.send(packet) }

    /// Sends raw command bytes and returns the Command Complete or Command Status for `opcode`.
    func raw(_ bytes: [UInt8], opcode: UInt16) async throws -> HCIEvent {
        send(HCIPacket(.command, bytes))
        return try await event("reply to 0x\(String(opcode, radix: 16))") { e in
            switch e {
            case .commandComplete(let cc): return cc.opcode.rawValue == opcode
            case .commandStatus(let cs): return cs.opcode.rawValue == opcode
            default: return false
            }
        }
    }

    /// Sends a command answered by Command Complete; returns its return parameters (status first).
    @discardableResult
    func command<C: HCICommand>(_ c: C) async throws -> [UInt8] {
        send(c.packet)
        let e = try await event("Command Complete for \(C.opcode)") { e in
            if case .commandComplete(let cc) = e { return cc.opcode == C.opcode }
            return false
        }
        guard case .commandComplete(let cc) = e else { return [] }
        return cc.returnParameters
    }

    /// Sends a command and returns its status (Command Complete or Command Status).
    func status<C: HCICommand>(_ c: C) async throws -> HCIStatus {
        send(c.packet)
        let e = try await event("reply to \(C.opcode)") { e in
            switch e {
            case .commandComplete(let cc): return cc.opcode == C.opcode
            case .commandStatus(let cs): return cs.opcode == C.opcode
            default: return false
            }
        }
        switch e {
        case .commandComplete(let cc): return cc.status
        case .commandStatus(let cs): return cs.status
        default: return .unspecifiedError
        }
    }

    /// Sends a command that must succeed.
    func ok<C: HCICommand>(_ c: C, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let s = try await status(c)
        #expect(s == .success, "\(C.opcode) failed: \(s)", sourceLocation: sourceLocation)
    }

    /// Reset, then event masks that let LE events (and `leMask`) through.
    func initialize(leMask: UInt64 = HCI.LESetEventMask.hostDefault) async throws {
        try await ok(HCI.Reset())
        try await ok(HCI.SetEventMask(mask: HCI.SetEventMask.leHostDefault))
        try await ok(HCI.LESetEventMask(mask: leMask))
    }

    // MARK: Common procedures

    /// Legacy advertising of `type` with a 20 ms interval.
    func advertise(_ type: HCI.LegacyAdvertisingType, data: [UInt8] = [], scanResponse: [UInt8] = [],
                   interval: UInt16 = 0x20, peer: BluetoothAddress = .zero, ownAddressType: UInt8 = 0) async throws {
        try await ok(HCI.LESetAdvertisingParameters(intervalMin: interval, intervalMax: interval, type: type,
                                                    ownAddressType: ownAddressType, peerAddressType: 0,
                                                    peerAddress: peer))
        try await ok(HCI.LESetAdvertisingData(data: data))
        try await ok(HCI.LESetScanResponseData(data: scanResponse))
        try await ok(HCI.LESetAdvertisingEnable(enable: true))
    }

    /// Legacy scanning with interval = window (continuous) unless told otherwise.
    func scan(active: Bool = false, interval: UInt16 = 0x10, window: UInt16 = 0x10,
              filterDuplicates: Bool = false) async throws {
        try await ok(HCI.LESetScanParameters(active: active, interval: interval, window: window, ownAddressType: 0))
        try await ok(HCI.LESetScanEnable(enable: true, filterDuplicates: filterDuplicates))
    }

    /// The next legacy advertising report from `address`.
    func report(from address: BluetoothAddress, eventType: UInt8? = nil,
                timeout: Duration = .seconds(5)) async throws -> HCI.LEAdvertisingReport.Report {
        let e = try await event("advertising report from \(address)", timeout: timeout) { e in
            guard case .leAdvertisingReport(let r) = e else { return false }
            return r.reports.contains { $0.address == address && (eventType == nil || $0.eventType == eventType) }
        }
        guard case .leAdvertisingReport(let r) = e,
              let rep = r.reports.first(where: { $0.address == address }) else {
            throw SimulatorTimeout(what: "report")
        }
        return rep
    }

    /// The next extended advertising report from `address` (optionally of one event type).
    func extendedReport(from address: BluetoothAddress, eventType: UInt16? = nil,
                        timeout: Duration = .seconds(5)) async throws -> HCI.LEExtendedAdvertisingReport.Report {
        let e = try await event("extended report from \(address)", timeout: timeout) { e in
            guard case .leExtendedAdvertisingReport(let r) = e else { return false }
            return r.reports.contains {
                $0.address == address && (eventType == nil || $0.eventType.rawValue == eventType)
            }
        }
        guard case .leExtendedAdvertisingReport(let r) = e,
              let rep = r.reports.first(where: { $0.address == address }) else {
            throw SimulatorTimeout(what: "extended report")
        }
        return rep
    }

    /// LE Create Connection to a public address with a 30-50 ms interval.
    func connect(to peer: BluetoothAddress, peerType: UInt8 = 0) async throws {
        let s = try await status(HCI.LECreateConnection(
            scanInterval: 0x10, scanWindow: 0x10, peerAddressType: peerType, peerAddress: peer, ownAddressType: 0,
            connection: .init(intervalMin: 24, intervalMax: 40, maxLatency: 0, supervisionTimeout: 200)))
        #expect(s == .success)
    }

    /// The next LE Connection Complete.
    func connectionComplete(timeout: Duration = .seconds(5)) async throws -> HCI.LEConnectionComplete {
        let e = try await event("LE Connection Complete", timeout: timeout) { e in
            if case .leConnectionComplete = e { return true }
            return false
        }
        guard case .leConnectionComplete(let c) = e else { throw SimulatorTimeout(what: "connection") }
        return c
    }

    func disconnectionComplete(timeout: Duration = .seconds(5)) async throws -> HCI.DisconnectionComplete {
        let e = try await event("Disconnection Complete", timeout: timeout) { e in
            if case .disconnectionComplete = e { return true }
            return false
        }
        guard case .disconnectionComplete(let d) = e else { throw SimulatorTimeout(what: "disconnection") }
        return d
    }
}

/// Two initialized hosts on a private radio, connected: `central` to `peripheral`.
func connectedPair(configuration: VirtualController.Configuration = .init()) async throws
    -> (central: SimulatorHost, peripheral: SimulatorHost, centralHandle: UInt16, peripheralHandle: UInt16) {
    let radio = VirtualRadio()
    let central = try SimulatorHost(radio: radio, configuration: configuration)
    let peripheral = try SimulatorHost(radio: radio, configuration: configuration)
    try await central.initialize()
    try await peripheral.initialize()
    try await peripheral.advertise(.advInd)
    try await central.connect(to: peripheral.address)
    let c = try await central.connectionComplete()
    let p = try await peripheral.connectionComplete()
    return (central, peripheral, c.handle, p.handle)
}

/// Parameter bytes of a command, for building malformed packets.
func commandBytes(_ opcode: UInt16, _ parameters: [UInt8]) -> [UInt8] {
    [UInt8(truncatingIfNeeded: opcode), UInt8(truncatingIfNeeded: opcode >> 8),
     UInt8(truncatingIfNeeded: parameters.count)] + parameters
}
