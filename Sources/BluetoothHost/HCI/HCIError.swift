import BluetoothCore

/// Why an HCI command did not succeed.
enum HCIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The controller answered with a non-zero status.
    case status(HCIStatus, HCIOpcode)
    /// The controller never answered within the command timeout.
    case timeout(HCIOpcode, seconds: Double)
    /// The controller granted no command credit (Num_HCI_Command_Packets) within the command timeout.
    case noCredit(HCIOpcode, seconds: Double)
    /// The answer could not be parsed.
    case malformed(HCIOpcode, String)
    /// The transport closed or the stack was deactivated before the answer came.
    case aborted(HCIOpcode, String)

    var description: String {
        switch self {
        case let .status(s, op): return "\(op) failed: \(s)"
        case let .timeout(op, secs):
            return "the controller did not answer \(op) within \(secs) s; check that it is powered and that nothing else drives it"
        case let .noCredit(op, secs):
            return "the controller accepted no command for \(secs) s (Num_HCI_Command_Packets stayed 0), so \(op) was never sent"
        case let .malformed(op, why): return "malformed answer to \(op): \(why)"
        case let .aborted(op, why): return "\(op) aborted: \(why)"
        }
    }

    var bleError: BLEError {
        switch self {
        case let .status(s, op): return .controller(command: HCI.commandNames[op.rawValue] ?? op.description, status: s.rawValue)
        case .timeout, .noCredit: return .timedOut
        case .malformed, .aborted: return .io(description)
        }
    }
}
