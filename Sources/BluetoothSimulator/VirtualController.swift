import BluetoothCore
import BluetoothTransport
import Synchronization

/// A virtual Bluetooth LE controller. It speaks HCI bytes exactly like a chip behind a UART, so a
/// host cannot tell it from hardware, and it is its own `HCITransport`: the host opens it, sends
/// commands and ACL data with `send(_:)` and receives events and ACL data through its delegate,
/// in order, on the radio's queue.
///
/// All link-layer state lives on the radio's `DeviceQueue`; nothing here blocks or spawns threads.
public final class VirtualController: HCITransport, @unchecked Sendable {
    // Safe: the `let` properties are immutable and every `var` is read and written only on
    // `radio.queue` (the public entry points hop there with `async` or `sync`, timers fire there),
    // which serializes all access. That is what makes the unchecked Sendable conformance sound.

    public struct Configuration: Sendable {
        /// Which LE buffer-size commands the controller answers, to exercise a host's fallbacks.
        public enum LEBufferSize: Sendable, Equatable {
            /// LE Read Buffer Size v2 and v1 both answer with the LE buffers.
            case v2
            /// LE Read Buffer Size v2 is an unknown command (its supported-commands bit is clear).
            case v1only
            /// LE Read Buffer Size (v1 and v2) answer length 0 / count 0: the host must use the
            /// shared buffers of Read Buffer Size.
            case sharedOnly
        }

        /// Support the LE extended advertising, scanning and create-connection commands (and set the
        /// LE Extended Advertising feature bit).
        public var extendedAdvertising: Bool
        /// Size of one ACL data buffer (the longest ACL payload the host may send).
        public var aclDataPacketLength: UInt16
        /// Number of ACL data buffers.
        public var totalNumACLDataPackets: UInt8
        public var maxConnections: Int
        public var leBufferSize: LEBufferSize
        public var hciVersion: UInt8
        public var hciSubversion: UInt16
        public var lmpVersion: UInt8
        /// Company identifier; 0xFFFF is reserved for internal use, fitting a virtual chip.
        public var manufacturer: UInt16
        public var lmpSubversion: UInt16
        /// Advertising sets of the extended commands.
        public var numberOfAdvertisingSets: UInt8
        /// Total advertising (or scan response) data of one extended set, at most 1650.
        public var maxAdvertisingDataLength: UInt16
        /// Where protocol violations by the host are logged; nil logs nothing (the counter still
        /// counts them).
        public var log: (@Sendable (String) -> Void)?

        public init(extendedAdvertising: Bool = true, aclDataPacketLength: UInt16 = 251,
                    totalNumACLDataPackets: UInt8 = 16, maxConnections: Int = 256, leBufferSize: LEBufferSize = .v2,
                    hciVersion: UInt8 = 0x0D, hciSubversion: UInt16 = 0x0001, lmpVersion: UInt8 = 0x0D,
                    manufacturer: UInt16 = 0xFFFF, lmpSubversion: UInt16 = 0x0001,
                    numberOfAdvertisingSets: UInt8 = 16, maxAdvertisingDataLength: UInt16 = 1650,
                    log: (@Sendable (String) -> Void)? = VirtualController.standardErrorLog) {
            self.extendedAdvertising = extendedAdvertising
            self.aclDataPacketLength = aclDataPacketLength
            self.totalNumACLDataPackets = totalNumACLDataPackets
            self.maxConnections = maxConnections
            self.leBufferSize = leBufferSize
            self.hciVersion = hciVersion
            self.hciSubversion = hciSubversion
            self.lmpVersion = lmpVersion
            self.manufacturer = manufacturer
            self.lmpSubversion = lmpSubversion
            self.numberOfAdvertisingSets = numberOfAdvertisingSets
            self.maxAdvertisingDataLength = min(maxAdvertisingDataLength, 1650)
            self.log = log
        }
    }

    /// Writes a line to standard error.
    public static let standardErrorLog: @Sendable (String) -> Void = { line in
        var s = StandardError()
        print(line, to: &s)
    }

    public let radio: VirtualRadio
    public let configuration: Configuration
    /// The controller's public device address (BD_ADDR), unique in the process.
    public let publicAddress: BluetoothAddress
    public let name: String

    let core: RadioCore

    // MARK: Radio-queue state

    weak var delegate: HCITransportDelegate?
    var powered = false
    var eventMask: UInt64 = VirtualController.defaultEventMask
    var leEventMask: UInt64 = VirtualController.defaultLEEventMask
    var randomAddress: BluetoothAddress?
    var mode: CommandMode = .unset

    /// The advertising set of the legacy commands.
    var legacySet = AdvertisingSet(handle: 0)
    /// The advertising sets of the extended commands, by handle.
    var extendedSets: [UInt8: AdvertisingSet] = [:]

    var legacyScanParameters = LegacyScanParameters()
    var extendedScanParameters = ExtendedScanParameters()
    var scan: ScanState?
    var initiator: InitiatorState?

