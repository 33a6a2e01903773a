import Controller
import Foundation
import LinuxHardware
import HTTPGateway
import MQTTBridge
import Logging
import ServiceLifecycle
import Simulator

/// Writes every relay, alarm, command and status event to the log: why did the load relay switch?
struct EventLogService: Service {
    let events: EventBus
    let logger: Logger

    func run() async throws {
        let stream = events.stream(capacity: 1024, kinds: [.relay, .alarm, .command, .status])
        for await event in stream.cancelOnGracefulShutdown() {
            logger.info("\(event.kind.rawValue): \(event.payloadText)")
        }
    }
}

/// The HTTP server for the lifetime of the service group; stopped cleanly on SIGTERM.
struct HTTPService: Service {
    let server: HTTPServer
    let controller: ControllerService
    let logger: Logger

    func run() async throws {
        try server.start()
        controller.setLinks(http: true)
        logger.info("HTTP API on http://\(server.address.host.contains(":") ? "[\(server.address.host)]" : server.address.host):\(server.port)/")
        try? await gracefulShutdown()
        controller.setLinks(http: false)
        server.stop()
    }
}

/// The MQTT bridge; a broker that is away is retried forever, never a reason to stop.
struct MQTTService: Service {
    let bridge: MQTTBridge

    func run() async throws {
        try bridge.start()
        try? await gracefulShutdown()
        bridge.stop()
    }
}

