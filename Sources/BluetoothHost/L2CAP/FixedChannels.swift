import BluetoothCore

/// Fixed L2CAP channels on LE (Core Vol 3 Part A 2.1).
enum FixedChannel {
    static let att: UInt16 = 0x0004
    static let leSignaling: UInt16 = 0x0005
    static let smp: UInt16 = 0x0006
}

extension HostStack {
    func receiveL2CAP(handle: UInt16, cid: UInt16, payload: [UInt8]) {
        switch cid {
        case FixedChannel.att: receiveATT(handle: handle, payload)
        case FixedChannel.leSignaling: receiveSignaling(handle: handle, payload)
        case FixedChannel.smp: receiveSMP(handle: handle, payload)
        default:
            if let tap = unhandledL2CAP {
                tap(handle, cid, payload)
            } else {
                log.debug("dropped PDU on unknown CID 0x\(String(cid, radix: 16))")
            }
        }
    }

    private func receiveATT(handle: UInt16, _ pdu: [UInt8]) {
        guard connections[handle]?.att.dead == false else { return }
        serverReceive(handle: handle, pdu)
    }

    private func receiveSignaling(handle: UInt16, _ pdu: [UInt8]) {
        let command: SignalingCommand
        do {
            command = try SignalingCommand(parsing: pdu)
        } catch {
            // Identifier 0 is invalid, but a malformed command may not even carry one.
            let id = pdu.count >= 2 ? pdu[1] : 0
            sendL2CAP(handle: handle, cid: FixedChannel.leSignaling, payload: SignalingCommand.reject(identifier: id).encode())
            return
        }
        switch command.code {
        case SignalingCommand.connectionParameterUpdateRequest:
            handleConnectionParameterUpdateRequest(handle: handle, command)
        case SignalingCommand.connectionParameterUpdateResponse, SignalingCommand.commandReject:
            break
        default:
            sendL2CAP(handle: handle, cid: FixedChannel.leSignaling,
                      payload: SignalingCommand.reject(identifier: command.identifier).encode())
        }
    }

    /// A peripheral asks the central for new parameters (Vol 3 Part A 4.20): accept what is in
    /// range and apply it with LE Connection Update; a request to a peripheral is rejected.
    private func handleConnectionParameterUpdateRequest(handle: UInt16, _ command: SignalingCommand) {
        guard let c = connections[handle], c.role == .central else {
            sendL2CAP(handle: handle, cid: FixedChannel.leSignaling,
                      payload: SignalingCommand.reject(identifier: command.identifier).encode())
            return
        }
        guard let request = try? ConnectionParameterUpdateRequest(data: command.data) else {
            sendL2CAP(handle: handle, cid: FixedChannel.leSignaling,
                      payload: SignalingCommand.reject(identifier: command.identifier).encode())
            return
        }
        let accepted = request.isAcceptable
        let response = SignalingCommand(code: SignalingCommand.connectionParameterUpdateResponse,
                                        identifier: command.identifier, data: [accepted ? 0x00 : 0x01, 0x00])
        sendL2CAP(handle: handle, cid: FixedChannel.leSignaling, payload: response.encode())
        if accepted {
            send(HCI.LEConnectionUpdate(handle: handle, connection: .init(
                intervalMin: request.intervalMin, intervalMax: request.intervalMax, maxLatency: request.latency,
                supervisionTimeout: request.timeout)))
        }
    }

    /// Until pairing lands, pairing requests get Pairing Failed "Pairing Not Supported" (0x05),
    /// so a peer never waits for the SMP timeout (Vol 3 Part H 3.5.5).
    private func receiveSMP(handle: UInt16, _ pdu: [UInt8]) {
        guard let code = pdu.first else { return }
        // Pairing Request (0x01) or Security Request (0x0B).
        if code == 0x01 || code == 0x0B {
            sendL2CAP(handle: handle, cid: FixedChannel.smp, payload: [0x05, 0x05])
        }
    }
}
