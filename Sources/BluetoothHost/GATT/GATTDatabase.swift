import BluetoothCore

/// GATT attribute types (Assigned Numbers 3.5, 3.7).
enum GATTType {
    static let primaryService = BluetoothUUID(0x2800)
    static let secondaryService = BluetoothUUID(0x2801)
    static let include = BluetoothUUID(0x2802)
    static let characteristic = BluetoothUUID(0x2803)
    static let cccd = BluetoothUUID(0x2902)
    static let gapService = BluetoothUUID(0x1800)
    static let gattService = BluetoothUUID(0x1801)
    static let deviceName = BluetoothUUID(0x2A00)
    static let appearance = BluetoothUUID(0x2A01)
    static let serviceChanged = BluetoothUUID(0x2A05)
}

/// One attribute of the server's database.
struct GATTAttribute {
    enum Kind: Equatable {
        /// Service and characteristic declarations: fixed values, readable, never writable.
        case declaration
        /// A characteristic value or a descriptor defined by the app, with its flags.
        case value(flags: BLEFlags)
        /// A Client Characteristic Configuration descriptor: per-connection state.
        case cccd
        /// GAP Device Name: serves `gapName`.
        case deviceName
    }
    let handle: UInt16
    let type: BluetoothUUID
    let kind: Kind
    /// Declarations: the fixed value. Values: the stored value.
    var value: [UInt8]
    /// Remote writes are cut to this; a local write grows it.
    var capacity: Int = 20
    var append = false
    /// For a service declaration: the last handle of the service.
    var groupEnd: UInt16 = 0
    /// For a characteristic value: the handle of its CCCD, if it has one.
    var cccdHandle: UInt16?
    /// For a CCCD: the value handle it configures.
    var characteristicValueHandle: UInt16?
}

/// The server's attribute table (Core Vol 3 Part G 3), laid out as API.md says: GAP service, GATT
/// service, then the app's services; per characteristic its declaration, value, automatic CCCD
/// (for notify/indicate) and descriptors.
struct GATTDatabase {
    private(set) var attributes: [GATTAttribute] = []
    /// Handle of the Service Changed value (for indications on re-registration).
    private(set) var serviceChangedHandle: UInt16 = 0

    var lastHandle: UInt16 { UInt16(truncatingIfNeeded: attributes.count) }

    func attribute(_ handle: UInt16) -> GATTAttribute? {
        guard handle >= 1, Int(handle) <= attributes.count else { return nil }
        return attributes[Int(handle) - 1]
    }

    mutating func update(_ handle: UInt16, _ body: (inout GATTAttribute) -> Void) {
        guard handle >= 1, Int(handle) <= attributes.count else { return }
        body(&attributes[Int(handle) - 1])
    }

    init() {}

    /// The GAP and GATT services alone: the database before the app registers its services.
    static var standard: GATTDatabase { (try? GATTDatabase(services: [])) ?? GATTDatabase() }

    /// Builds the table; returns the app's value handles per service, in definition order.
    init(services: [BLEService]) throws {
        let gap = BLEService(GATTType.gapService, [
            BLECharacteristic(GATTType.deviceName, .read),
            BLECharacteristic(GATTType.appearance, .read),
        ])
        let gatt = BLEService(GATTType.gattService, [BLECharacteristic(GATTType.serviceChanged, .indicate)])
        _ = try add(gap, builtin: true)
        let sc = try add(gatt, builtin: true)
        serviceChangedHandle = sc.first ?? 0
        for s in services { handlesPerService.append(try add(s, builtin: false)) }
    }

    private(set) var handlesPerService: [[UInt16]] = []

    private mutating func next() throws -> UInt16 {
        guard attributes.count < 0xFFFF else {
            throw BLEError.noMemory
        }
        return UInt16(attributes.count + 1)
    }

    private mutating func add(_ service: BLEService, builtin: Bool) throws -> [UInt16] {
        let start = try next()
        attributes.append(GATTAttribute(handle: start, type: GATTType.primaryService, kind: .declaration,
                                        value: service.uuid.attBytes))
        var out: [UInt16] = []
        for c in service.characteristics {
            let declHandle = try next()
            let valueHandle = declHandle &+ 1
            let properties = UInt8(truncatingIfNeeded: c.flags.rawValue & 0x7F)
            attributes.append(GATTAttribute(handle: declHandle, type: GATTType.characteristic, kind: .declaration,
                                            value: [properties, UInt8(valueHandle & 0xFF), UInt8(valueHandle >> 8)]
                                                + c.uuid.attBytes))
            _ = try next()
            let kind: GATTAttribute.Kind = builtin && c.uuid == GATTType.deviceName ? .deviceName : .value(flags: c.flags)
            var value = GATTAttribute(handle: valueHandle, type: c.uuid, kind: kind, value: [])
            if builtin && c.uuid == GATTType.appearance { value.value = [0x00, 0x00] }
            attributes.append(value)
            out.append(valueHandle)
            if c.flags.contains(.notify) || c.flags.contains(.indicate) {
                let h = try next()
                attributes.append(GATTAttribute(handle: h, type: GATTType.cccd, kind: .cccd, value: [],
                                                characteristicValueHandle: valueHandle))
                attributes[Int(valueHandle) - 1].cccdHandle = h
            }
            for d in c.descriptors {
                let h = try next()
                attributes.append(GATTAttribute(handle: h, type: d.uuid, kind: .value(flags: d.flags), value: []))
                out.append(h)
            }
        }
        attributes[Int(start) - 1].groupEnd = UInt16(attributes.count)
        return out
    }

    /// The service declarations, for Read By Group Type and Find By Type Value.
    var services: [GATTAttribute] { attributes.filter { $0.type == GATTType.primaryService } }
}
