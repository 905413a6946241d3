import BluetoothCore

// Link-layer state of a virtual controller. Every instance is owned by one controller and touched
// only on its radio's queue.

/// One advertising set: the single set of the legacy commands, or one set of the extended ones.
final class AdvertisingSet {
    let handle: UInt8
    var properties: HCI.AdvertisingEventProperties = .legacyAdvInd
    /// 0.625 ms units.
    var intervalMin: UInt32 = 0x0800
    var intervalMax: UInt32 = 0x0800
    var ownAddressType: UInt8 = 0
    var peerAddressType: UInt8 = 0
    var peerAddress: BluetoothAddress = .zero
    var channelMap: UInt8 = 0x07
    var filterPolicy: UInt8 = 0
    var txPower: Int8 = 0
    var primaryPHY: UInt8 = 1
    var secondaryPHY: UInt8 = 1
    var sid: UInt8 = 0
    /// LE Set Advertising Set Random Address (extended sets only).
    var randomAddress: BluetoothAddress?
    var advertisingData: [UInt8] = []
    var scanResponseData: [UInt8] = []
    /// Data being assembled from fragments (operations 1, 0, 2).
    var advertisingFragments: [UInt8]?
    var scanResponseFragments: [UInt8]?

    var enabled = false
    var eventTimer: RadioTimer?
    var durationTimer: RadioTimer?
    /// 0 = no limit.
    var maxEvents = 0
    var completedEvents = 0
    /// The address and type on the air while enabled.
    var airAddress: BluetoothAddress = .zero
    var airAddressType: UInt8 = 0
    /// High duty cycle directed advertising through the legacy commands ends at this time.
    var highDutyDeadline: UInt64 = 0

    init(handle: UInt8) { self.handle = handle }

    var isLegacy: Bool { properties.contains(.legacy) }
    var isConnectable: Bool { properties.contains(.connectable) }
    var isScannable: Bool { properties.contains(.scannable) }
    var isDirected: Bool { properties.contains(.directed) }
    var isHighDutyDirected: Bool { properties.contains(.directed) && properties.contains(.highDutyDirected) }

    /// The legacy PDU type numbering of LE Advertising Report (0 ADV_IND ... 3 ADV_NONCONN_IND).
    var legacyReportType: UInt8 {
        if isDirected { return 1 }
        if isConnectable { return 0 }
        if isScannable { return 2 }
        return 3
    }

    /// Event_Type of an LE Extended Advertising Report for the advertising PDU (not the scan
    /// response), without the data-status bits.
    var extendedReportType: UInt16 {
        properties.rawValue & 0x17 // connectable, scannable, directed, legacy
    }
}

struct LegacyScanParameters {
    var active = false
    var interval: UInt16 = 0x0010
    var window: UInt16 = 0x0010
    var ownAddressType: UInt8 = 0
    var filterPolicy: UInt8 = 0
}

struct ExtendedScanParameters {
    var active = false
    var interval: UInt16 = 0x0010
    var window: UInt16 = 0x0010
    var ownAddressType: UInt8 = 0
    var filterPolicy: UInt8 = 0
}

/// An enabled scan.
final class ScanState {
    let extended: Bool
    let active: Bool
    /// Nanoseconds.
    let interval: UInt64
    let window: UInt64
    let start: UInt64
    let filterPolicy: UInt8
    var filterDuplicates: UInt8
    let airAddress: BluetoothAddress
    let airAddressType: UInt8
    /// Keys of what has been reported while duplicate filtering is on.
    var reported: Set<UInt64> = []
    /// Between two scan periods of a periodic extended scan.
    var paused = false
    var durationTimer: RadioTimer?
    var periodTimer: RadioTimer?

    init(extended: Bool, active: Bool, interval: UInt64, window: UInt64, start: UInt64, filterPolicy: UInt8,
         filterDuplicates: UInt8, airAddress: BluetoothAddress, airAddressType: UInt8) {
        self.extended = extended
        self.active = active
        self.interval = max(interval, 1)
        self.window = window
        self.start = start
        self.filterPolicy = filterPolicy
        self.filterDuplicates = filterDuplicates
        self.airAddress = airAddress
        self.airAddressType = airAddressType
    }

    /// True when the receiver listens at `time`: the time since the scan started, modulo the
    /// interval, falls inside the window.
    func listens(at time: UInt64) -> Bool {
        if paused { return false }
        if window >= interval { return true }
        let elapsed = time >= start ? time - start : 0
        return elapsed % interval < window
    }

    func cancelTimers() {
        durationTimer?.cancel()
        durationTimer = nil
        periodTimer?.cancel()
        periodTimer = nil
    }
}

