@_exported import BluetoothCore
@_exported import BluetoothHost
