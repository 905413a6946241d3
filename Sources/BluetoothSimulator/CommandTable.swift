import BluetoothCore

/// The commands the virtual controller implements: the single source of both the dispatcher's
/// "known" test and the Supported_Commands bitmap (Core Vol 4 Part E 6.27), so the bitmap is exact.
enum CommandTable {
    enum Family {
        /// Always available.
        case base
        /// Only with `extendedAdvertising`.
        case extended
        /// LE Read Buffer Size v2: not with `.v1only`.
        case bufferSizeV2
    }

    struct Entry {
        var octet: Int
        var bit: Int
        var family: Family
        /// Answered with Command Status (then a later event) instead of Command Complete.
        var usesStatus: Bool
        /// Advertising, scanning or initiating command of one family: mixing families is
        /// disallowed until reset (Core Vol 4 Part E 3.1.1).
        var mode: CommandMode
    }

    static let entries: [UInt16: Entry] = {
        var t: [UInt16: Entry] = [:]
        func add(_ opcode: UInt16, _ octet: Int, _ bit: Int, _ family: Family = .base, status: Bool = false,
                 mode: CommandMode = .unset) {
            t[opcode] = Entry(octet: octet, bit: bit, family: family, usesStatus: status, mode: mode)
        }
        add(0x0406, 0, 5, status: true)              // Disconnect
        add(0x041D, 2, 7, status: true)              // Read Remote Version Information
        add(0x0C01, 5, 6)                            // Set Event Mask
        add(0x0C03, 5, 7)                            // Reset
        add(0x1001, 14, 3)                           // Read Local Version Information
        add(0x1002, 14, 4)                           // Read Local Supported Commands
        add(0x1003, 14, 5)                           // Read Local Supported Features
        add(0x1005, 14, 7)                           // Read Buffer Size
        add(0x1009, 15, 1)                           // Read BD_ADDR
        add(0x1405, 15, 5)                           // Read RSSI
        add(0x2001, 25, 0)                           // LE Set Event Mask
        add(0x2002, 25, 1)                           // LE Read Buffer Size [v1]
        add(0x2003, 25, 2)                           // LE Read Local Supported Features
        add(0x2005, 25, 4)                           // LE Set Random Address
        add(0x2006, 25, 5, mode: .legacy)            // LE Set Advertising Parameters
        add(0x2007, 25, 6, mode: .legacy)            // LE Read Advertising Physical Channel Tx Power
        add(0x2008, 25, 7, mode: .legacy)            // LE Set Advertising Data
        add(0x2009, 26, 0, mode: .legacy)            // LE Set Scan Response Data
        add(0x200A, 26, 1, mode: .legacy)            // LE Set Advertising Enable
        add(0x200B, 26, 2, mode: .legacy)            // LE Set Scan Parameters
        add(0x200C, 26, 3, mode: .legacy)            // LE Set Scan Enable
        add(0x200D, 26, 4, status: true, mode: .legacy) // LE Create Connection
        add(0x200E, 26, 5)                           // LE Create Connection Cancel
        add(0x200F, 26, 6)                           // LE Read Filter Accept List Size
        add(0x2010, 26, 7)                           // LE Clear Filter Accept List
        add(0x2011, 27, 0)                           // LE Add Device To Filter Accept List
        add(0x2012, 27, 1)                           // LE Remove Device From Filter Accept List
        add(0x2013, 27, 2, status: true)             // LE Connection Update
        add(0x2016, 27, 5, status: true)             // LE Read Remote Features
        add(0x2017, 27, 6)                           // LE Encrypt
        add(0x2018, 27, 7)                           // LE Rand
        add(0x2019, 28, 0, status: true)             // LE Enable Encryption
        add(0x201A, 28, 1)                           // LE Long Term Key Request Reply
        add(0x201B, 28, 2)                           // LE Long Term Key Request Negative Reply
        add(0x201C, 28, 3)                           // LE Read Supported States
        add(0x2020, 33, 4)                           // LE Remote Connection Parameter Request Reply
        add(0x2021, 33, 5)                           // LE Remote Connection Parameter Request Negative Reply
        add(0x2022, 33, 6)                           // LE Set Data Length
        add(0x2023, 33, 7)                           // LE Read Suggested Default Data Length
        add(0x2024, 34, 0)                           // LE Write Suggested Default Data Length
        add(0x202F, 35, 3)                           // LE Read Maximum Data Length
        add(0x2035, 36, 1, .extended, mode: .extended) // LE Set Advertising Set Random Address
        add(0x2036, 36, 2, .extended, mode: .extended) // LE Set Extended Advertising Parameters
        add(0x2037, 36, 3, .extended, mode: .extended) // LE Set Extended Advertising Data
        add(0x2038, 36, 4, .extended, mode: .extended) // LE Set Extended Scan Response Data
        add(0x2039, 36, 5, .extended, mode: .extended) // LE Set Extended Advertising Enable
        add(0x203A, 36, 6, .extended, mode: .extended) // LE Read Maximum Advertising Data Length
        add(0x203B, 36, 7, .extended, mode: .extended) // LE Read Number of Supported Advertising Sets
        add(0x203C, 37, 0, .extended, mode: .extended) // LE Remove Advertising Set
        add(0x203D, 37, 1, .extended, mode: .extended) // LE Clear Advertising Sets
        add(0x2041, 37, 5, .extended, mode: .extended) // LE Set Extended Scan Parameters
        add(0x2042, 37, 6, .extended, mode: .extended) // LE Set Extended Scan Enable
        add(0x2043, 37, 7, .extended, status: true, mode: .extended) // LE Extended Create Connection
        add(0x2060, 41, 5, .bufferSizeV2)            // LE Read Buffer Size [v2]
        return t
    }()

    static func entry(_ opcode: UInt16, _ configuration: VirtualController.Configuration) -> Entry? {
        guard let e = entries[opcode] else { return nil }
        switch e.family {
        case .base: return e
        case .extended: return configuration.extendedAdvertising ? e : nil
        case .bufferSizeV2: return configuration.leBufferSize == .v1only ? nil : e
        }
    }

    /// The 64-octet Supported_Commands bitmap for a configuration.
    static func bitmap(_ configuration: VirtualController.Configuration) -> SupportedCommands {
        var s = SupportedCommands(bitmap: [UInt8](repeating: 0, count: 64))
        for (opcode, e) in entries where entry(opcode, configuration) != nil {
            s.insert(octet: e.octet, bit: e.bit)
        }
        return s
    }
}
