// LE Meta subevents (Core Vol 4 Part E 7.7.65).

extension HCI {
    /// Role in a connection as reported by the controller.
    public enum Role: UInt8, Sendable {
        case central = 0
        case peripheral = 1
    }

    /// LE Connection Complete (7.7.65.1).
    public struct LEConnectionComplete: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x01 }
        public var status: HCIStatus
        public var handle: UInt16
        public var role: UInt8
        public var peerAddressType: UInt8
        public var peerAddress: BluetoothAddress
        /// 1.25 ms units.
        public var interval: UInt16
        public var latency: UInt16
        /// 10 ms units.
        public var supervisionTimeout: UInt16
        public var centralClockAccuracy: UInt8
        public init(status: HCIStatus, handle: UInt16, role: UInt8, peerAddressType: UInt8, peerAddress: BluetoothAddress,
                    interval: UInt16, latency: UInt16, supervisionTimeout: UInt16, centralClockAccuracy: UInt8 = 0) {
            self.status = status
            self.handle = handle
            self.role = role
            self.peerAddressType = peerAddressType
            self.peerAddress = peerAddress
            self.interval = interval
            self.latency = latency
            self.supervisionTimeout = supervisionTimeout
            self.centralClockAccuracy = centralClockAccuracy
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            handle = try r.u16()
            role = try r.u8()
            peerAddressType = try r.u8()
            peerAddress = try r.address()
            interval = try r.u16()
            latency = try r.u16()
            supervisionTimeout = try r.u16()
            centralClockAccuracy = try r.u8()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u16(handle)
            w.u8(role)
            w.u8(peerAddressType)
            w.address(peerAddress)
            w.u16(interval)
            w.u16(latency)
            w.u16(supervisionTimeout)
            w.u8(centralClockAccuracy)
        }
    }

    /// LE Enhanced Connection Complete [v1] (7.7.65.10).
    public struct LEEnhancedConnectionComplete: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x0A }
        public var status: HCIStatus
        public var handle: UInt16
        public var role: UInt8
        public var peerAddressType: UInt8
        public var peerAddress: BluetoothAddress
        public var localResolvablePrivateAddress: BluetoothAddress
        public var peerResolvablePrivateAddress: BluetoothAddress
        public var interval: UInt16
        public var latency: UInt16
        public var supervisionTimeout: UInt16
        public var centralClockAccuracy: UInt8
        public init(status: HCIStatus, handle: UInt16, role: UInt8, peerAddressType: UInt8, peerAddress: BluetoothAddress,
                    localResolvablePrivateAddress: BluetoothAddress = .zero,
                    peerResolvablePrivateAddress: BluetoothAddress = .zero, interval: UInt16, latency: UInt16,
                    supervisionTimeout: UInt16, centralClockAccuracy: UInt8 = 0) {
            self.status = status
            self.handle = handle
            self.role = role
            self.peerAddressType = peerAddressType
            self.peerAddress = peerAddress
            self.localResolvablePrivateAddress = localResolvablePrivateAddress
            self.peerResolvablePrivateAddress = peerResolvablePrivateAddress
            self.interval = interval
            self.latency = latency
            self.supervisionTimeout = supervisionTimeout
            self.centralClockAccuracy = centralClockAccuracy
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            handle = try r.u16()
            role = try r.u8()
            peerAddressType = try r.u8()
            peerAddress = try r.address()
            localResolvablePrivateAddress = try r.address()
            peerResolvablePrivateAddress = try r.address()
            interval = try r.u16()
            latency = try r.u16()
            supervisionTimeout = try r.u16()
            centralClockAccuracy = try r.u8()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u16(handle)
            w.u8(role)
            w.u8(peerAddressType)
            w.address(peerAddress)
            w.address(localResolvablePrivateAddress)
            w.address(peerResolvablePrivateAddress)
            w.u16(interval)
            w.u16(latency)
            w.u16(supervisionTimeout)
            w.u8(centralClockAccuracy)
        }
    }

    /// LE Advertising Report (7.7.65.2). Reports are laid out one after another, as controllers
    /// send them.
    public struct LEAdvertisingReport: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x02 }
        public struct Report: Sendable, Equatable {
            /// 0 ADV_IND, 1 ADV_DIRECT_IND, 2 ADV_SCAN_IND, 3 ADV_NONCONN_IND, 4 SCAN_RSP.
            public var eventType: UInt8
            public var addressType: UInt8
            public var address: BluetoothAddress
            public var data: [UInt8]
            public var rssi: Int8
            public init(eventType: UInt8, addressType: UInt8, address: BluetoothAddress, data: [UInt8], rssi: Int8) {
                self.eventType = eventType
                self.addressType = addressType
                self.address = address
                self.data = data
                self.rssi = rssi
            }
        }
        public var reports: [Report]
        public init(reports: [Report]) { self.reports = reports }
        public init(parameters r: inout ByteReader) throws {
            let n = Int(try r.u8())
            var rs: [Report] = []
            rs.reserveCapacity(n)
            for _ in 0..<n {
                let type = try r.u8()
                let at = try r.u8()
                let a = try r.address()
                let len = Int(try r.u8())
                guard len <= 31 else {
                    throw DecodeError.invalid(context: r.context, reason: "advertising data length \(len) > 31")
                }
                let d = try r.bytes(len)
                rs.append(Report(eventType: type, addressType: at, address: a, data: d, rssi: try r.i8()))
            }
            reports = rs
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(UInt8(truncatingIfNeeded: reports.count))
            for rep in reports {
                w.u8(rep.eventType)
                w.u8(rep.addressType)
                w.address(rep.address)
                w.u8(UInt8(truncatingIfNeeded: rep.data.count))
                w.append(rep.data)
                w.i8(rep.rssi)
            }
        }
    }

    /// LE Connection Update Complete (7.7.65.3).
    public struct LEConnectionUpdateComplete: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x03 }
        public var status: HCIStatus
        public var handle: UInt16
        public var interval: UInt16
        public var latency: UInt16
        public var supervisionTimeout: UInt16
        public init(status: HCIStatus, handle: UInt16, interval: UInt16, latency: UInt16, supervisionTimeout: UInt16) {
            self.status = status
            self.handle = handle
            self.interval = interval
            self.latency = latency
            self.supervisionTimeout = supervisionTimeout
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            handle = try r.u16()
            interval = try r.u16()
            latency = try r.u16()
            supervisionTimeout = try r.u16()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u16(handle)
            w.u16(interval)
            w.u16(latency)
            w.u16(supervisionTimeout)
        }
    }

    /// LE Extended Advertising Report (7.7.65.13).
    public struct LEExtendedAdvertisingReport: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x0D }
        /// Event_Type bits.
        public struct EventType: OptionSet, Sendable, Hashable {
            public let rawValue: UInt16
            public init(rawValue: UInt16) { self.rawValue = rawValue }
            public static let connectable = Self(rawValue: 1 << 0)
            public static let scannable = Self(rawValue: 1 << 1)
            public static let directed = Self(rawValue: 1 << 2)
            public static let scanResponse = Self(rawValue: 1 << 3)
            public static let legacy = Self(rawValue: 1 << 4)
            /// Bits 5-6: 00 complete, 01 incomplete (more to come), 10 incomplete, truncated.
            public var dataStatus: UInt8 { UInt8((rawValue >> 5) & 0x3) }

            /// The legacy PDU type of a report (Table 7.1 of 7.7.65.13); non-legacy PDUs are
            /// mapped by their properties.
            public var legacyType: UInt8 {
                if contains(.scanResponse) { return 4 }
                if contains(.directed) { return 1 }
                if contains(.connectable) { return 0 }
                if contains(.scannable) { return 2 }
                return 3
            }
        }
        public struct Report: Sendable, Equatable {
            public var eventType: EventType
            public var addressType: UInt8
            public var address: BluetoothAddress
            public var primaryPHY: UInt8
            public var secondaryPHY: UInt8
            public var sid: UInt8
            public var txPower: Int8
            public var rssi: Int8
            public var periodicInterval: UInt16
            public var directAddressType: UInt8
            public var directAddress: BluetoothAddress
            public var data: [UInt8]
            public init(eventType: EventType, addressType: UInt8, address: BluetoothAddress, primaryPHY: UInt8 = 1,
                        secondaryPHY: UInt8 = 0, sid: UInt8 = 0xFF, txPower: Int8 = 0x7F, rssi: Int8,
                        periodicInterval: UInt16 = 0, directAddressType: UInt8 = 0,
                        directAddress: BluetoothAddress = .zero, data: [UInt8]) {
                self.eventType = eventType
                self.addressType = addressType
                self.address = address
                self.primaryPHY = primaryPHY
                self.secondaryPHY = secondaryPHY
                self.sid = sid
                self.txPower = txPower
                self.rssi = rssi
                self.periodicInterval = periodicInterval
                self.directAddressType = directAddressType
                self.directAddress = directAddress
                self.data = data
            }
        }
        public var reports: [Report]
        public init(reports: [Report]) { self.reports = reports }
        public init(parameters r: inout ByteReader) throws {
            let n = Int(try r.u8())
            var rs: [Report] = []
            rs.reserveCapacity(n)
            for _ in 0..<n {
                let et = EventType(rawValue: try r.u16())
                let at = try r.u8()
                let a = try r.address()
                let p1 = try r.u8(), p2 = try r.u8(), sid = try r.u8()
                let tx = try r.i8(), rssi = try r.i8()
                let pi = try r.u16()
                let dat = try r.u8()
                let da = try r.address()
                let d = try r.bytes(Int(try r.u8()))
                rs.append(Report(eventType: et, addressType: at, address: a, primaryPHY: p1, secondaryPHY: p2, sid: sid,
                                 txPower: tx, rssi: rssi, periodicInterval: pi, directAddressType: dat,
                                 directAddress: da, data: d))
            }
            reports = rs
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(UInt8(truncatingIfNeeded: reports.count))
            for rep in reports {
                w.u16(rep.eventType.rawValue)
                w.u8(rep.addressType)
                w.address(rep.address)
                w.u8(rep.primaryPHY)
                w.u8(rep.secondaryPHY)
                w.u8(rep.sid)
                w.i8(rep.txPower)
                w.i8(rep.rssi)
                w.u16(rep.periodicInterval)
                w.u8(rep.directAddressType)
                w.address(rep.directAddress)
                w.u8(UInt8(truncatingIfNeeded: rep.data.count))
                w.append(rep.data)
            }
        }
    }

    /// LE Advertising Set Terminated (7.7.65.18): advertising ended by a connection, a duration
    /// or an event count.
    public struct LEAdvertisingSetTerminated: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x12 }
        public var status: HCIStatus
        public var advertisingHandle: UInt8
        public var connectionHandle: UInt16
        public var completedEvents: UInt8
        public init(status: HCIStatus, advertisingHandle: UInt8, connectionHandle: UInt16, completedEvents: UInt8) {
            self.status = status
            self.advertisingHandle = advertisingHandle
            self.connectionHandle = connectionHandle
            self.completedEvents = completedEvents
        }
        public init(parameters r: inout ByteReader) throws {
            status = HCIStatus(try r.u8())
            advertisingHandle = try r.u8()
            connectionHandle = try r.u16()
            completedEvents = try r.u8()
        }
        public func encodeParameters(into w: inout ByteWriter) {
            w.u8(status.rawValue)
            w.u8(advertisingHandle)
            w.u16(connectionHandle)
            w.u8(completedEvents)
        }
    }

    /// LE Scan Timeout (7.7.65.17): an extended scan with a duration has ended.
    public struct LEScanTimeout: HCIEventParameters, Equatable {
        public static let eventCode: UInt8 = 0x3E
        public static var subeventCode: UInt8? { 0x11 }
        public init() {}
        public init(parameters r: inout ByteReader) throws {}
        public func encodeParameters(into w: inout ByteWriter) {}
    }
}
