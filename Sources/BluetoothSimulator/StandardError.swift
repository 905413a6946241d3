#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Unbuffered writes to file descriptor 2, without touching C's global `stderr`.
enum FileHandleStderr {
    static func write(_ string: String) {
        var s = string
        s.withUTF8 { buf in
            guard let base = buf.baseAddress else { return }
            var offset = 0
            while offset < buf.count {
                #if canImport(Glibc)
                let n = Glibc.write(2, base + offset, buf.count - offset)
                #elseif canImport(Musl)
                let n = Musl.write(2, base + offset, buf.count - offset)
                #else
                let n = Darwin.write(2, base + offset, buf.count - offset)
                #endif
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
