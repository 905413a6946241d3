import BluetoothCore

extension HostStack {
    /// The controller init sequence (Core Vol 4 Part E; what a real chip needs): Reset, local
    /// version, supported commands, features, BD_ADDR, event masks, LE buffer size (v2, falling
    /// back to v1 and then to the shared ACL buffers), LE features, and the static random address.
    /// Each step waits for the previous one, because later choices depend on its answer.
    func runInitSequence(completion: Completion?) {
        completion?.begin()
        let fail: (HCIError) -> Void = { [weak self] error in
            guard let self else { return }
            self.log.error("controller init failed: \(error)")
            self.finishSession(reason: "controller init failed", raiseEvents: false)
            completion?.end(error.bleError)
        }
        send(HCI.Reset(), completion: nil) { [weak self] r in
            guard let self else { return }
            if case .failure(let e) = r { return fail(e) }
            self.send(HCI.ReadLocalVersionInformation(), completion: nil) { r in
                switch r {
                case .failure(let e): return fail(e)
                case .success(let v): self.controller.version = v
                }
                self.send(HCI.ReadLocalSupportedCommands(), completion: nil) { r in
                    switch r {
                    case .failure(let e): return fail(e)
                    case .success(let v): self.controller.commands = v.commands
                    }
                    self.initStage2(completion: completion, fail: fail)
                }
            }
        }
    }

    private func initStage2(completion: Completion?, fail: @escaping (HCIError) -> Void) {
        // LMP features are informational for an LE host; a failure here is not fatal.
        send(HCI.ReadLocalSupportedFeatures(), completion: nil) { [weak self] r in
            if case .success(let f) = r { self?.controller.lmpFeatures = f.features }
        }
        send(HCI.ReadBDADDR(), completion: nil) { [weak self] r in
            switch r {
            case .failure(let e): fail(e)
            case .success(let v): self?.controller.publicAddress = v.address
            }
        }
        send(HCI.SetEventMask(mask: HCI.SetEventMask.leHostDefault), completion: nil) { r in
            if case .failure(let e) = r { fail(e) }
        }
        send(HCI.LESetEventMask(mask: HCI.LESetEventMask.hostDefault), completion: nil) { r in
            if case .failure(let e) = r { fail(e) }
        }
        readBufferSize(completion: completion, fail: fail)
    }

    private func readBufferSize(completion: Completion?, fail: @escaping (HCIError) -> Void) {
        let useShared: () -> Void = { [weak self] in
            self?.send(HCI.ReadBufferSize(), completion: nil) { r in
                switch r {
                case .failure(let e): fail(e)
                case .success(let v):
                    self?.controller.aclLength = Int(v.aclDataPacketLength)
                    self?.controller.aclCount = Int(v.totalNumACLDataPackets)
                    self?.initStage3(completion: completion, fail: fail)
                }
            }
        }
        let v1: () -> Void = { [weak self] in
            self?.send(HCI.LEReadBufferSize(), completion: nil) { r in
                switch r {
                case .failure(let e): fail(e)
                case .success(let v):
                    if v.aclDataPacketLength == 0 || v.totalNumACLDataPackets == 0 { return useShared() }
                    self?.controller.aclLength = Int(v.aclDataPacketLength)
                    self?.controller.aclCount = Int(v.totalNumACLDataPackets)
                    self?.initStage3(completion: completion, fail: fail)
                }
            }
        }
        guard controller.supports(SupportedCommands.leReadBufferSizeV2) else { return v1() }
        send(HCI.LEReadBufferSizeV2(), completion: nil) { [weak self] r in
            switch r {
            case .failure(.status):
                v1()  // listed but refused: fall back
            case .failure(let e):
                fail(e)
            case .success(let v):
                if v.aclDataPacketLength == 0 || v.totalNumACLDataPackets == 0 { return v1() }
                self?.controller.aclLength = Int(v.aclDataPacketLength)
                self?.controller.aclCount = Int(v.totalNumACLDataPackets)
                self?.initStage3(completion: completion, fail: fail)
            }
        }
    }

    private func initStage3(completion: Completion?, fail: @escaping (HCIError) -> Void) {
        send(HCI.LEReadLocalSupportedFeatures(), completion: nil) { [weak self] r in
            guard let self else { return }
            switch r {
            case .failure(let e): return fail(e)
            case .success(let v): self.controller.leFeatures = v.features
            }
            // The feature bit says the link layer can; the command bits say the HCI can. Some
            // controllers (Bumble's stock one) set the first without the second: trust the commands.
            self.controller.useExtended = self.controller.leFeatures.contains(.extendedAdvertising)
                && self.controller.supports(SupportedCommands.leSetExtendedAdvertisingParameters)
                && self.controller.supports(SupportedCommands.leSetExtendedScanParameters)
                && self.controller.supports(SupportedCommands.leExtendedCreateConnection)
            self.acl.configure(maxLength: self.controller.aclLength, totalBuffers: self.controller.aclCount)
            if self.staticRandomAddress == nil {
                self.staticRandomAddress = HostStack.makeStaticRandomAddress(from: self.queue.executor)
            }
            if let random = self.staticRandomAddress {
                self.send(HCI.LESetRandomAddress(address: random), completion: nil) { r in
                    if case .failure(let e) = r { return fail(e) }
                    self.power = .on
                    self.log.info("""
                        controller ready: \(self.controller.publicAddress), ACL \(self.controller.aclLength)x\(self.controller.aclCount), \
                        \(self.controller.useExtended ? "extended" : "legacy") advertising
                        """)
                    completion?.end(nil)
                }
            }
        }
    }

    /// A static random address: 46 random bits under the two top bits 0b11, not all ones or
    /// all zeros (Core Vol 6 Part B 1.3.2.1).
    /// In virtual time the bits come from the executor's seeded sequence (the same in every run).
    static func makeStaticRandomAddress(from executor: VirtualTimeExecutor? = nil) -> BluetoothAddress {
        var g = SystemRandomNumberGenerator()
        while true {
            let bits = (executor?.random() ?? g.next()) & 0x3FFF_FFFF_FFFF
            if bits != 0 && bits != 0x3FFF_FFFF_FFFF {
                return BluetoothAddress(value: 0xC000_0000_0000 | bits)
            }
        }
    }
}
