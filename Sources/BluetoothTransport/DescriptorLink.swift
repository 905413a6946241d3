import BluetoothCore
import Dispatch
import Glibc
import Synchronization

/// One open file descriptor that carries H4 packets (a TCP socket, a tty or pty, an HCI user
/// channel socket) with its reader thread. Shared by every POSIX transport.
///
/// Lifetime rules:
/// - the reader thread owns the descriptor and closes it when it exits, under the write lock,
///   so `send` never writes to a closed (or reused) descriptor;
/// - `didClose` is called only from the reader thread, after the last `didReceive`, at most once,
///   and never after a local `close()`;
/// - `close()` wakes the reader and waits (bounded) for it to exit, unless it is called from the
///   reader thread itself (from inside a delegate callback).
final class DescriptorLink: Sendable {
    struct Options: Sendable {
        /// Use `send(MSG_NOSIGNAL)` instead of `write`, so a dead peer gives EPIPE, not SIGPIPE.
        var isSocket: Bool
        /// Each write must carry exactly one packet (HCI user channel): a short write is an error.
        var packetPerWrite: Bool
        /// How long `send` may wait for the descriptor to accept data.
        var writeTimeoutMs: Int32 = 5_000
        /// How long a local `close()` waits for the reader thread to finish.
        var closeWaitMs: Int = 2_000
    }

    private struct State: Sendable {
        var delegate: HCITransportDelegate?
        /// The first failure seen by `send`; the reader reports it through `didClose`.
        var failure: TransportError?
        var readerThread: pthread_t?
        var started = false
        var finished = false
    }

    private struct WriteState: Sendable {
        var open = true
        /// Reused for every packet: the H4 indicator followed by the packet bytes.
        var buffer: [UInt8] = []
    }

    let name: String
    let fd: Int32
    /// A pipe whose read end the reader polls next to `fd`; a byte written to it wakes the reader.
    private let wakeReadFD: Int32
    private let wakeWriteFD: Int32
    private let options: Options
    private let state = Mutex(State())
    private let writer = Mutex(WriteState())
    /// True until `fd` and the wake-up pipe are closed. Lock order: `writer`, then `descriptorsOpen`.
    private let descriptorsOpen = Mutex(true)
    /// Set by a local close; checked before every delivery.
    private let stopping = Atomic<Bool>(false)
    private let running = DispatchGroup()

    /// Takes ownership of `fd` (it is closed by the link, even when `start` fails).
    init(name: String, fd: Int32, options: Options) throws(TransportError) {
        self.name = name
        self.fd = fd
        self.options = options
        var pipeEnds: (Int32, Int32) = (-1, -1)
        let rc = withUnsafeMutableBytes(of: &pipeEnds) { raw -> Int32 in
            guard let ends = raw.baseAddress?.assumingMemoryBound(to: Int32.self) else { return -1 }
            return pipe(ends)
        }
        if rc != 0 {
            let e = POSIX.errno
            POSIX.closeDescriptor(fd)
            throw .openFailed("\(name): cannot create the reader's wake-up pipe (\(POSIX.describe(e)))")
        }
        wakeReadFD = pipeEnds.0
        wakeWriteFD = pipeEnds.1
        for end in [pipeEnds.0, pipeEnds.1] {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = POSIX.setNonBlocking(end)
        }
        let nb = POSIX.setNonBlocking(fd)
        if nb != 0 {
            POSIX.closeDescriptor(fd)
            POSIX.closeDescriptor(pipeEnds.0)
            POSIX.closeDescriptor(pipeEnds.1)
            throw .openFailed("\(name): cannot make the descriptor non-blocking (\(POSIX.describe(nb)))")
        }
        writer.withLock { $0.buffer.reserveCapacity(1024) }
    }

