import BluetoothCore

/// What the init sequence learned about the controller.
struct ControllerInfo {
    var version: HCI.ReadLocalVersionInformation.Return?
    var commands = SupportedCommands(bitmap: [])
    var lmpFeatures: UInt64 = 0
    var leFeatures: LEFeatures = []
    var publicAddress: BluetoothAddress = .zero
    var aclLength = 27
    var aclCount = 1
    /// Extended advertising/scanning/initiating commands are used when the controller lists them.
    var useExtended = false

    func supports(_ position: (octet: Int, bit: Int)) -> Bool {
        commands.contains(octet: position.octet, bit: position.bit)
    }
}
