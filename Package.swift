// swift-tools-version: 6.0
// DalyGate: a Linux gateway for Daly-BMS-guarded LiFePO4 batteries.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "DalyGate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dalygate", targets: ["dalygate"]),
        .library(name: "DalyProtocol", targets: ["DalyProtocol"]),
        .library(name: "DeviceKit", targets: ["DeviceKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Pure codec of the Daly A5 UART protocol: no I/O, no Glibc.
        .target(name: "DalyProtocol", swiftSettings: swiftSettings),
        // Bus protocols (SerialPort, ...) and the drivers written against them.
        .target(name: "DeviceKit", dependencies: ["DalyProtocol"], swiftSettings: swiftSettings),
        // What Swift cannot call directly: ppoll, posix_openpt, ioctl request macros.
        .target(name: "CLinuxHardware", cSettings: [.define("_GNU_SOURCE")]),
        // Real Linux backends: termios serial ports and pseudo-terminals.
        .target(
            name: "LinuxHardware",
            dependencies: ["DeviceKit", "CLinuxHardware"],
            swiftSettings: swiftSettings
        ),
        // Simulated hardware: a protocol-faithful Daly BMS on a pseudo-terminal.
        .target(
            name: "Simulator",
            dependencies: ["DalyProtocol", "DeviceKit", "LinuxHardware"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dalygate",
            dependencies: [
                "DalyProtocol", "DeviceKit", "LinuxHardware", "Simulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // `make bench`: measured figures as ratios against the physical limit.
        .executableTarget(
            name: "DalyBench",
            dependencies: ["DalyProtocol", "DeviceKit", "LinuxHardware", "Simulator"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DalyProtocolTests", dependencies: ["DalyProtocol"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DeviceKitTests",
            dependencies: ["DalyProtocol", "DeviceKit", "LinuxHardware", "Simulator"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
