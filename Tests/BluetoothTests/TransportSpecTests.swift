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
        "tcp:[[x]:1", "tcp:[[::1]:9001",
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

/// Seeded random transport strings, and mutations of valid ones: each either parses to a spec
/// whose description parses back to the same spec, or throws `.invalidSpec`.
@Suite struct TransportSpecFuzzTests {
    static let alphabet: [Character] = Array("virtualtcpserialhciVT:[]/,.-_ 0123456789xX@%\t") + ["é", "\u{301}", "🙂", "\n"]
    static let seeds = TransportSpecTests.valid.map(\.0) + ["hci:hci1", "tcp:[fe80::1%eth0]:65535", "serial:/dev/tty,S0,9600"]

    /// A string shaped like one of the forms, from pieces that are often nearly right.
    static func assembled(_ g: inout CodecSeededGenerator) -> String {
        func some(_ pieces: [String], _ max: Int, _ g: inout CodecSeededGenerator) -> String {
            (0..<Int.random(in: 0...max, using: &g)).map { _ in g.pick(pieces) }.joined()
        }
        switch Int.random(in: 0..<5, using: &g) {
        case 0:
            let host = some(["[", "]", ":", "x", "::1", "a.b", " ", "%eth0"], 3, &g)
            let bracketed = Bool.random(using: &g) ? "[" + host + "]" : host
            return "tcp:" + bracketed + g.pick([":", "", "::"]) + g.pick(["1", "9001", "0", "65535", "65536", "", "x", "09001"])
        case 1:
            return "serial:" + some(["/dev/tty", ",", "S0", ":", " ", "é"], 3, &g)
                + g.pick(["", ",", ",115200", ",9600", ",12345", ",0", ",x"])
        case 2:
            return "hci:" + g.pick(["0", "1", "hci1", "hci", "65534", "65535", "-1", "", " 1", "0x1", "hcihci1"])
        case 3:
            return g.pick(["virtual", "virtual:", "virtual::"]) + some(["lab", ":", "radio", " ", "é"], 3, &g)
        default:
            return g.pick(["usb", "TCP", "", "tcp ", "virtual "]) + g.pick(["", ":", ":0"])
        }
    }

    static func mutate(_ text: String, _ g: inout CodecSeededGenerator) -> String {
        var chars = Array(text)
        for _ in 0..<Int.random(in: 1...3, using: &g) {
            let at = Int.random(in: 0...chars.count, using: &g)
            switch Int.random(in: 0..<4, using: &g) {
            case 0: chars.insert(g.pick(alphabet), at: at)
            case 1: if at < chars.count { chars.remove(at: at) }
            case 2: if at < chars.count { chars[at] = g.pick(alphabet) }
            default: if at < chars.count { chars.insert(chars[at], at: at) }
            }
        }
        return String(chars)
    }

    @Test func randomStringsRoundTripOrThrowInvalidSpec() {
        let seed: UInt64 = 0x5_9EC
        var g = CodecSeededGenerator(seed: seed)
        var failures = FuzzFailures(seed: seed)
        var parsed = 0, rejected = 0
        for iteration in 0..<20_000 {
            let text: String
            switch Int.random(in: 0..<3, using: &g) {
            case 0: text = Self.mutate(g.pick(Self.seeds), &g)
            case 1: text = Self.assembled(&g)
            default: text = String((0..<Int.random(in: 0...20, using: &g)).map { _ in g.pick(Self.alphabet) })
            }
            let input = "\"\(text.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())\""
            do {
                let spec = try TransportSpec(parsing: text)
                parsed += 1
                do {
                    let again = try TransportSpec(parsing: spec.description)
                    if again != spec {
                        failures.record("parsed as \(spec); its description \"\(spec.description)\" parses as \(again)",
                                        iteration: iteration, inputText: input)
                    }
                } catch {
                    failures.record("parsed as \(spec); its description \"\(spec.description)\" does not parse: \(error)",
                                    iteration: iteration, inputText: input)
                }
            } catch {
                rejected += 1
                guard case .invalidSpec(let message) = error, message.contains("accepted forms") else {
                    failures.record("expected .invalidSpec naming the accepted forms, got \(error)", iteration: iteration, inputText: input)
                    continue
                }
            }
        }
        failures.finish()
        #expect(failures.count == 0)
        #expect(parsed > 2_000)
        #expect(rejected > 2_000)
    }
}
