/// Little-endian encoder into a growing byte array.
public struct ByteWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 32) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) public mutating func u8(_ v: UInt8) { bytes.append(v) }
    @inline(__always) public mutating func i8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    @inline(__always) public mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }
    public mutating func u24(_ v: UInt32) {
        for i in 0..<3 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    public mutating func u32(_ v: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    public mutating func u64(_ v: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    public mutating func append<S: Sequence>(_ s: S) where S.Element == UInt8 { bytes.append(contentsOf: s) }
    /// A device address in wire order (least significant byte first).
    public mutating func address(_ a: BluetoothAddress) { bytes.append(contentsOf: a.littleEndianBytes) }
    /// `data` padded with zeros (or cut) to exactly `size` bytes, for fixed-size fields such as
    /// the 31-byte legacy advertising data.
    public mutating func padded(_ data: [UInt8], to size: Int) {
        let n = min(data.count, size)
        bytes.append(contentsOf: data[0..<n])
        if n < size { bytes.append(contentsOf: repeatElement(0, count: size - n)) }
    }
}
