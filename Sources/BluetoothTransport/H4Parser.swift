import BluetoothCore

/// A streaming H4 deframer (Core Vol 4 Part A): feed it byte chunks of any size, as they come off
/// a UART, a pty or a TCP socket, and it hands back every complete `HCIPacket` in order.
///
/// Each received byte is copied once, straight into the bytes of the packet it belongs to, so a
/// packet split over many chunks costs no re-copying. An unknown packet indicator cannot be
/// resynchronised: the parser throws `TransportError.framing` and stays failed.
public struct H4Parser: Sendable {
    private enum Stage: Sendable {
        /// Waiting for the packet indicator byte.
        case indicator
        /// Collecting the fixed-size header of a packet of `type` into `current`.
        case header(HCIPacketType, headerSize: Int)
        /// Collecting the payload; the packet is complete when `current.count == total`.
        case payload(HCIPacketType, total: Int)
        /// A framing error happened; every later feed throws it again.
        case failed(TransportError)
    }

    private var stage: Stage = .indicator
    /// The packet being assembled (header and payload, no indicator).
    private var current: [UInt8] = []
    /// Bytes accepted so far, for error messages.
    public private(set) var offset: UInt64 = 0

    public init() {}

    /// True when no partial packet is buffered (the stream is at a packet boundary).
    public var isAtPacketBoundary: Bool {
        if case .indicator = stage { return true }
        return false
    }

    /// The size of the header that follows the indicator, which holds the payload length.
    public static func headerSize(of type: HCIPacketType) -> Int {
        switch type {
        case .command: return 3  // opcode u16, length u8
        case .acl: return 4      // handle+flags u16, length u16
        case .sco: return 3      // handle+flags u16, length u8
        case .event: return 2    // event code u8, length u8
        case .iso: return 4      // handle+flags u16, length u14 (+2 flag bits)
        }
    }

    /// The payload length announced by a complete header of `type`.
    public static func payloadLength(of type: HCIPacketType, header h: UnsafeBufferPointer<UInt8>) -> Int {
        switch type {
        case .command, .sco: return Int(h[2])
        case .event: return Int(h[1])
        case .acl: return Int(UInt16(h[2]) | UInt16(h[3]) << 8)
        case .iso: return Int((UInt16(h[2]) | UInt16(h[3]) << 8) & 0x3FFF)
        }
    }

    /// Feeds `chunk` and calls `deliver` for every packet it completes, in order.
    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ deliver: (HCIPacket) -> Void) throws(TransportError) {
        if case .failed(let error) = stage { throw error }
        var i = 0
        let n = chunk.count
        while i < n {
            switch stage {
            case .failed(let error):
                throw error
            case .indicator:
                let byte = chunk[i]
                guard let type = HCIPacketType(rawValue: byte) else {
                    let error = TransportError.framing(
                        "unknown H4 packet indicator 0x\(Self.hex(byte)) at stream offset \(offset + UInt64(i)) "
                        + "(expected 01 command, 02 ACL, 03 SCO, 04 event or 05 ISO); the stream cannot be "
                        + "resynchronised: check that the other end speaks H4 and that the baud rate matches")
                    offset += UInt64(i)
                    stage = .failed(error)
                    throw error
                }
                i += 1
                let headerSize = Self.headerSize(of: type)
                // Fast path: the whole packet is in this chunk, so copy it out in one go.
                if n - i >= headerSize {
                    let header = UnsafeBufferPointer(rebasing: chunk[i..<(i + headerSize)])
                    let total = headerSize + Self.payloadLength(of: type, header: header)
                    if n - i >= total {
                        deliver(HCIPacket(type, Array(chunk[i..<(i + total)])))
                        i += total
                        continue
                    }
                }
                current = []
                current.reserveCapacity(headerSize)
                stage = .header(type, headerSize: headerSize)
            case .header(let type, let headerSize):
                let take = min(headerSize - current.count, n - i)
                current.append(contentsOf: chunk[i..<(i + take)])
                i += take
                if current.count == headerSize {
                    let length = current.withUnsafeBufferPointer { Self.payloadLength(of: type, header: $0) }
                    let total = headerSize + length
                    if length == 0 {
                        complete(type, deliver)
                    } else {
                        current.reserveCapacity(total)
                        stage = .payload(type, total: total)
                    }
                }
            case .payload(let type, let total):
                let take = min(total - current.count, n - i)
                current.append(contentsOf: chunk[i..<(i + take)])
                i += take
                if current.count == total { complete(type, deliver) }
            }
        }
        offset += UInt64(n)
    }

    /// Feeds any contiguous or non-contiguous byte collection.
    public mutating func feed<C: Collection<UInt8>>(_ chunk: C, _ deliver: (HCIPacket) -> Void) throws(TransportError) {
        let result: Result<Void, TransportError>? = chunk.withContiguousStorageIfAvailable { buffer in
            do throws(TransportError) {
                try feed(buffer, deliver)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if let result {
            try result.get()
        } else {
            let copy = Array(chunk)
            try copy.withUnsafeBufferPointer { (buffer) throws(TransportError) in try feed(buffer, deliver) }
        }
    }

    /// Feeds `chunk` and returns the packets it completes.
    public mutating func feed<C: Collection<UInt8>>(_ chunk: C) throws(TransportError) -> [HCIPacket] {
        var packets: [HCIPacket] = []
        try feed(chunk) { packets.append($0) }
        return packets
    }

    /// Drops any partial packet and clears a framing error.
    public mutating func reset() {
        stage = .indicator
        current = []
    }

    private mutating func complete(_ type: HCIPacketType, _ deliver: (HCIPacket) -> Void) {
        let packet = HCIPacket(type, current)
        current = []
        stage = .indicator
        deliver(packet)
    }

    static func hex(_ byte: UInt8) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
