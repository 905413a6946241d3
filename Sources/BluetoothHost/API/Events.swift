import BluetoothCore

/// An event raised to the `irq` handler (MicroPython's `_IRQ_*`). Every payload is an owned copy.
public enum BLEEvent: Sendable, Equatable {
    case centralConnect(connHandle: UInt16, addrType: AddressType, addr: BluetoothAddress)        // 1
    case centralDisconnect(connHandle: UInt16, addrType: AddressType, addr: BluetoothAddress)     // 2
    case gattsWrite(connHandle: UInt16, attrHandle: UInt16)                                      // 3
    case gattsReadRequest(connHandle: UInt16, attrHandle: UInt16)                                // 4
    case scanResult(addrType: AddressType, addr: BluetoothAddress, advType: AdvType, rssi: Int, advData: [UInt8]) // 5
    case scanDone                                                                                // 6
    case peripheralConnect(connHandle: UInt16, addrType: AddressType, addr: BluetoothAddress)     // 7
    case peripheralDisconnect(connHandle: UInt16, addrType: AddressType, addr: BluetoothAddress)  // 8
    case gattcServiceResult(connHandle: UInt16, startHandle: UInt16, endHandle: UInt16, uuid: BluetoothUUID) // 9
    case gattcServiceDone(connHandle: UInt16, status: Int)                                       // 10
    case gattcCharacteristicResult(connHandle: UInt16, endHandle: UInt16, valueHandle: UInt16,
                                   properties: UInt8, uuid: BluetoothUUID)                       // 11
    case gattcCharacteristicDone(connHandle: UInt16, status: Int)                                // 12
    case gattcDescriptorResult(connHandle: UInt16, dscHandle: UInt16, uuid: BluetoothUUID)       // 13
    case gattcDescriptorDone(connHandle: UInt16, status: Int)                                    // 14
    case gattcReadResult(connHandle: UInt16, valueHandle: UInt16, charData: [UInt8])             // 15
    case gattcReadDone(connHandle: UInt16, valueHandle: UInt16, status: Int)                     // 16
    case gattcWriteDone(connHandle: UInt16, valueHandle: UInt16, status: Int)                    // 17
    case gattcNotify(connHandle: UInt16, valueHandle: UInt16, notifyData: [UInt8])               // 18
    case gattcIndicate(connHandle: UInt16, valueHandle: UInt16, notifyData: [UInt8])             // 19
    case gattsIndicateDone(connHandle: UInt16, valueHandle: UInt16, status: Int)                 // 20
    case mtuExchanged(connHandle: UInt16, mtu: Int)                                              // 21
    case l2capAccept(connHandle: UInt16, cid: UInt16, psm: UInt16, ourMtu: Int, peerMtu: Int)    // 22
    case l2capConnect(connHandle: UInt16, cid: UInt16, psm: UInt16, ourMtu: Int, peerMtu: Int)   // 23
    case l2capDisconnect(connHandle: UInt16, cid: UInt16, psm: UInt16, status: Int)              // 24
    case l2capRecv(connHandle: UInt16, cid: UInt16)                                              // 25
    case l2capSendReady(connHandle: UInt16, cid: UInt16, status: Int)                            // 26
    case connectionUpdate(connHandle: UInt16, connInterval: Int, connLatency: Int,
                          supervisionTimeout: Int, status: Int)                                  // 27
    case encryptionUpdate(connHandle: UInt16, encrypted: Bool, authenticated: Bool, bonded: Bool, keySize: Int) // 28
    case getSecret(secType: Int, index: Int, key: [UInt8]?)                                      // 29
    case setSecret(secType: Int, key: [UInt8], value: [UInt8]?)                                  // 30
    case passkeyAction(connHandle: UInt16, action: BLEPasskeyAction, passkey: Int)               // 31

