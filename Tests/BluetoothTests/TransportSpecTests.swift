import BluetoothTransport
import Testing

@Suite struct TransportSpecTests {
    static let valid: [(String, TransportSpec)] = [
        ("virtual", .virtual(name: nil)),
        ("virtual:lab", .virtual(name: "lab")),
        ("virtual:radio:2", .virtual(name: "radio:2")),
        ("tcp:127.0.0.1:9001", .tcp(host: "127.0.0.1", port: 9001)),
        ("tcp:localhost:1", .tcp(host: "localhost", port: 1)),
        ("tcp:controller.example:65535", .tcp(host: "controller.example", port: 65_535)),
        ("tcp:[::1]:9002", .tcp(host: "::1", port: 9002)),
        ("serial:/dev/ttyUSB0", .serial(path: "/dev/ttyUSB0", baud: nil)),
        ("serial:/dev/ttyUSB0,1000000", .serial(path: "/dev/ttyUSB0", baud: 1_000_000)),
        ("serial:/tmp/ctrl0,115200", .serial(path: "/tmp/ctrl0", baud: 115_200)),
        ("serial:/dev/pts/3", .serial(path: "/dev/pts/3", baud: nil)),
        ("hci:0", .hci(index: 0)),
        ("hci:12", .hci(index: 12)),
    ]

    @Test(arguments: valid)
    func parsesEveryForm(text: String, expected: TransportSpec) throws {
        let spec = try TransportSpec(parsing: text)
        #expect(spec == expected)
        #expect(spec.description == text)
        #expect(try TransportSpec(parsing: spec.description) == spec)
    }

    @Test func hciAcceptsTheDeviceName() throws {
        #expect(try TransportSpec(parsing: "hci:hci1") == .hci(index: 1))
    }

    static let invalid: [String] = [
        "", "tcp", "tcp:", "tcp:localhost", "tcp:localhost:", "tcp::9001", "tcp:host:0", "tcp:host:65536",
        "tcp:host:-1", "tcp:host:9a", "tcp:host: 9001", "tcp:::1:9001", "tcp:[::1]", "tcp:[::1", "tcp:[]:9001",
        "serial", "serial:", "serial:,115200", "serial:/dev/ttyS0,", "serial:/dev/ttyS0,fast",
        "serial:/dev/ttyS0,12345", "serial:/dev/ttyS0,99999999999",
        "hci", "hci:", "hci:x", "hci:-1", "hci:65535", "hci:0x1",
        "virtual:", "usb:0", "TCP:127.0.0.1:9001", "bogus",
    ]

    @Test(arguments: invalid)
    func rejectsBadForms(text: String) {
        do {
            let spec = try TransportSpec(parsing: text)
            Issue.record("'\(text)' parsed as \(spec)")
        } catch {
            guard case .invalidSpec(let message) = error else {
                Issue.record("expected .invalidSpec for '\(text)', got \(error)")
                return
            }
            #expect(message.contains("accepted forms"), "\(message)")
            #expect(message.contains("tcp:HOST:PORT"))
            #expect(message.contains("serial:PATH,BAUD"))
            #expect(message.contains("hci:N"))
        }
    }

    @Test func unsupportedBaudListsTheSupportedRates() {
        #expect(throws: TransportError.self) { try TransportSpec(parsing: "serial:/dev/ttyS0,12345") }
        do {
            _ = try TransportSpec(parsing: "serial:/dev/ttyS0,12345")
        } catch {
            #expect(error.description.contains("115200"))
            #expect(error.description.contains("4000000"))
        }
    }

    @Test func makesTheMatchingTransport() throws {
        #expect(try TransportSpec(parsing: "virtual").makeTransport() == nil)
        let tcp = try TransportSpec(parsing: "tcp:127.0.0.1:9001").makeTransport()
        #expect(tcp is TCPTransport)
        #expect(tcp?.name == "tcp:127.0.0.1:9001")
        let serial = try TransportSpec(parsing: "serial:/dev/ttyUSB0,115200").makeTransport()
        #expect(serial is SerialTransport)
        #expect(serial?.name == "serial:/dev/ttyUSB0,115200")
        let hci = try TransportSpec(parsing: "hci:1").makeTransport()
        #expect(hci is HCIUserChannelTransport)
        #expect(hci?.name == "hci:1")
    }
}
