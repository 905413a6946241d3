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
        let r = RecordingDelegate(writer: writer, downstream: delegate, executor: inner.executor)
        recorder.withLock { $0 = r }
        try inner.open(delegate: r)
    }

    public func send(_ packet: HCIPacket) {
        writer.write(packet, direction: .sent, unixMicroseconds: Self.timestamp(inner.executor))
        inner.send(packet)
    }

    /// Records carry virtual time when the controller runs in it (counted from 2026-01-01), so a
    /// run in virtual time gives the same capture every time; else the wall clock.
    static func timestamp(_ executor: VirtualTimeExecutor?) -> Int64? {
        guard let executor else { return nil }
        return 1_767_225_600_000_000 + Int64(truncatingIfNeeded: executor.now / 1000)
    }

    public func close() {
        inner.close()
    }

    /// Records what the controller sends, then passes it on (with the downstream's flow control).
    private final class RecordingDelegate: HCIFlowControlledDelegate, Sendable {
        let writer: BtsnoopWriter
        let downstream: HCITransportDelegate
        let executor: VirtualTimeExecutor?

        init(writer: BtsnoopWriter, downstream: HCITransportDelegate, executor: VirtualTimeExecutor?) {
            self.writer = writer
            self.downstream = downstream
            self.executor = executor
        }

        func transport(didReceive packet: HCIPacket) {
            writer.write(packet, direction: .received, unixMicroseconds: SnoopingTransport.timestamp(executor))
            downstream.transport(didReceive: packet)
        }

        func transport(didClose error: TransportError?) {
            downstream.transport(didClose: error)
        }

        var room: Int { (downstream as? HCIFlowControlledDelegate)?.room ?? Int.max }

        func transport(didReceiveAll packets: ArraySlice<HCIPacket>) {
            for p in packets { writer.write(p, direction: .received, unixMicroseconds: SnoopingTransport.timestamp(executor)) }
            if let flow = downstream as? HCIFlowControlledDelegate {
                flow.transport(didReceiveAll: packets)
            } else {
                for p in packets { downstream.transport(didReceive: p) }
            }
        }

        func whenReady(_ ready: @escaping @Sendable () -> Void) {
            if let flow = downstream as? HCIFlowControlledDelegate { flow.whenReady(ready) } else { ready() }
        }
    }
}