    var links: [UInt16: Link] = [:]
    var lastHandle: UInt16 = 0
    var aclBuffersInUse = 0
    /// What goes to the host, in order, held while the host's inbox is full (the wire's flow
    /// control, as a UART's RTS line): events and ACL data.
    var toHost: [HCIPacket] = []
    var toHostHead = 0
    /// ACL packets taken off the air and not yet taken by the host: each holds a receive buffer.
    var toHostACL = 0
    /// A link stopped moving for want of a receive buffer.
    var inboundBlocked = false
    /// Waiting for the host's `whenReady`.
    var waitingForHost = false
    /// Noted with the radio for a hand-over at the end of the turn.
    var deliveryPending = false
    /// Receive buffers for ACL data from the air (as many as the transmit buffers).
    var receiveBuffers: Int { Int(configuration.totalNumACLDataPackets) }
    /// Advertising reports are dropped (and counted) while this many packets wait for the host,
    /// as a controller's report buffers overflow; other events always wait their turn.
    static let maxWaitingReports = 1024
    var droppedReports = 0
    /// Packets accepted per handle since the last Number Of Completed Packets.
    var completedPackets: [UInt16: UInt16] = [:]
    var violationCount = 0
    var lastViolationText: String?

    static let defaultEventMask: UInt64 = 0x0000_1FFF_FFFF_FFFF
    static let defaultLEEventMask: UInt64 = 0x0000_0000_0000_001F

    public init(radio: VirtualRadio, configuration: Configuration = .init()) {
        self.radio = radio
        self.configuration = configuration
        self.core = radio.core
        if let executor = radio.executor {
            // In virtual time, numbered by the radio's executor: the same in every run.
            publicAddress = BluetoothAddress(value: 0x5A_1E_01 << 24 | (executor.nextIdentity() & 0xFF_FFFF))
        } else {
            publicAddress = RadioRegistry.shared.nextPublicAddress()
        }
        name = "virtual:\(radio.name)"
    }

    // MARK: HCITransport

    /// The radio's executor when the radio runs in virtual time.
    public var executor: VirtualTimeExecutor? { radio.queue.executor }

    /// Powers the controller on: it joins the radio in its reset state.
    public func open(delegate: HCITransportDelegate) throws {
        try radio.queue.sync {
            guard !powered else { throw TransportError.openFailed("\(name) (\(publicAddress)) is already open") }
            self.delegate = delegate
            powered = true
            waitingForHost = false
            resetState(peerReason: .connectionTimeout)
            core.attach(self)
        }
    }

