import Controller
import Foundation
import Logging
import ServiceLifecycle

/// The HTTP server for the lifetime of a service group: started in `run()`, stopped on graceful shutdown.
///
/// Stopping ends every stream and waits (up to 12 s) for writes in flight, so it runs on a thread of its own while
/// `run()` awaits it through a continuation: the cooperative pool is never blocked.
public struct HTTPGatewayService: Service {
    let server: HTTPServer
    let controller: ControllerService
    let logger: Logger

    public init(server: HTTPServer, controller: ControllerService, logger: Logger) {
        self.server = server
        self.controller = controller
        self.logger = logger
    }

    public func run() async throws {
        try server.start()
        controller.setLinks(http: true)
        let host = server.address.isIPv6 ? "[\(server.address.host)]" : server.address.host
        logger.info("HTTP API on http://\(host):\(server.port)/")
        try? await gracefulShutdown()
        controller.setLinks(http: false)
        await Self.onOwnThread(named: "dalygate-http-stop") { [server] in server.stop() }
    }

    /// Runs blocking `work` on a new thread and resumes when it has finished.
    static func onOwnThread(named name: String, _ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                work()
                continuation.resume()
            }
            thread.name = name
            thread.start()
        }
    }
}
