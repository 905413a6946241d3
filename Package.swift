// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "swift-ble",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Bluetooth", targets: ["Bluetooth"]),
        .executable(name: "ble", targets: ["ble"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Counts the benchmark's allocations per message (preloaded into ble-bench only).
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
    ],
    targets: [
        // Wire formats and value types shared by every layer: addresses, UUIDs, byte readers,
        // HCI packets, commands and events (both directions: the host and the virtual controller), and the
        // Core Spec's security function e (AES-128 from swift-crypto).
        .target(name: "BluetoothCore",
                dependencies: [.product(name: "Crypto", package: "swift-crypto"),
                               .product(name: "_CryptoExtras", package: "swift-crypto")],
                swiftSettings: strict),
        // HCI transports: H4 over TCP and serial, the Linux HCI user channel, btsnoop capture.
        .target(name: "BluetoothTransport", dependencies: ["BluetoothCore"], swiftSettings: strict),
        // A virtual LE controller that speaks HCI bytes, on a virtual radio shared by many controllers.
        .target(name: "BluetoothSimulator",
                dependencies: ["BluetoothCore", "BluetoothTransport"], swiftSettings: strict),
        // The host stack: HCI host layer, L2CAP, GAP (later ATT/GATT, SMP), one serial executor per device.
        .target(name: "BluetoothHost",
                dependencies: ["BluetoothCore", "BluetoothTransport",
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // The public facade of API.md.
        .target(name: "Bluetooth",
                dependencies: ["BluetoothCore", "BluetoothHost", "BluetoothTransport", "BluetoothSimulator"],
                swiftSettings: strict),
        .executableTarget(name: "ble",
                          dependencies: ["Bluetooth",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: strict),
        .executableTarget(name: "ble-bench",
                          dependencies: ["Bluetooth", "BluetoothSimulator", "BluetoothHost",
                                         .product(name: "MallocInterposerSwift", package: "malloc-interposer")],
                          swiftSettings: strict),
        .testTarget(name: "BluetoothTests",
                    dependencies: ["Bluetooth", "BluetoothCore", "BluetoothHost", "BluetoothTransport",
                                   "BluetoothSimulator"],
                    swiftSettings: strict),
    ]
)
