// The LE Filter Accept List (Core Vol 4 Part E 7.8.14-7.8.17): the devices an advertiser, scanner
// or initiator with a filter policy accepts.

extension HCI {
    /// LE Read Filter Accept List Size (7.8.14).
    public struct LEReadFilterAcceptListSize: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x200F)
        public init() {}
        public struct Return: HCIReturnParameters, Equatable {
            public var size: UInt8
            public init(size: UInt8) { self.size = size }
            public init(returnParameters r: inout ByteReader) throws { size = try r.u8() }
            public func encode(into w: inout ByteWriter) { w.u8(size) }
        }
    }

    /// LE Clear Filter Accept List (7.8.15).
    public struct LEClearFilterAcceptList: HCIParameterlessCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2010)
        public init() {}
    }

    /// LE Add Device To Filter Accept List (7.8.16). Address type 0 public, 1 random, 0xFF anonymous.
    public struct LEAddDeviceToFilterAcceptList: HCIFilterAcceptListEntryCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2011)
        public var addressType: UInt8
        public var address: BluetoothAddress
        public init(addressType: UInt8, address: BluetoothAddress) {
            self.addressType = addressType
            self.address = address
        }
    }

    /// LE Remove Device From Filter Accept List (7.8.17).
    public struct LERemoveDeviceFromFilterAcceptList: HCIFilterAcceptListEntryCommand, Equatable {
        public static let opcode = HCIOpcode(rawValue: 0x2012)
        public var addressType: UInt8
        public var address: BluetoothAddress
        public init(addressType: UInt8, address: BluetoothAddress) {
            self.addressType = addressType
            self.address = address
        }
    }
}

/// The two Filter Accept List commands that name one entry share one layout: address type, then
/// the address (Vol 4 Part E 7.8.16-17).
public protocol HCIFilterAcceptListEntryCommand: HCICommand {
    var addressType: UInt8 { get }
    var address: BluetoothAddress { get }
    init(addressType: UInt8, address: BluetoothAddress)
}

extension HCIFilterAcceptListEntryCommand {
    public func encodeParameters(into w: inout ByteWriter) {
        w.u8(addressType)
        w.address(address)
    }

    public init(parameters r: inout ByteReader) throws {
        let type = try r.u8()
        self.init(addressType: type, address: try r.address())
    }
}
