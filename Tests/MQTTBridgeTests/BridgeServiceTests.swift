import Controller
import Foundation
import Logging
import Synchronization
@testable import MQTTBridge
import Testing

/// The bridge as a Service against a real mosquitto on a free loopback port.
@Suite("MQTT bridge service", .serialized)
struct BridgeServiceTests {
    /// mosquitto on a port the kernel picked (bound, read, released, then given to the broker).
    final class Broker: Sendable {
        let port: Int
        let process: Process

        init() throws {
            port = try Self.freePort()
            let config = FileManager.default.temporaryDirectory.appendingPathComponent("mosquitto-\(UUID().uuidString).conf")
            try "listener \(port) 127.0.0.1\nallow_anonymous true\n".write(to: config, atomically: true, encoding: .utf8)
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
            process.arguments = ["-c", config.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// Whether the broker accepts connections yet (it takes a moment to bind, longer on a loaded machine).
        func accepts() -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
        }

        /// SIGKILL, then up to 5 s for it to go (waitUntilExit can hang when called from a task). Not SIGTERM: the
        /// broker inherits this process's signal mask, in which swift-service-lifecycle's tests block SIGTERM, so a
        /// SIGTERM left it running after the tests (orphan brokers on the machine).
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            let deadline = ContinuousClock.now.advanced(by: .seconds(5))
            while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        }

        static func freePort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard bound else { throw MQTTBridgeError("no free port") }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }

    static func waitUntil(seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test("run() connects, publishes while running, returns on cancellation; afterwards nothing can publish")
    func stopsAndRefusesLatePublications() async throws {
        let broker = try Broker()
        defer { broker.stop() }
        try #require(await Self.waitUntil(seconds: 30) { broker.accepts() }, "mosquitto did not start listening")
        let controller = try ControllerService(configuration: GatewayConfiguration(), devices: .init(), clock: ScaledClock(),
                                               store: nil, simulated: true, logger: Logger(label: "test"))
        var settings = MQTTSettings()
        settings.url = "mqtt://127.0.0.1:\(broker.port)"
        settings.clientID = "bridge-test-\(broker.port)"
        let bridge = try MQTTBridge(controller: controller, settings: settings, logger: Logger(label: "test"))
        let run = Task { try await bridge.run() }
        #expect(await Self.waitUntil(seconds: 30) { bridge.isConnected })
        #expect(bridge.publish(MQTTMessage("test/alive", "1")))
        run.cancel()
        try await run.value
        #expect(!bridge.isConnected)
        // The destroyed client is out of reach: every publication goes through this (nil) reference.
        #expect(bridge.client.withLock { $0 == nil })
        // What a command completion arriving after stop does: it finds no client, and publishes nothing.
        #expect(!bridge.publish(MQTTMessage("dalygate/Ctrl_CSw", "dnc")))
    }

    /// A listening socket whose accept queue is full and never drained: a TCP connect to it hangs (Linux drops the
    /// SYN), as a connect to a broker behind a congested link does, until the socket is closed.
    final class StalledListener: Sendable {
        let port: Int
        let socketFD: Int32
        let queued: [Int32]

        init() throws {
            socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let fd = socketFD
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard bound, listen(fd, 0) == 0 else { throw MQTTBridgeError("cannot listen") }
            port = Int(UInt16(bigEndian: address.sin_port))
            // Fill the accept queue (backlog 0 holds one): later connects get no answer.
            queued = (0..<2).map { _ in
                let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var flags = fcntl(client, F_GETFL)
                flags |= O_NONBLOCK
                _ = fcntl(client, F_SETFL, flags)
                _ = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                return client
            }
        }

        func close() {
            for fd in queued + [socketFD] { _ = Glibc.close(fd) }
        }
    }

    /// Set once, from any thread.
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    @Test("the fall-back to MQTT 3.1.1 never holds the client while connecting: it and a publication meanwhile return at once")
    func fallBackDoesNotBlockPublications() async throws {
        let stalled = try StalledListener()
        let controller = try ControllerService(configuration: GatewayConfiguration(), devices: .init(), clock: ScaledClock(),
                                               store: nil, simulated: true, logger: Logger(label: "test"))
        var settings = MQTTSettings()
        settings.url = "mqtt://127.0.0.1:\(stalled.port)"
        settings.clientID = "fallback-test-\(stalled.port)"
        let bridge = try MQTTBridge(controller: controller, settings: settings, logger: Logger(label: "test"))
        let made = try MosquittoClient(settings: settings, will: ("fallback/status", "offline")) { _ in }
        bridge.client.withLock { $0 = made }
        // What the connect callback does when the broker refuses MQTT 5, before it reports the fall-back.
        #expect(made.protocolVersion.compareExchange(expected: 5, desired: 3, ordering: .relaxed).exchanged)
        let restarted = Flag()
        let published = Flag()
        Task.detached {
            await bridge.fallBackToMQTT311()
            restarted.set()
        }
        // A command completion publishes from the controller's thread while the broker does not answer the connect.
        Thread.detachNewThread {
            for _ in 0..<50 {
                _ = bridge.publish(MQTTMessage("dalygate/Ctrl_CSw", "dnc"))
                usleep(10_000)
            }
            published.set()
        }
        #expect(await Self.waitUntil(seconds: 5) { restarted.isSet })
        #expect(await Self.waitUntil(seconds: 5) { published.isSet })
        // The bridge holds a new client, speaking 3.1.1, still trying to connect in the background.
        #expect(bridge.client.withLock { $0.map { $0 !== made && $0.protocolVersion.load(ordering: .relaxed) == 3 } } == true)
        stalled.close()  // its connect fails now, so the stop need not wait for it
        await bridge.stopClient()
        #expect(!bridge.publish(MQTTMessage("dalygate/Ctrl_CSw", "dnc")))
    }
}
