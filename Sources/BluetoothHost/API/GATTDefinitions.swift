import BluetoothCore

/// Characteristic and descriptor flags, with MicroPython's raw values.
public struct BLEFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let broadcast = BLEFlags(rawValue: 0x0001)
    public static let read = BLEFlags(rawValue: 0x0002)
    public static let writeNoResponse = BLEFlags(rawValue: 0x0004)
    public static let write = BLEFlags(rawValue: 0x0008)
    public static let notify = BLEFlags(rawValue: 0x0010)
    public static let indicate = BLEFlags(rawValue: 0x0020)
    public static let authenticatedSignedWrite = BLEFlags(rawValue: 0x0040)
    public static let auxWrite = BLEFlags(rawValue: 0x0100)
    public static let readEncrypted = BLEFlags(rawValue: 0x0200)
    public static let readAuthenticated = BLEFlags(rawValue: 0x0400)
    public static let readAuthorized = BLEFlags(rawValue: 0x0800)
    public static let writeEncrypted = BLEFlags(rawValue: 0x1000)
    public static let writeAuthenticated = BLEFlags(rawValue: 0x2000)
    public static let writeAuthorized = BLEFlags(rawValue: 0x4000)
}

/// ATT error codes an `irq` handler may return to deny a read request.
public enum BLEATTError {
    public static let noError = 0x00
    public static let readNotPermitted = 0x02
    public static let writeNotPermitted = 0x03
    public static let insufficientAuthentication = 0x05
    public static let insufficientAuthorization = 0x08
    public static let insufficientEncryption = 0x0F
}

public struct BLEDescriptor: Sendable, Hashable {
    public var uuid: BluetoothUUID
    public var flags: BLEFlags
    public init(_ uuid: BluetoothUUID, _ flags: BLEFlags) {
        self.uuid = uuid
        self.flags = flags
    }
}

public struct BLECharacteristic: Sendable, Hashable {
    public var uuid: BluetoothUUID
    public var flags: BLEFlags
    public var descriptors: [BLEDescriptor]
    public init(_ uuid: BluetoothUUID, _ flags: BLEFlags, _ descriptors: [BLEDescriptor] = []) {
        self.uuid = uuid
        self.flags = flags
        self.descriptors = descriptors
    }
}

public struct BLEService: Sendable, Hashable {
    public var uuid: BluetoothUUID
    public var characteristics: [BLECharacteristic]
    public init(_ uuid: BluetoothUUID, _ characteristics: [BLECharacteristic]) {
        self.uuid = uuid
        self.characteristics = characteristics
    }
}
