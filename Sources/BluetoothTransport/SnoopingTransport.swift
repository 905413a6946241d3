import BluetoothCore
import Synchronization

/// Wraps any transport and records every packet, both ways, in a btsnoop capture. Packets are
/// forwarded unchanged; sent packets are recorded before they are handed to the wrapped transport.
public final class SnoopingTransport: HCITransport {
    public let inner: any HCITransport
    public let writer: BtsnoopWriter
    /// Kept alive here: transports may hold their delegate weakly (the virtual controller does).
    private let recorder = Mutex<RecordingDelegate?>(nil)

    public init(wrapping inner: any HCITransport, writer: BtsnoopWriter) {
        self.inner = inner
        self.writer = writer
    }

    public var name: String { inner.name }
    public var executor: VirtualTimeExecutor? { inner.executor }

    public func open(delegate: HCITransportDelegate) throws {
        let r = RecordingDelegate(writer: writer, downstream: delegate)
        recorder.withLock { $0 = r }
        try inner.open(delegate: r)
    }

    public func send(_ packet: HCIPacket) {
        writer.write(packet, direction: .sent)
        inner.send(packet)
    }

    public func close() {
        inner.close()
    }

    /// Records what the controller sends, then passes it on (with the downstream's flow control).
    private final class RecordingDelegate: HCIFlowControlledDelegate, Sendable {
        let writer: BtsnoopWriter
        let downstream: HCITransportDelegate

        init(writer: BtsnoopWriter, downstream: HCITransportDelegate) {
            self.writer = writer
            self.downstream = downstream
        }

        func transport(didReceive packet: HCIPacket) {
            writer.write(packet, direction: .received)
            downstream.transport(didReceive: packet)
        }

        func transport(didClose error: TransportError?) {
            downstream.transport(didClose: error)
        }

        var room: Int { (downstream as? HCIFlowControlledDelegate)?.room ?? Int.max }

        func whenReady(_ ready: @escaping @Sendable () -> Void) {
            if let flow = downstream as? HCIFlowControlledDelegate { flow.whenReady(ready) } else { ready() }
        }
    }
}
