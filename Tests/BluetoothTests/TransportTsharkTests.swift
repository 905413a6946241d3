import BluetoothCore
import BluetoothTransport
import Foundation
import Testing

/// Checks the btsnoop writer against an independent reader: Wireshark's tshark must decode every
/// frame of a capture with no malformed packet and no warning or error expert entry.
@Suite struct TransportTsharkTests {
    static func findTshark() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/tshark"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `tool` with its standard output in `outputFile`; returns the exit status and the
    /// output, or nil if it did not finish within `timeout` (it is then terminated).
    static func run(_ tool: String, _ arguments: [String], outputFile: String,
                    timeout: TimeInterval = 60) throws -> (status: Int32, output: String)? {
        guard FileManager.default.createFile(atPath: outputFile, contents: nil),
              let sink = FileHandle(forWritingAtPath: outputFile) else {
            Issue.record("cannot create \(outputFile)")
            return nil
        }
        defer { try? sink.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = sink
        process.standardError = FileHandle.nullDevice
        let exited = TransportTestSignal()
        process.terminationHandler = { _ in exited.fire() }
        try process.run()
        guard exited.wait(timeout: timeout) else {
            process.terminate()
            return nil
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: outputFile))
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func tsharkDecodesEveryFrame() throws {
        guard let tshark = Self.findTshark() else {
            Issue.record("tshark is not installed (not found on PATH); run scripts/install-tshark.sh")
            return
        }
        let dir = try transportTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("decode.btsnoop").path
        let writer = try BtsnoopWriter(path: path)

        let frames: [(HCIPacket, BtsnoopWriter.Direction, String)] = [
            // HCI_Reset
            (HCIPacket(.command, [0x03, 0x0C, 0x00]), .sent, "bthci_cmd"),
            // Command Complete (Reset, success)
            (HCIPacket(.event, [0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00]), .received, "bthci_evt"),
            // LE Set Advertising Parameters: interval 0xA0..0xA0, ADV_IND, public, all channels
            (HCIPacket(.command, [0x06, 0x20, 0x0F, 0xA0, 0x00, 0xA0, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00]), .sent, "bthci_cmd"),
            // LE Connection Complete: handle 0x0040, central, random peer, interval 24, timeout 72
            (HCIPacket(.event, [0x3E, 0x13, 0x01, 0x00, 0x40, 0x00, 0x00, 0x01,
                                0x11, 0x22, 0x33, 0x44, 0x55, 0xC6,
                                0x18, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00]), .received, "bthci_evt"),
            // ACL on handle 0x0040 carrying L2CAP CID 4: ATT Exchange MTU Request (MTU 23)
            (HCIPacket(.acl, [0x40, 0x20, 0x07, 0x00, 0x03, 0x00, 0x04, 0x00, 0x02, 0x17, 0x00]), .sent, "btatt"),
        ]
        var time: Int64 = 1_700_000_000_000_000
        for (packet, direction, _) in frames {
            writer.write(packet, direction: direction, unixMicroseconds: time)
            time += 1_250
        }
        writer.close()

        let result = try Self.run(tshark, ["-r", path, "-T", "fields", "-E", "separator=|",
                                           "-e", "frame.number", "-e", "frame.protocols",
                                           "-e", "_ws.malformed", "-e", "_ws.expert.severity",
                                           "-e", "_ws.expert.message"],
                                  outputFile: dir.appendingPathComponent("tshark.txt").path)
        let (status, output) = try #require(result, "tshark did not finish within 60 s")
        #expect(status == 0, "tshark failed: \(output)")
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.count == frames.count, "tshark output:\n\(output)")
        // Wireshark expert severities: chat 0x200000, note 0x400000, warn 0x600000, error 0x800000.
        let warning = 0x60_0000
        for (index, line) in lines.enumerated() {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            try #require(fields.count == 5, "unexpected tshark line: \(line)")
            #expect(fields[0] == "\(index + 1)")
            if index < frames.count {
                #expect(fields[1].split(separator: ":").contains(Substring(frames[index].2)),
                        "frame \(index + 1) decoded as \(fields[1])")
            }
            #expect(fields[2].isEmpty, "frame \(index + 1) is malformed: \(line)")
            let severities = fields[3].split(separator: ",").compactMap { Int($0) }
            #expect(severities.allSatisfy { $0 < warning }, "frame \(index + 1) has expert entries: \(line)")
        }
    }
}
