import Controller
import Foundation
import Synchronization

/// Every endpoint of design.md (and a few more) as router handlers over the controller's snapshot, inbox and event
/// log. The server adds nothing but transport, so all of this is tested without sockets.
public final class GatewayAPI: Sendable {
    public let controller: ControllerService
    public let settings: HTTPSettings
    public let metrics = HTTPMetrics()
    private let routerStorage = Mutex(Router())
    let token: String
    let publicFiles: StaticFiles?
    let vendorFiles: StaticFiles?
    let openAPI: [UInt8]?
    let configJSON: [UInt8]
    let browserGuard: BrowserGuard
    let authThrottle: AuthThrottle

    /// - Parameters:
    ///   - token: the bearer token for writes ("" = none; then writes are open, which `HTTPServer` allows on
    ///     loopback only).
    ///   - publicDirectory: the status page; `vendorDirectory`: /usr/share/javascript, served under /vendor/.
    public init(controller: ControllerService, settings: HTTPSettings, token: String, publicDirectory: String?,
                vendorDirectory: String? = "/usr/share/javascript", openAPIPath: String?) {
        self.controller = controller
        self.settings = settings
        self.token = token
        publicFiles = publicDirectory.map(StaticFiles.init(root:))
        vendorFiles = vendorDirectory.map(StaticFiles.init(root:))
        openAPI = openAPIPath.flatMap { FileManager.default.contents(atPath: $0) }.map(Array.init)
        configJSON = Self.redactedConfig(controller.configuration)
        browserGuard = BrowserGuard(tokenConfigured: !token.isEmpty, allowedHosts: settings.allowedHosts, corsOrigins: settings.corsOrigins)
        authThrottle = AuthThrottle(limit: settings.authFailuresPerMinute)
        routerStorage.withLock { $0 = makeRouter() }
    }

    /// The routes (for the openapi.yaml coverage test).
    public var router: Router { routerStorage.withLock { $0 } }