    /// Starts the reader thread, which delivers to `delegate` until the link closes.
    func start(delegate: HCITransportDelegate) throws(TransportError) {
        state.withLock {
            $0.delegate = delegate
            $0.started = true
        }
        running.enter()
        let rc = startDetachedThread(name: "hci-rx \(name)") { [self] in
            self.readLoop()
        }
        if rc != 0 {
            running.leave()
            state.withLock {
                $0.delegate = nil
                $0.finished = true
            }
            releaseDescriptors()
            throw .openFailed("\(name): cannot start the reader thread (\(POSIX.describe(rc)))")
        }
    }

    /// True once the link is closed locally or the reader has finished.
    var isClosed: Bool {
        stopping.load(ordering: .acquiring) || state.withLock { $0.finished }
    }

    // MARK: Sending

    func send(_ packet: HCIPacket) {
        let failure: TransportError? = writer.withLock { w in
            guard w.open, !stopping.load(ordering: .acquiring) else { return nil }
            w.buffer.removeAll(keepingCapacity: true)
            w.buffer.append(packet.type.rawValue)
            w.buffer.append(contentsOf: packet.bytes)
            let error = w.buffer.withUnsafeBytes { writeAll($0) }
            // After a failed write the stream may hold half a packet: send nothing more.
            if error != nil { w.open = false }
            return error
        }
        if let failure {
            state.withLock { if $0.failure == nil { $0.failure = failure } }
            wake()
        }
    }

    /// Writes all of `bytes`, retrying EINTR and short writes, waiting at most the write timeout
    /// for the descriptor to accept more. Returns the error that ends the link, if any.
    private func writeAll(_ bytes: UnsafeRawBufferPointer) -> TransportError? {
        guard let base = bytes.baseAddress else { return nil }
        let total = bytes.count
        var done = 0
        let deadline = POSIX.monotonicNanoseconds() &+ UInt64(max(options.writeTimeoutMs, 0)) &* 1_000_000
        while done < total {
            let n: Int
            if options.isSocket {
                n = Glibc.send(fd, base + done, total - done, Int32(MSG_NOSIGNAL))
            } else {
                n = Glibc.write(fd, base + done, total - done)
            }
            if n > 0 {
                if options.packetPerWrite && n != total {
                    return .closed("\(name): the kernel accepted only \(n) of \(total) bytes of one packet")
                }
                done += n
                continue
            }
            let e = n < 0 ? POSIX.errno : EAGAIN
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK {
                let left = POSIX.millisecondsLeft(until: deadline, now: POSIX.monotonicNanoseconds())
                if left == 0 {
                    return .closed("\(name): the controller accepted no data for \(options.writeTimeoutMs) ms "
                                   + "(write timed out); is it still running and reading?")
                }
                // Short slices, so a local close does not wait for the whole write timeout.
                if stopping.load(ordering: .acquiring) { return nil }
                let r = POSIX.poll(fd, events: Int16(POLLOUT), timeoutMs: min(left, 100))
                if r < 0 { return .closed("\(name): waiting to write failed (\(POSIX.describe(-r)))") }
                continue
            }
            return .closed("\(name): write failed (\(POSIX.describe(e)))")
        }
        return nil
    }

    // MARK: Closing

    /// Local close: stops delivery, wakes the reader and waits (bounded) for it to exit.
    /// Idempotent. `didClose` is not called.
    func close() {
        let first = !stopping.exchange(true, ordering: .acquiringAndReleasing)
        let (started, onReader) = state.withLock { s -> (Bool, Bool) in
            let onReader = s.readerThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
            return (s.started && !s.finished, onReader)
        }
        guard first else { return }
        if !started {
            releaseDescriptors()
            return
        }
        if options.isSocket {
            // Makes a blocked peer-facing call return at once; the reader closes the descriptor.
            descriptorsOpen.withLock { open in if open { _ = shutdown(fd, Int32(SHUT_RDWR)) } }
        }
        wake()
        if !onReader {
            _ = running.wait(timeout: .now() + .milliseconds(options.closeWaitMs))
        }
    }

