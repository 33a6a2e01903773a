/// Maps method and path to a route; `{name}` segments capture parameters. Routes are added in groups that share
/// their wrappers (``Middleware``). Pure: tested without a server, and the source of truth for the test that every
/// route appears in openapi.yaml.
public struct Router: Sendable {
    public struct Route: Sendable {
        public let method: String
        public let pattern: String
        let segments: [String]
        /// The handler behind its group's wrappers (and its own checks, outermost).
        let responder: Responder
    }

    public enum Resolution {
        /// A route matched: its responder, the request with its parameters set, and the route's pattern.
        case found(Responder, HTTPRequest, pattern: String)
        case methodNotAllowed([String])
        case notFound
    }

    public private(set) var routes: [Route] = []

    public init() {}

    /// Adds a route without wrappers.
    public mutating func add(_ method: String, _ pattern: String, checks: [any Middleware] = [], _ handler: @escaping Responder) {
        routes.append(Route(method: method, pattern: pattern, segments: Self.split(pattern), responder: checks.wrapping(handler)))
    }

    /// Adds the routes `body` declares, each behind `middleware` (the first outermost).
    public mutating func group(_ middleware: [any Middleware], _ body: (inout RouteGroup) -> Void) {
        var group = RouteGroup(middleware: middleware)
        body(&group)
        routes += group.routes
    }

    public func resolve(_ request: HTTPRequest) -> Resolution {
        let segments = Self.split(request.path)
        var allowed: [String] = []
        for route in routes {
            guard let parameters = Self.match(route.segments, segments) else { continue }
            if route.method == request.method || (request.method == "HEAD" && route.method == "GET") {
                var routed = request
                routed.parameters = parameters
                return .found(route.responder, routed, pattern: route.pattern)
            }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(Array(Set(allowed)).sorted())
    }

    static func split(_ path: String) -> [String] { path.split(separator: "/", omittingEmptySubsequences: true).map(String.init) }

    static func match(_ pattern: [String], _ path: [String]) -> [String: String]? {
        guard pattern.count == path.count else { return nil }
        var parameters: [String: String] = [:]
        for (p, s) in zip(pattern, path) {
            if p.hasPrefix("{") && p.hasSuffix("}") {
                parameters[String(p.dropFirst().dropLast())] = s
            } else if p != s {
                return nil
            }
        }
        return parameters
    }
}

/// Routes that share wrappers: `checks` of one route run before the group's wrappers (a path that names nothing is
/// 404 before any token is asked for).
public struct RouteGroup {
    let middleware: [any Middleware]
    var routes: [Router.Route] = []

    public mutating func add(_ method: String, _ pattern: String, checks: [any Middleware] = [], _ handler: @escaping Responder) {
        routes.append(Router.Route(method: method, pattern: pattern, segments: Router.split(pattern),
                                   responder: (checks + middleware).wrapping(handler)))
    }
}
