import BluetoothCore
import BluetoothTransport
import Foundation
import Glibc

/// Collects what a transport delivers and lets a test wait, with a timeout, until a condition holds.
final class TransportTestCollector: HCITransportDelegate, @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var packets: [HCIPacket] = []
    private var closes: [TransportError?] = []

    func transport(didReceive packet: HCIPacket) {
        condition.lock()
        packets.append(packet)
        condition.broadcast()
        condition.unlock()
    }

    func transport(didClose error: TransportError?) {
        condition.lock()
        closes.append(error)
        condition.broadcast()
        condition.unlock()
    }

    var received: [HCIPacket] {
        condition.lock()
        defer { condition.unlock() }
        return packets
    }

    var closeEvents: [TransportError?] {
        condition.lock()
        defer { condition.unlock() }
        return closes
    }

    /// Waits until `predicate(packets, closes)` holds; false if `timeout` seconds pass first.
    func wait(timeout: TimeInterval = 5, until predicate: ([HCIPacket], [TransportError?]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(packets, closes) {
            if !condition.wait(until: deadline) { return predicate(packets, closes) }
        }
        return true
    }

    func waitForPackets(_ count: Int, timeout: TimeInterval = 5) -> Bool {
        wait(timeout: timeout) { p, _ in p.count >= count }
    }

    func waitForClose(timeout: TimeInterval = 5) -> Bool {
        wait(timeout: timeout) { _, c in !c.isEmpty }
    }
}

/// A one-shot flag a test thread can wait on with a timeout.
final class TransportTestSignal: @unchecked Sendable {
    // @unchecked: `fired` is guarded by `condition`.
    private let condition = NSCondition()
    private var fired = false

    func fire() {
        condition.lock()
        fired = true
        condition.broadcast()
        condition.unlock()
    }

    func wait(timeout: TimeInterval = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !fired {
            if !condition.wait(until: deadline) { return fired }
        }
        return true
    }
}

enum TransportTestIO {
    /// A TCP listener on 127.0.0.1 on a port the kernel chooses: (descriptor, port), or nil.
    static func listenOnLoopback(backlog: Int32 = 4) -> (fd: Int32, port: UInt16)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard bound == 0, listen(fd, backlog) == 0, named == 0 else {
            close(fd)
            return nil
        }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    static var errno: Int32 { Glibc.errno }

    /// Writes all of `bytes` to a socket or a pty master within `timeout` seconds. Sockets use
    /// MSG_NOSIGNAL, so a closed peer cannot raise SIGPIPE.
    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], timeout: TimeInterval = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var useSend = true
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                if useSend { return Glibc.send(fd, base + done, raw.count - done, Int32(MSG_NOSIGNAL)) }
                return Glibc.write(fd, base + done, raw.count - done)
            }
            if n > 0 {
                done += n
                continue
            }
            let e = n < 0 ? errno : EAGAIN
            if e == ENOTSOCK && useSend {
                useSend = false
                continue
            }
            if e == EINTR { continue }
            if e == EAGAIN && Date() < deadline {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 100)
                continue
            }
            return false
        }
        return true
    }

    /// Reads until `count` bytes arrived or `timeout` seconds passed; returns what arrived.
    static func read(_ fd: Int32, count: Int, timeout: TimeInterval = 5) -> [UInt8] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while out.count < count {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { break }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let rc = poll(&p, 1, Int32(min(left * 1000, 1000)) + 1)
            if rc < 0 && errno == EINTR { continue }
            if rc <= 0 { continue }
            let want = min(buffer.count, count - out.count)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, want) }
            if n > 0 {
                out.append(contentsOf: buffer[0..<n])
            } else if n == 0 {
                break
            } else if errno != EINTR && errno != EAGAIN {
                break
            }
        }
        return out
    }

    /// A new pty pair: the master descriptor and the replica's path (`/dev/pts/N`). Done by hand
    /// (/dev/ptmx, TIOCSPTLCK, TIOCGPTN) because openpty and posix_openpt do not import into Swift.
    static func openPTY() -> (master: Int32, replica: String)? {
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { return nil }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        let tiocsptlck: UInt = 0x4004_5431
        let tiocgptn: UInt = 0x8004_5430
        guard ioctl(master, tiocsptlck, &unlock) == 0, ioctl(master, tiocgptn, &number) == 0 else {
            close(master)
            return nil
        }
        return (master, "/dev/pts/\(number)")
    }
}

