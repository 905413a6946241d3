import Glibc

/// Small wrappers over the POSIX calls the transports share. Nothing here traps: every failure is
/// an `errno` value the caller turns into a `TransportError`.
enum POSIX {
    static var errno: Int32 { Glibc.errno }

    /// `strerror` text with the symbolic name for the common codes ("ECONNREFUSED: Connection refused").
    static func describe(_ code: Int32) -> String {
        let text: String
        if let c = strerror(code) { text = String(cString: c) } else { text = "error \(code)" }
        if let name = errnoNames[code] { return "\(name): \(text)" }
        return text
    }

    static let errnoNames: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO", EBADF: "EBADF",
        EAGAIN: "EAGAIN", EACCES: "EACCES", EBUSY: "EBUSY", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR",
        EISDIR: "EISDIR", EINVAL: "EINVAL", ENOTTY: "ENOTTY", EPIPE: "EPIPE", ENOSPC: "ENOSPC",
        EAFNOSUPPORT: "EAFNOSUPPORT", EPROTONOSUPPORT: "EPROTONOSUPPORT", EADDRNOTAVAIL: "EADDRNOTAVAIL",
        ENETUNREACH: "ENETUNREACH", EHOSTUNREACH: "EHOSTUNREACH", ECONNREFUSED: "ECONNREFUSED",
        ECONNRESET: "ECONNRESET", ETIMEDOUT: "ETIMEDOUT", ENOTCONN: "ENOTCONN", ERFKILL: "ERFKILL",
        EALREADY: "EALREADY", EROFS: "EROFS", EMFILE: "EMFILE", ENFILE: "ENFILE",
        ESOCKTNOSUPPORT: "ESOCKTNOSUPPORT", EOPNOTSUPP: "EOPNOTSUPP",
    ]

    /// Milliseconds left until `deadline` (a `MonotonicClock` reading), clamped to `0...Int32.max`.
    static func millisecondsLeft(until deadline: UInt64, now: UInt64) -> Int32 {
        if now >= deadline { return 0 }
        let ms = (deadline - now + 999_999) / 1_000_000
        return ms > UInt64(Int32.max) ? Int32.max : Int32(ms)
    }

    /// Waits until `fd` has one of `events`, or `timeoutMs` passes. Returns the `revents`, 0 on
    /// timeout, or -errno on failure. Retries EINTR within the same time budget.
    static func poll(_ fd: Int32, events: Int16, timeoutMs: Int32) -> Int32 {
        let start = monotonicNanoseconds()
        let deadline = start &+ UInt64(max(timeoutMs, 0)) &* 1_000_000
        var wait = max(timeoutMs, 0)
        while true {
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = Glibc.poll(&p, 1, wait)
            if rc > 0 { return Int32(p.revents) }
            if rc == 0 { return 0 }
            let e = errno
            if e != EINTR { return -e }
            wait = millisecondsLeft(until: deadline, now: monotonicNanoseconds())
        }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(clamping: ts.tv_sec) &* 1_000_000_000 &+ UInt64(clamping: ts.tv_nsec)
    }

    /// Microseconds since the Unix epoch, from the real-time clock.
    static func realtimeMicroseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000 &+ Int64(ts.tv_nsec / 1000)
    }

    /// Sets or clears O_NONBLOCK. Returns 0 or errno.
    static func setNonBlocking(_ fd: Int32, _ on: Bool = true) -> Int32 {
        let flags = fcntl(fd, F_GETFL)
        if flags < 0 { return errno }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags && fcntl(fd, F_SETFL, wanted) < 0 { return errno }
        return 0
    }

    /// Closes `fd`, ignoring EINTR (on Linux the descriptor is released anyway).
    static func closeDescriptor(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }
}