    /// Wakes the reader's poll. The descriptors lock guarantees the pipe is still ours.
    private func wake() {
        descriptorsOpen.withLock { open in
            guard open else { return }
            var one: UInt8 = 1
            // A full pipe already holds a wake-up, so EAGAIN is fine.
            _ = Glibc.write(wakeWriteFD, &one, 1)
        }
    }

    /// Closes both descriptors once. Takes the write lock first, so no `send` is using `fd`.
    private func releaseDescriptors() {
        writer.withLock { w in
            w.open = false
            descriptorsOpen.withLock { open in
                guard open else { return }
                open = false
                POSIX.closeDescriptor(fd)
                POSIX.closeDescriptor(wakeReadFD)
                POSIX.closeDescriptor(wakeWriteFD)
            }
        }
    }

    // MARK: Reading

    /// Big enough for the largest H4 packet (ACL: 1 + 4 + 65535 bytes), so one read of the HCI
    /// user channel, which returns one packet per read, is never cut.
    static let readBufferSize = 1 + 4 + 65_535 + 27

    private func readLoop() {
        let delegate: HCITransportDelegate? = state.withLock { s in
            s.readerThread = pthread_self()
            return s.delegate
        }
        var parser = H4Parser()
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Self.readBufferSize)
        defer { buffer.deallocate() }
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeReadFD, events: Int16(POLLIN), revents: 0)]
        var endError: TransportError?

        loop: while true {
            if stopping.load(ordering: .acquiring) { break }
            if state.withLock({ $0.failure != nil }) { break }
            fds[0].revents = 0
            fds[1].revents = 0
            // Poll with a timeout so the loop re-checks its flags even if a wake-up were lost.
            let rc = poll(&fds, 2, 1_000)
            if rc < 0 {
                let e = POSIX.errno
                if e == EINTR { continue }
                endError = .closed("\(name): poll failed (\(POSIX.describe(e)))")
                break
            }
            if rc == 0 { continue }
            if fds[1].revents != 0 {
                var drain: (UInt64, UInt64) = (0, 0)
                _ = withUnsafeMutableBytes(of: &drain) { Glibc.read(wakeReadFD, $0.baseAddress, $0.count) }
                continue
            }
            let revents = Int32(fds[0].revents)
            if revents & Int32(POLLNVAL) != 0 {
                endError = .closed("\(name): the descriptor became invalid")
                break
            }
            guard revents & Int32(POLLIN | POLLHUP | POLLERR) != 0 else { continue }
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                do throws(TransportError) {
                    try parser.feed(UnsafeBufferPointer(rebasing: buffer[0..<n])) { packet in
                        guard !stopping.load(ordering: .acquiring) else { return }
                        delegate?.transport(didReceive: packet)
                    }
                } catch {
                    endError = .framing("\(name): \(Self.detail(of: error))")
                    break loop
                }
            } else if n == 0 {
                endError = .closed("\(name): the controller closed the connection (end of stream)")
                break
            } else {
                let e = POSIX.errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK {
                    if revents & Int32(POLLHUP | POLLERR) != 0 {
                        endError = .closed("\(name): the other end hung up")
                        break
                    }
                    continue
                }
                if e == EIO {
                    endError = .closed("\(name): read failed (\(POSIX.describe(e))); for a pty this means "
                                       + "the controller side closed it")
                } else {
                    endError = .closed("\(name): read failed (\(POSIX.describe(e)))")
                }
                break
            }
        }
        finish(endError, delegate: delegate)
    }

    private func finish(_ endError: TransportError?, delegate: HCITransportDelegate?) {
        let report: TransportError? = state.withLock { s in
            s.finished = true
            s.delegate = nil
            if stopping.load(ordering: .acquiring) { return nil }
            return s.failure ?? endError ?? .closed("\(name): closed")
        }
        releaseDescriptors()
        if let report { delegate?.transport(didClose: report) }
        running.leave()
    }

    private static func detail(of error: TransportError) -> String {
        switch error {
        case .invalidSpec(let s), .openFailed(let s), .closed(let s), .framing(let s), .unavailable(let s):
            return s
        }
    }
}