    /// The `_IRQ_` number.
    public var code: Int {
        switch self {
        case .centralConnect: return 1
        case .centralDisconnect: return 2
        case .gattsWrite: return 3
        case .gattsReadRequest: return 4
        case .scanResult: return 5
        case .scanDone: return 6
        case .peripheralConnect: return 7
        case .peripheralDisconnect: return 8
        case .gattcServiceResult: return 9
        case .gattcServiceDone: return 10
        case .gattcCharacteristicResult: return 11
        case .gattcCharacteristicDone: return 12
        case .gattcDescriptorResult: return 13
        case .gattcDescriptorDone: return 14
        case .gattcReadResult: return 15
        case .gattcReadDone: return 16
        case .gattcWriteDone: return 17
        case .gattcNotify: return 18
        case .gattcIndicate: return 19
        case .gattsIndicateDone: return 20
        case .mtuExchanged: return 21
        case .l2capAccept: return 22
        case .l2capConnect: return 23
        case .l2capDisconnect: return 24
        case .l2capRecv: return 25
        case .l2capSendReady: return 26
        case .connectionUpdate: return 27
        case .encryptionUpdate: return 28
        case .getSecret: return 29
        case .setSecret: return 30
        case .passkeyAction: return 31
        }
    }

    /// MicroPython's constant name, e.g. `_IRQ_CENTRAL_CONNECT`.
    public var name: String { Self.names[code] ?? "_IRQ_UNKNOWN" }

    static let names: [Int: String] = [
        1: "_IRQ_CENTRAL_CONNECT", 2: "_IRQ_CENTRAL_DISCONNECT", 3: "_IRQ_GATTS_WRITE",
        4: "_IRQ_GATTS_READ_REQUEST", 5: "_IRQ_SCAN_RESULT", 6: "_IRQ_SCAN_DONE",
        7: "_IRQ_PERIPHERAL_CONNECT", 8: "_IRQ_PERIPHERAL_DISCONNECT", 9: "_IRQ_GATTC_SERVICE_RESULT",
        10: "_IRQ_GATTC_SERVICE_DONE", 11: "_IRQ_GATTC_CHARACTERISTIC_RESULT", 12: "_IRQ_GATTC_CHARACTERISTIC_DONE",
        13: "_IRQ_GATTC_DESCRIPTOR_RESULT", 14: "_IRQ_GATTC_DESCRIPTOR_DONE", 15: "_IRQ_GATTC_READ_RESULT",
        16: "_IRQ_GATTC_READ_DONE", 17: "_IRQ_GATTC_WRITE_DONE", 18: "_IRQ_GATTC_NOTIFY", 19: "_IRQ_GATTC_INDICATE",
        20: "_IRQ_GATTS_INDICATE_DONE", 21: "_IRQ_MTU_EXCHANGED", 22: "_IRQ_L2CAP_ACCEPT", 23: "_IRQ_L2CAP_CONNECT",
        24: "_IRQ_L2CAP_DISCONNECT", 25: "_IRQ_L2CAP_RECV", 26: "_IRQ_L2CAP_SEND_READY",
        27: "_IRQ_CONNECTION_UPDATE", 28: "_IRQ_ENCRYPTION_UPDATE", 29: "_IRQ_GET_SECRET", 30: "_IRQ_SET_SECRET",
        31: "_IRQ_PASSKEY_ACTION",
    ]
}

/// What an `irq` handler returns for events that ask a question.
public enum BLEIRQResult: Sendable, Equatable {
    /// gattsReadRequest: the ATT error to deny the read with (0 allows); l2capAccept: non-zero rejects.
    case status(Int)
    /// getSecret: the stored value, nil if none.
    case secret([UInt8]?)
    /// setSecret: true once persisted.
    case stored(Bool)
}

public enum BLEPasskeyAction: Int, Sendable, Hashable {
    case noAction = 0
    case input = 2
    case display = 3
    case numericComparison = 4
}

public enum BLEWriteMode: Int, Sendable, Hashable {
    case noResponse = 0
    case withResponse = 1
}

/// Local failure statuses carried by events, as `-errno`.
public enum BLEStatus {
    public static let timedOut = -110
    public static let notConnected = -107
    /// The peer's response broke the protocol (EPROTO): it does not answer the request, a
    /// discovery response does not advance, a prepared write came back changed.
    public static let protocolError = -71
}