    /// Takes a command or ACL packet from the host; handled in order on the radio queue. Packets
    /// sent in a burst are handled in one queue turn (one hop, not one per packet).
    public func send(_ packet: HCIPacket) {
        let schedule = inbox.withLock { state -> Bool in
            state.packets.append(packet)
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
        if schedule {
            radio.queue.async { [self] in
                let batch = inbox.withLock { state -> [HCIPacket] in
                    defer {
                        state.packets.removeAll(keepingCapacity: true)
                        state.scheduled = false
                    }
                    return state.packets
                }
                core.perform {
                    for p in batch { receiveFromHost(p) }
                }
            }
        }
    }

    /// Packets from the host not yet handled, and whether a radio-queue turn is on its way for them.
    private let inbox = Mutex<(packets: [HCIPacket], scheduled: Bool)>(([], false))

    /// Powers the controller off: its links drop (peers see Connection Timeout), advertising and
    /// scanning stop, and it leaves the radio. Idempotent.
    public func close() {
        radio.queue.sync {
            core.perform {
                guard powered else { return }
                resetState(peerReason: .connectionTimeout)
                powered = false
                delegate = nil
                core.detach(self)
            }
        }
    }

    // MARK: Introspection

    /// ACL packets and other input the host should never have sent (too long, over the buffer
    /// count, unknown handle, bad header...): dropped, counted and logged.
    public var protocolViolations: Int { radio.queue.sync { violationCount } }

    /// The description of the last protocol violation, if any.
    public var lastProtocolViolation: String? { radio.queue.sync { lastViolationText } }

    /// Number of live connections.
    public var connectionCount: Int { radio.queue.sync { links.count } }

    // MARK: Delivery

    func deliverToHost(_ packet: HCIPacket) {
        guard powered, delegate != nil else {
            if packet.type == .acl { toHostACL = max(0, toHostACL - 1) }
            return
        }
        if packet.type == .event, toHost.count - toHostHead >= Self.maxWaitingReports,
           packet.bytes.count >= 3, packet.bytes[0] == 0x3E, packet.bytes[2] == 0x02 || packet.bytes[2] == 0x0D {
            droppedReports += 1
            return
        }
        toHost.append(packet)
        if !deliveryPending {
            deliveryPending = true
            core.noteDelivery(self)
        }
    }

    /// Hands waiting packets to the host as far as its inbox has room; when it has none, waits
    /// for `whenReady` (the virtual wire's flow control).
    func pumpToHost() {
        guard let d = delegate, !waitingForHost else { return }
        let flow = d as? HCIFlowControlledDelegate
        var freed = false
        while toHostHead < toHost.count {
            var room = flow?.room ?? Int.max
            if room == 0 {
                waitingForHost = true
                flow?.whenReady { [self] in
                    radio.queue.async { [self] in
                        core.perform {
                            waitingForHost = false
                            pumpToHost()
                        }
                    }
                }
                break
            }
            let end = toHostHead + min(room, toHost.count - toHostHead)
            for i in toHostHead..<end where toHost[i].type == .acl {
                toHostACL -= 1
                freed = true
            }
            let burst = toHost[toHostHead..<end]
            toHostHead = end
            room = 0
            if let flow { flow.transport(didReceiveAll: burst) } else { for p in burst { d.transport(didReceive: p) } }
        }
        if toHostHead == toHost.count {
            toHost.removeAll(keepingCapacity: true)
            toHostHead = 0
        } else if toHostHead >= 256 && toHostHead * 2 >= toHost.count {
            toHost.removeFirst(toHostHead)  // never empty under steady load: drop what was taken
            toHostHead = 0
        }
        if freed { receiveBuffersFreed() }
    }

    func violation(_ text: String) {
        violationCount += 1
        lastViolationText = text
        configuration.log?("[\(name) \(publicAddress)] protocol violation: \(text)")
    }

    /// True when the event masks let this event through to the host.
    func eventEnabled(code: UInt8, subevent: UInt8?) -> Bool {
        switch code {
        case 0x0E, 0x0F, 0x13:
            return true // Command Complete, Command Status, Number Of Completed Packets
        case 0x3E:
            guard eventMask & (1 << 61) != 0 else { return false }
            guard let sub = subevent, sub >= 1, sub <= 64 else { return false }
            return leEventMask & (1 << UInt64(sub - 1)) != 0
        case 1...64:
            return eventMask & (1 << UInt64(code - 1)) != 0
        default:
            return true
        }
    }

    func emit<E: HCIEventParameters>(_ event: E) {
        guard eventEnabled(code: E.eventCode, subevent: E.subeventCode) else { return }
        core.enqueue(event.packet, to: self)
    }

    func leSubeventEnabled(_ sub: UInt8) -> Bool { eventEnabled(code: 0x3E, subevent: sub) }

    // MARK: Reset

    /// Back to the power-on state: everything stops, links drop (each peer host is told
    /// `peerReason`), masks and parameters return to their defaults.
    func resetState(peerReason: HCIStatus) {
        for (_, set) in extendedSets { stopAdvertising(set) }
        extendedSets.removeAll()
        stopAdvertising(legacySet)
        legacySet = AdvertisingSet(handle: 0)
        stopScanning()
        cancelInitiator()
        let all = links
        links.removeAll()
        for handle in all.keys.sorted() {
            guard let link = all[handle] else { continue }
            // The peer hears nothing more on this link: it notices when its supervision timeout
            // runs out (Core Vol 6 Part B 4.5.2), and meanwhile its data stays unacknowledged.
            link.lost = true
            if let peer = link.peer(of: self) {
                let timeout = UInt64(link.supervisionTimeout) * 10_000_000
                core.scheduler.schedule(afterNanoseconds: timeout) { [peer] in peer.linkLost(link, reason: peerReason) }
            }
        }
        lastHandle = 0
        aclBuffersInUse = 0
        toHost.removeAll()
        toHostHead = 0
        toHostACL = 0
        inboundBlocked = false
        completedPackets.removeAll()
        eventMask = Self.defaultEventMask
        leEventMask = Self.defaultLEEventMask
        randomAddress = nil
        mode = .unset
        legacyScanParameters = LegacyScanParameters()
        extendedScanParameters = ExtendedScanParameters()
        suggestedMaxTxOctets = 27
        suggestedMaxTxTime = 328
        filterAcceptList.removeAll()
    }

    // Data length defaults (LE Write Suggested Default Data Length).
    var suggestedMaxTxOctets: UInt16 = 27
    var suggestedMaxTxTime: UInt16 = 328
    /// The Filter Accept List: (address type, address).
    var filterAcceptList: Set<FilterEntry> = []
    static let filterAcceptListSize = 16

    struct FilterEntry: Hashable {
        var type: UInt8
        var address: BluetoothAddress
    }

    // MARK: Addresses

    /// The address and type used on the air for an own-address-type parameter (0/2 public,
    /// 1/3 random); nil when a random address is needed and none is set.
    func airAddress(ownAddressType: UInt8, setRandom: BluetoothAddress? = nil) -> (BluetoothAddress, UInt8)? {
        switch ownAddressType {
        case 0, 2: return (publicAddress, 0)
        case 1, 3:
            guard let r = setRandom ?? randomAddress else { return nil }
            return (r, 1)
        default: return nil
        }
    }
}

/// Which family of advertising/scanning commands the host has chosen since the last reset
/// (Core Vol 4 Part E 3.1.1: mixing them is disallowed).
enum CommandMode {
    case unset, legacy, extended
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleStderr.write(string)
    }
}
