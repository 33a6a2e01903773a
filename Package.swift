// swift-tools-version: 6.0
// DalyGate: a Linux gateway for Daly-BMS-guarded LiFePO4 batteries.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]
/// swift-service-lifecycle's `Service`: each long-lived component conforms in its own module.
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
/// For the transports: a member is visible only through a module the file imports, so using a driver type
/// (DeviceKit) from HTTPGateway or MQTTBridge fails to compile instead of leaking in through Controller.
let transportSwiftSettings = swiftSettings + [.enableUpcomingFeature("MemberImportVisibility")]

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
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // Pure codec of the Daly A5 UART protocol: no I/O, no Glibc.
        .target(name: "DalyProtocol", swiftSettings: swiftSettings),
        // Bus protocols (SerialPort, ...) and the drivers written against them.
        .target(name: "DeviceKit", dependencies: ["DalyProtocol"], swiftSettings: swiftSettings),
        // What Swift cannot call directly: ppoll, posix_openpt, ioctl request macros.
        .target(name: "CLinuxHardware", cSettings: [.define("_GNU_SOURCE")]),
        // One kit for long-lived threads: a named pthread, its mailbox (messages, wake, close) and an async join.
        .target(name: "Workers", swiftSettings: swiftSettings),
        // The gateway's heart: the 1 s tick, juepi's automation, energy, commands, events, persistence.
        .target(
            name: "Controller",
            dependencies: [
                "DalyProtocol", "DeviceKit", "Workers",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                serviceLifecycle,
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // libmicrohttpd (and zlib for gzip), for HTTPGateway only.
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev", "zlib1g-dev"])]),
        // The REST API, SSE and static files over libmicrohttpd.
        .target(
            name: "HTTPGateway",
            dependencies: ["Controller", "DalyProtocol", "CMicroHTTPD", .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: transportSwiftSettings
        ),
        // libmosquitto, for MQTTBridge only.
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        // juepi's MQTT topics, JSON state, Home Assistant discovery.
        .target(
            name: "MQTTBridge",
            dependencies: [
                "Controller", "DalyProtocol", "CMosquitto",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: transportSwiftSettings
        ),
        // Real Linux backends: termios serial ports and pseudo-terminals.
        .target(
            name: "LinuxHardware",
            dependencies: ["DeviceKit", "CLinuxHardware", "Workers", serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        // Simulated hardware: a protocol-faithful Daly BMS on a pseudo-terminal.
        .target(
            name: "Simulator",
            dependencies: ["DalyProtocol", "DeviceKit", "LinuxHardware", "Workers", serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dalygate",
            dependencies: [
                "DalyProtocol", "DeviceKit", "LinuxHardware", "Simulator", "Controller", "HTTPGateway", "MQTTBridge", "Workers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // The bodies of the fuzz targets, shared with the regression tests.
        .target(
            name: "FuzzTargets",
            dependencies: ["DalyProtocol", "DeviceKit", "Controller", "HTTPGateway", "MQTTBridge",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // libFuzzer entry points, built by `make fuzz` with -sanitize=fuzzer.
        .executableTarget(name: "FuzzDalyFrames", dependencies: ["FuzzTargets"], swiftSettings: swiftSettings),
        .executableTarget(name: "FuzzHTTPCommand", dependencies: ["FuzzTargets"], swiftSettings: swiftSettings),
        .executableTarget(name: "FuzzMQTTPayload", dependencies: ["FuzzTargets"], swiftSettings: swiftSettings),
        .executableTarget(name: "FuzzHTTPRequestHead", dependencies: ["FuzzTargets"], swiftSettings: swiftSettings),
        // `make bench`: measured figures as ratios against the physical limit.
        // <sys/epoll.h> for DalyBench's SSE load generator.
        .target(name: "CSSEBench"),
        .executableTarget(
            name: "DalyBench",
            dependencies: ["Controller", "DalyProtocol", "DeviceKit", "LinuxHardware", "Simulator", "CSSEBench", "Workers"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "WorkersTests", dependencies: ["Workers"], swiftSettings: swiftSettings),
        .testTarget(name: "DalyProtocolTests", dependencies: ["DalyProtocol"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HTTPGatewayTests",
            dependencies: ["HTTPGateway", "Controller", "DeviceKit", "Simulator"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FuzzRegressionTests",
            dependencies: ["FuzzTargets"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MQTTBridgeTests",
            dependencies: ["MQTTBridge", "Controller", "DalyProtocol"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ControllerTests",
            dependencies: ["Controller", "DalyProtocol", "DeviceKit", "LinuxHardware", "Simulator", "Workers", serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DeviceKitTests",
            dependencies: ["DalyProtocol", "DeviceKit", "LinuxHardware", "Simulator", "Workers"],
            exclude: ["Golden"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