    /// Handles a request completely: the Host check, CORS, routing, problems for unknown routes and wrong methods.
    /// Returns the response and the route pattern (for metrics).
    public func handle(_ request: HTTPRequest) -> (HTTPResponse, String) {
        if let problem = browserGuard.checkHost(request) { return (problem.response, "unmatched") }
        if request.method == "OPTIONS", let origin = allowedOrigin(request) {
            return (HTTPResponse(status: 204, headers: [
                ("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                ("Access-Control-Allow-Methods", "GET, PUT, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID"),
                ("Access-Control-Max-Age", "600"),
            ]), "preflight")
        }
        var (response, route): (HTTPResponse, String)
        switch router.resolve(method: request.method, path: request.path) {
        case .found(let handler, let parameters, let pattern):
            (response, route) = (handler(request, parameters), pattern)
        case .methodNotAllowed(let allowed):
            response = Problem(405, "Method Not Allowed", "\(ClientInput.quote(request.method)) is not allowed on \(ClientInput.quote(request.path, limit: 80));"
                               + " use \(allowed.joined(separator: ", "))").response
            response.headers.append(("Allow", allowed.joined(separator: ", ")))
            route = "unmatched"
        case .notFound:
            if let file = staticFile(request) {
                if request.method == "GET" || request.method == "HEAD" {
                    (response, route) = (file, "static")
                } else {
                    response = Problem(405, "Method Not Allowed",
                                       "\(ClientInput.quote(request.method)) is not allowed on \(ClientInput.quote(request.path, limit: 80)); use GET").response
                    response.headers.append(("Allow", "GET, HEAD"))
                    route = "static"
                }
            } else {
                (response, route) = (Problem.notFound("no such resource: \(ClientInput.quote(request.path, limit: 80))").response, "unmatched")
            }
        }
        if let origin = allowedOrigin(request) {
            response.headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        }
        return (response, route)
    }

    private func allowedOrigin(_ request: HTTPRequest) -> String? {
        guard !settings.corsOrigins.isEmpty, let origin = request.header("origin") else { return nil }
        return settings.corsOrigins.contains("*") || settings.corsOrigins.contains(origin) ? origin : nil
    }

    private func staticFile(_ request: HTTPRequest) -> HTTPResponse? {
        if request.path.hasPrefix("/vendor/") {
            return vendorFiles?.response(for: String(request.path.dropFirst("/vendor/".count)), request: request)
        }
        return publicFiles?.response(for: request.path == "/" ? "index.html" : String(request.path.dropFirst()), request: request)
    }

    // MARK: Routes

    private func makeRouter() -> Router {
        var router = Router()
        router.add("GET", "/api/v1/state") { [unowned self] _, _ in state() }
        router.add("GET", "/api/v1/events") { request, _ in
            var lastID: UInt64?
            if let text = request.header("last-event-id") {
                do throws(Problem) { lastID = try ClientInput.eventID(text) } catch { return error.response }
            }
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                                                        ("X-Accel-Buffering", "no")], body: .eventStream(resumeAfter: lastID))
        }
        router.add("GET", "/api/v1/events/log") { [unowned self] request, _ in eventLog(request) }
        router.add("GET", "/api/v1/history") { [unowned self] request, _ in history(request) }
        router.add("GET", "/api/v1/display.png") { [unowned self] request, _ in displayPNG(request) }
        router.add("GET", "/api/v1/config") { [unowned self] _, _ in .json(configJSON) }
        router.add("PUT", "/api/v1/relays/{relay}") { [unowned self] request, parameters in
            guard let output = ["load": Output.load, "balancer": .balancer][parameters["relay"] ?? ""] else {
                return Problem.notFound("no relay \(ClientInput.quote(parameters["relay"] ?? "")): use load or balancer").response
            }
            return write(request) { body throws(Problem) in try CommandParsing.output(output, body: body) }
        }
        router.add("PUT", "/api/v1/bms/mosfets/{mosfet}") { [unowned self] request, parameters in
            guard let output = ["charge": Output.chargeMOS, "discharge": .dischargeMOS][parameters["mosfet"] ?? ""] else {
                return Problem.notFound("no MOSFET \(ClientInput.quote(parameters["mosfet"] ?? "")): use charge or discharge").response
            }
            return write(request) { body throws(Problem) in try CommandParsing.output(output, body: body) }
        }
        router.add("PUT", "/api/v1/bms/soc") { [unowned self] request, _ in
            write(request) { body throws(Problem) in try CommandParsing.soc(body: body) }
        }
        router.add("POST", "/api/v1/energy/reset") { [unowned self] request, _ in
            write(request) { body throws(Problem) in try CommandParsing.empty(body, .resetEnergy) }
        }
        router.add("POST", "/api/v1/energy/reset-capacity") { [unowned self] request, _ in
            write(request) { body throws(Problem) in try CommandParsing.empty(body, .resetLearnedCapacity) }
        }
        addPackRoutes(to: &router)
        router.add("GET", "/healthz") { [unowned self] _, _ in health() }
        router.add("GET", "/metrics") { [unowned self] _, _ in
            .text(metrics.render(snapshot: controller.snapshot, ticks: controller.tickCount), type: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.add("GET", "/openapi.yaml") { [unowned self] _, _ in
            guard let openAPI else { return Problem.notFound("openapi.yaml is not installed").response }
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/yaml")], body: .bytes(openAPI))
        }
        return router
    }

    private func state() -> HTTPResponse {
        guard let snapshot = controller.snapshot else { return Problem.unavailable("the controller has not ticked yet").response }
        return .json(snapshot.json)
    }

    /// A write: origin, token (with back-off), JSON content type, parse, then the controller's inbox on a worker
    /// thread.
    func write(_ request: HTTPRequest, _ parse: @escaping @Sendable ([UInt8]) throws(Problem) -> ControlCommand) -> HTTPResponse {
        if let problem = browserGuard.checkOrigin(request) { return problem.response }
        if !token.isEmpty {
            let now = ProcessInfo.processInfo.systemUptime
            let presented = request.header("authorization")
            if presented != nil, let wait = authThrottle.retryAfter(address: request.clientAddress, now: now) {
                return Problem.tooManyRequests("too many failed authorisations from this address: wait \(wait) s", retryAfter: wait).response
            }
            guard let presented, let bearer = TokenCheck.bearerToken(from: presented), TokenCheck.equal(bearer, token) else {
                if presented != nil { authThrottle.recordFailure(address: request.clientAddress, now: now) }
                return Problem.unauthorized("this write needs 'Authorization: Bearer <token>'").response
            }
        }
        if let problem = BrowserGuard.checkContentType(request) { return problem.response }
        let command: ControlCommand
        do {
            command = try parse(request.body)
        } catch {
            return error.response
        }
        let controller = controller
        return HTTPResponse(status: 200, body: .deferred { respond in
            controller.submit(command, source: .http) { outcome, snapshot in
                switch outcome {
                case .executed: respond(.json(snapshot?.json ?? Array("{}".utf8)))
                case .rejected(let why): respond(Problem.conflict(why).response)
                case .unavailable(let why): respond(Problem.unavailable(why).response)
                case .timedOut: respond(Problem.unavailable("the controller did not answer in time").response)
                }
            }
        })
    }

    private func health() -> HTTPResponse {
        var reasons: [String] = []
        if let age = controller.secondsSinceLastTick {
            if age > 5 { reasons.append("the controller has not ticked for \(Int(age)) s") }
        } else {
            reasons.append("the controller has not ticked yet")
        }
        if let snapshot = controller.snapshot {
            let stale = controller.configuration.automation.staleAfterSeconds
            if !snapshot.bmsOK { reasons.append("the BMS does not answer: \(snapshot.bmsError ?? "no reply")") }
            if let age = snapshot.bmsAge, age > stale { reasons.append("BMS data is \(Int(age)) s old (stale after \(Int(stale)) s)") }
            if snapshot.bms == nil { reasons.append("no BMS data yet") }
            for problem in snapshot.inputs.problems where !reasons.contains(problem) { reasons.append(problem) }
            if !snapshot.relaysAvailable { reasons.append("relays unavailable: a GPIO line cannot be driven (see the relays status event)") }
        }
        let body = (try? JSONSerialization.data(withJSONObject: ["status": reasons.isEmpty ? "ok" : "unhealthy", "reasons": reasons],
                                                options: [.sortedKeys])) ?? Data()
        return .json(Array(body), status: reasons.isEmpty ? 200 : 503)
    }

    static func redactedConfig(_ configuration: GatewayConfiguration) -> [UInt8] {
        var copy = configuration
        if !copy.http.token.isEmpty { copy.http.token = "***" }
        if !copy.mqtt.password.isEmpty { copy.mqtt.password = "***" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(copy)) ?? Data("{}".utf8))
    }
}
