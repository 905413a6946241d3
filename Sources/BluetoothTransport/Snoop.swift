import Glibc

/// Where btsnoop captures go: the environment variable `BLE_SNOOP` names the file.
public enum Snoop {
    public static let environmentVariable = "BLE_SNOOP"

    /// The capture path of device `index` for a `BLE_SNOOP` template: every `%d` becomes the
    /// index; without `%d`, device 0 uses the path as is and device N > 0 gets `-N` before the
    /// extension (`cap.btsnoop` -> `cap-1.btsnoop`, `cap` -> `cap-1`).
    public static func path(forDevice index: Int, template: String) -> String {
        if template.contains("%d") {
            return template.replacing("%d", with: String(index))
        }
        if index == 0 { return template }
        // The extension is the last '.' of the file name (not of a folder), and not a leading dot.
        let nameStart = template.lastIndex(of: "/").map { template.index(after: $0) } ?? template.startIndex
        let fileName = template[nameStart...]
        if let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex {
            return String(template[..<dot]) + "-\(index)" + String(template[dot...])
        }
        return template + "-\(index)"
    }

    /// A writer for device `deviceIndex` when `BLE_SNOOP` is set and not empty; nil otherwise, or
    /// when the file cannot be created (reported on standard error: capture is best effort).
    /// `environment` replaces the process environment (for tests).
    public static func fromEnvironment(deviceIndex: Int, environment: [String: String]? = nil) -> BtsnoopWriter? {
        let template: String
        if let environment {
            guard let value = environment[environmentVariable] else { return nil }
            template = value
        } else {
            guard let raw = getenv(environmentVariable) else { return nil }
            template = String(cString: raw)
        }
        guard !template.isEmpty else { return nil }
        let file = path(forDevice: deviceIndex, template: template)
        do {
            return try BtsnoopWriter(path: file)
        } catch {
            BtsnoopWriter.logToStandardError("\(error.description); not capturing device \(deviceIndex)\n")
            return nil
        }
    }

    /// `transport` wrapped in a `SnoopingTransport` when `BLE_SNOOP` is set, else `transport`.
    public static func wrapFromEnvironment(_ transport: any HCITransport, deviceIndex: Int) -> any HCITransport {
        guard let writer = fromEnvironment(deviceIndex: deviceIndex) else { return transport }
        return SnoopingTransport(wrapping: transport, writer: writer)
    }
}
