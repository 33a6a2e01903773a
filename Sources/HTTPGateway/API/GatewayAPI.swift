import Controller
import Foundation

/// The gateway's HTTP application: every endpoint of design.md (and a few more) over the controller's snapshot,
/// inbox and event log, assembled from route groups and wrappers. The server adds nothing but transport, so all of
/// this is tested without sockets.
///
/// Every request passes, outermost first: ``RequestMetrics``, ``Check/bodyLimit(maxBytes:)`` (413), ``Check/host(_:)`` (421), ``CORS``
/// (preflights, and the allow-origin header), then the router. Writes add ``Check/origin(_:)`` (403), ``BearerAuth``
/// (401, 429) and ``Check/json`` (415) before their handler. Anything thrown is a ``Problem`` and becomes its
/// problem+json response.
public final class GatewayAPI: HTTPApplication {
    public let controller: ControllerService
    public let settings: HTTPSettings
    public let metrics = HTTPMetrics()
    let token: String
    /// The routes (for the openapi.yaml coverage test).
    public let router: Router
    public let eventSource: any EventSource
    private let responder: Responder

    /// - Parameters:
    ///   - token: the bearer token for writes ("" = none; then writes are open, which `HTTPServer` allows on
    ///     loopback only).
    ///   - publicDirectory: the status page; `vendorDirectory`: /usr/share/javascript, served under /vendor/.
    ///   - now: monotonic seconds, for the failed-authorisation throttle.
    public init(controller: ControllerService, settings: HTTPSettings, token: String, publicDirectory: String?,
                vendorDirectory: String? = "/usr/share/javascript", openAPIPath: String?,
                now: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.controller = controller
        self.settings = settings
        self.token = token
        let rules = BrowserGuard(tokenConfigured: !token.isEmpty, allowedHosts: settings.allowedHosts, corsOrigins: settings.corsOrigins)
        let writes: [any Middleware] = [
            Check.origin(rules), BearerAuth(token: token, throttle: AuthThrottle(limit: settings.authFailuresPerMinute), now: now),
            Check.json,
        ]
        let files = StaticRoutes(publicDirectory: publicDirectory, vendorDirectory: vendorDirectory, openAPIPath: openAPIPath,
                                 configuration: controller.configuration)
        var router = Router()
        StateRoutes(controller: controller, metrics: metrics).register(on: &router)
        HistoryRoutes(controller: controller, historyMaxSamples: settings.historyMaxSamples).register(on: &router)
        CommandRoutes(controller: controller).register(on: &router, writes: writes)
        PackRoutes(controller: controller).register(on: &router, writes: writes)
        files.register(on: &router)
        self.router = router
        eventSource = ControllerEventSource(controller: controller, metrics: metrics, maxReplay: settings.sseReplayEvents)
        let global: [any Middleware] = [RequestMetrics(metrics), Check.bodyLimit(maxBytes: settings.maxBodyBytes), Check.host(rules),
                                        CORS(origins: BrowserGuard.effectiveCORSOrigins(settings.corsOrigins, tokenConfigured: !token.isEmpty))]
        responder = global.wrapping { [router] request in Self.dispatch(request, router: router, files: files) }
    }

    public func respond(to request: HTTPRequest) -> HTTPResponse {
        HTTPResponse.catching { () throws(Problem) in try responder(request) }
    }

    /// The router's answer labelled with its route; for a path no route has, a static file, else 404 (405 for a
    /// known path with another method).
    private static func dispatch(_ request: HTTPRequest, router: Router, files: StaticRoutes) -> HTTPResponse {
        switch router.resolve(request) {
        case .found(let responder, let routed, let pattern):
            var response = HTTPResponse.catching { () throws(Problem) in try responder(routed) }
            response.route = pattern
            return response
        case .methodNotAllowed(let allowed):
            return Problem.methodNotAllowed("\(ClientInput.quote(request.method)) is not allowed on \(ClientInput.quote(request.path, limit: 80));"
                                            + " use \(allowed.joined(separator: ", "))", allowed: allowed).response
        case .notFound:
            return files.file(request) ?? Problem.notFound("no such resource: \(ClientInput.quote(request.path, limit: 80))").response
        }
    }
}
