import BluetoothCore

/// The errors of the public API. Each carries the Linux errno MicroPython would raise and a
/// message a person can act on.
public enum BLEError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The radio is not active: call `active(true)` first (ENODEV).
    case notActive
    case invalidArgument(String)
    /// No such connection (ENOTCONN).
    case notConnected
    /// The same operation is already running (EALREADY).
    case alreadyInProgress
    /// The stack cannot do this now (EBUSY).
    case busy
    case noMemory
    /// Data is larger than allowed (E2BIG).
    case tooBig
    /// The controller or the peer did not answer in time (ETIMEDOUT).
    case timedOut
    /// Not supported by this stack or controller (EOPNOTSUPP).
    case notSupported
    /// Transport or controller failure (EIO).
    case io(String)
    /// The controller refused a command: the HCI status says why (EIO).
    case controller(command: String, status: UInt8)

    public var errno: Int32 {
        switch self {
        case .notActive: return 19          // ENODEV
        case .invalidArgument: return 22    // EINVAL
        case .notConnected: return 107      // ENOTCONN
        case .alreadyInProgress: return 114 // EALREADY
        case .busy: return 16               // EBUSY
        case .noMemory: return 12           // ENOMEM
        case .tooBig: return 7              // E2BIG
        case .timedOut: return 110          // ETIMEDOUT
        case .notSupported: return 95       // EOPNOTSUPP
        case .io, .controller: return 5     // EIO
        }
    }

    public var description: String {
        switch self {
        case .notActive: return "Bluetooth is not active: call active(true) first (ENODEV)"
        case .invalidArgument(let why): return "invalid argument: \(why) (EINVAL)"
        case .notConnected: return "not connected: no connection with that handle (ENOTCONN)"
        case .alreadyInProgress: return "already in progress: wait for the running operation to finish or stop it (EALREADY)"
        case .busy: return "busy: the stack cannot do this in its current state (EBUSY)"
        case .noMemory: return "out of memory or controller resources (ENOMEM)"
        case .tooBig: return "data too big (E2BIG)"
        case .timedOut: return "timed out waiting for the controller or the peer (ETIMEDOUT)"
        case .notSupported: return "not supported by this stack or controller yet (EOPNOTSUPP)"
        case .io(let why): return "I/O error: \(why) (EIO)"
        case let .controller(command, status):
            return "the controller refused \(command): \(HCIStatus(status)) (EIO)"
        }
    }
}