/// A fake controller behind a TCP listener on 127.0.0.1 (port chosen by the kernel). It accepts
/// one host, parses its H4 stream, answers HCI_Reset with Command Complete and records every
/// packet. The test can push bytes to the host or drop the connection.
final class TransportFakeController: @unchecked Sendable {
    // @unchecked: mutable fields are guarded by `condition`; `listenFD` is closed only by the
    // server thread at its end.
    let port: UInt16
    private let listenFD: Int32
    private let condition = NSCondition()
    private var clientFD: Int32 = -1
    private var packets: [HCIPacket] = []
    private var stopped = false
    private var finished = false
    /// Answer HCI_Reset automatically.
    let answersReset: Bool
    /// Bytes sent as soon as a host connects.
    let greeting: [UInt8]

    init?(answersReset: Bool = true, greeting: [UInt8] = []) {
        self.answersReset = answersReset
        self.greeting = greeting
        guard let (fd, port) = TransportTestIO.listenOnLoopback() else { return nil }
        listenFD = fd
        self.port = port
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    var received: [HCIPacket] {
        condition.lock()
        defer { condition.unlock() }
        return packets
    }

    func waitForPackets(_ count: Int, timeout: TimeInterval = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while packets.count < count {
            if !condition.wait(until: deadline) { return packets.count >= count }
        }
        return true
    }

    /// Sends raw bytes to the connected host (waits up to `timeout` for it to connect).
    @discardableResult
    func sendToHost(_ bytes: [UInt8], timeout: TimeInterval = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while clientFD < 0 && !finished {
            if !condition.wait(until: deadline) { break }
        }
        guard clientFD >= 0 else { return false }
        return TransportTestIO.writeAll(clientFD, bytes)
    }

    /// Drops the host's connection (FIN), as a controller that quits would.
    func disconnectHost(timeout: TimeInterval = 5) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while clientFD < 0 && !finished {
            if !condition.wait(until: deadline) { break }
        }
        if clientFD >= 0 { shutdown(clientFD, Int32(SHUT_RDWR)) }
    }

    /// Stops the server thread and waits (bounded) for it to finish.
    func stop() {
        condition.lock()
        stopped = true
        if clientFD >= 0 { shutdown(clientFD, Int32(SHUT_RDWR)) }
        let deadline = Date(timeIntervalSinceNow: 5)
        while !finished {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }

    private var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    private func serve() {
        defer {
            close(listenFD)
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        // Accept one host within 10 s.
        var client: Int32 = -1
        let acceptDeadline = Date(timeIntervalSinceNow: 10)
        while client < 0 && !isStopped && Date() < acceptDeadline {
            var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) > 0 { client = accept(listenFD, nil, nil) }
        }
        guard client >= 0 else { return }
        condition.lock()
        clientFD = client
        condition.broadcast()
        condition.unlock()
        defer {
            condition.lock()
            clientFD = -1
            condition.unlock()
            close(client)
        }
        if !greeting.isEmpty { TransportTestIO.writeAll(client, greeting) }

        var parser = H4Parser()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !isStopped {
            var p = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let rc = poll(&p, 1, 100)
            if rc <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(client, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            guard let got = try? parser.feed(buffer[0..<n]) else { return }
            for packet in got {
                condition.lock()
                packets.append(packet)
                condition.broadcast()
                condition.unlock()
                if answersReset && packet == HCIPacket(.command, [0x03, 0x0C, 0x00]) {
                    TransportTestIO.writeAll(client, [0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00])
                }
            }
        }
    }
}

/// An in-memory transport for wrapper tests: records what is sent and lets the test inject
/// packets as if the controller had sent them.
final class TransportLoopbackDouble: HCITransport, @unchecked Sendable {
    // @unchecked: fields are guarded by `lock`.
    private let lock = NSLock()
    private var delegate: HCITransportDelegate?
    private var sentPackets: [HCIPacket] = []
    private(set) var closeCount = 0
    let name = "loopback"

    func open(delegate: HCITransportDelegate) throws {
        lock.withLock { self.delegate = delegate }
    }

    func send(_ packet: HCIPacket) {
        lock.withLock { sentPackets.append(packet) }
    }

    func close() {
        lock.withLock {
            closeCount += 1
            delegate = nil
        }
    }

    var sent: [HCIPacket] { lock.withLock { sentPackets } }

    func inject(_ packet: HCIPacket) {
        let d = lock.withLock { delegate }
        d?.transport(didReceive: packet)
    }

    func injectClose(_ error: TransportError?) {
        let d = lock.withLock { delegate }
        d?.transport(didClose: error)
    }
}

/// A fresh temporary folder for one test.
func transportTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("transport-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
