@_exported import BluetoothCore