/// A pending LE (Extended) Create Connection.
final class InitiatorState {
    let extended: Bool
    let interval: UInt64
    let window: UInt64
    let start: UInt64
    let filterPolicy: UInt8
    let peerAddressType: UInt8
    let peerAddress: BluetoothAddress
    let airAddress: BluetoothAddress
    let airAddressType: UInt8
    let connection: HCI.ConnectionParameters

    init(extended: Bool, interval: UInt64, window: UInt64, start: UInt64, filterPolicy: UInt8, peerAddressType: UInt8,
         peerAddress: BluetoothAddress, airAddress: BluetoothAddress, airAddressType: UInt8,
         connection: HCI.ConnectionParameters) {
        self.extended = extended
        self.interval = max(interval, 1)
        self.window = window
        self.start = start
        self.filterPolicy = filterPolicy
        self.peerAddressType = peerAddressType
        self.peerAddress = peerAddress
        self.airAddress = airAddress
        self.airAddressType = airAddressType
        self.connection = connection
    }

    func listens(at time: UInt64) -> Bool {
        if window >= interval { return true }
        let elapsed = time >= start ? time - start : 0
        return elapsed % interval < window
    }
}

/// A connection between two controllers on the same radio.
final class Link {
    let central: VirtualController
    let peripheral: VirtualController
    let centralHandle: UInt16
    let peripheralHandle: UInt16
    /// The addresses each side saw on the air.
    let centralAddress: BluetoothAddress
    let centralAddressType: UInt8
    let peripheralAddress: BluetoothAddress
    let peripheralAddressType: UInt8
    /// 1.25 ms units, connection events; 10 ms units.
    var interval: UInt16
    var latency: UInt16
    var supervisionTimeout: UInt16
    /// Data length (octets / µs) per direction as negotiated.
    var maxTxOctets: UInt16 = 27
    var maxTxTime: UInt16 = 328
    var maxRxOctets: UInt16 = 27
    var maxRxTime: UInt16 = 328
    /// Encryption.
    var encrypted = false
    var pendingEncryption: PendingEncryption?
    /// A peripheral-initiated parameter request waiting for the central host's reply.
    var pendingParameterRequest: HCI.ConnectionParameters?
    /// ACL data on the air, per sender, each packet holding one of the sender's buffers. The
    /// receiver takes a packet only when it has a free receive buffer; until then the packet is
    /// not acknowledged (NESN not advanced, Core Vol 6 Part B 4.5.9) and stays here, so the
    /// sender's controller reports no Number Of Completed Packets for it.
    var fromCentral = AirQueue()
    var fromPeripheral = AirQueue()
    /// One side powered off or reset: nothing crosses any more; the other side learns of it when
    /// its supervision timeout runs out.
    var lost = false

    struct AirQueue {
        var packets: [HCIPacket] = []
        var head = 0
        var count: Int { packets.count - head }
        mutating func append(_ p: HCIPacket) { packets.append(p) }
        mutating func pop() -> HCIPacket? {
            guard head < packets.count else { return nil }
            let p = packets[head]
            head += 1
            if head == packets.count {
                packets.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 256 && head * 2 >= packets.count {
                packets.removeFirst(head)  // never empty under steady load: drop what was taken
                head = 0
            }
            return p
        }
        mutating func clear() {
            packets.removeAll()
            head = 0
        }
    }

    func airCount(from c: VirtualController) -> Int { central === c ? fromCentral.count : fromPeripheral.count }

    struct PendingEncryption {
        var ltk: [UInt8]
        var refresh: Bool
    }

    init(central: VirtualController, peripheral: VirtualController, centralHandle: UInt16, peripheralHandle: UInt16,
         centralAddress: BluetoothAddress, centralAddressType: UInt8, peripheralAddress: BluetoothAddress,
         peripheralAddressType: UInt8, interval: UInt16, latency: UInt16, supervisionTimeout: UInt16) {
        self.central = central
        self.peripheral = peripheral
        self.centralHandle = centralHandle
        self.peripheralHandle = peripheralHandle
        self.centralAddress = centralAddress
        self.centralAddressType = centralAddressType
        self.peripheralAddress = peripheralAddress
        self.peripheralAddressType = peripheralAddressType
        self.interval = interval
        self.latency = latency
        self.supervisionTimeout = supervisionTimeout
    }

    func isCentral(_ c: VirtualController) -> Bool { central === c }

    func peer(of c: VirtualController) -> VirtualController? {
        if central === c { return peripheral }
        if peripheral === c { return central }
        return nil
    }

    func handle(of c: VirtualController) -> UInt16 { central === c ? centralHandle : peripheralHandle }
    func peerHandle(of c: VirtualController) -> UInt16 { central === c ? peripheralHandle : centralHandle }
}
