import Foundation
import Synchronization
import Testing

@testable import HTTPGateway

/// Each wrapper alone, in front of a handler that answers 200 "ok" and counts its calls: a refusal never reaches
/// the handler.
@Suite("Wrappers")
struct MiddlewareTests {
    final class Calls: Sendable {
        let count = Atomic<Int>(0)
        var value: Int { count.load(ordering: .relaxed) }
    }

    /// `middleware` in front of a handler that counts its calls.
    func chain(_ middleware: any Middleware, calls: Calls = Calls()) -> (HTTPRequest) -> HTTPResponse {
        let responder = [middleware].wrapping { _ in
            calls.count.wrappingAdd(1, ordering: .relaxed)
            return .text("ok")
        }
        return { request in HTTPResponse.catching { () throws(Problem) in try responder(request) } }
    }

    func put(_ headers: [String: String] = [:], from address: String = "192.0.2.7") -> HTTPRequest {
        HTTPRequest(method: "PUT", path: "/api/v1/relays/load", headers: headers, body: Array(#"{"on":true}"#.utf8), clientAddress: address)
    }

    func problem(_ response: HTTPResponse) throws -> [String: Any] {
        #expect(response.header("content-type") == "application/problem+json")
        return try #require(try JSONSerialization.jsonObject(with: Data(response.bytes)) as? [String: Any])
    }

    @Test("a thrown Problem becomes its problem+json response, with its extra headers")
    func thrownProblem() throws {
        var router = Router()
        router.add("GET", "/x") { _ throws(Problem) in throw .methodNotAllowed("no", allowed: ["PUT"]) }
        guard case .found(let responder, let request, _) = router.resolve(HTTPRequest(method: "GET", path: "/x")) else {
            Issue.record("no route")
            return
        }
        let response = HTTPResponse.catching { () throws(Problem) in try responder(request) }
        #expect(response.status == 405 && response.header("Allow") == "PUT")
        let object = try problem(response)
        #expect(object["status"] as? Int == 405 && object["title"] as? String == "Method Not Allowed" && object["detail"] as? String == "no")
    }

    @Test("without a token configured every write passes the token check")
    func noToken() {
        let calls = Calls()
        let open = chain(BearerAuth(token: "", throttle: AuthThrottle(limit: 1), now: { 0 }), calls: calls)
        #expect(open(put()).status == 200 && calls.value == 1)
    }

    @Test("a write without the token, or with a wrong one, is 401 and never reaches the handler; the right one passes")
    func bearer() throws {
        let calls = Calls()
        let auth = chain(BearerAuth(token: "right-token-of-length", throttle: AuthThrottle(limit: 10), now: { 0 }), calls: calls)
        let missing = auth(put())
        #expect(missing.status == 401 && missing.header("WWW-Authenticate") == "Bearer realm=\"dalygate\"")
        #expect(try problem(missing)["status"] as? Int == 401)
        #expect(auth(put(["Authorization": "Bearer wrong-token-of-length"])).status == 401)
        #expect(auth(put(["Authorization": "Basic right-token-of-length"])).status == 401)
        #expect(calls.value == 0)
        #expect(auth(put(["Authorization": "bearer   right-token-of-length"])).status == 200 && calls.value == 1)
    }

    @Test("after the limit of wrong tokens an address gets 429 with Retry-After, even with the right token; others and the minute's end do not")
    func throttle() {
        let clock = Mutex<Double>(1000)
        let auth = chain(BearerAuth(token: "right-token-of-length", throttle: AuthThrottle(limit: 3), now: { clock.withLock { $0 } }))
        for _ in 0..<3 { #expect(auth(put(["Authorization": "Bearer guess"])).status == 401) }
        clock.withLock { $0 += 10 }
        let throttled = auth(put(["Authorization": "Bearer right-token-of-length"]))
        #expect(throttled.status == 429 && throttled.header("Retry-After") == "50")
        // A request without the header cannot be a guess: it is told what is missing, not to wait.
        #expect(auth(put()).status == 401)
        #expect(auth(put(["Authorization": "Bearer right-token-of-length"], from: "192.0.2.8")).status == 200)
        clock.withLock { $0 += 51 }
        #expect(auth(put(["Authorization": "Bearer right-token-of-length"])).status == 200)
    }

    @Test("a write from a foreign origin is 403 before the handler; the gateway's own origin and curl pass")
    func origin() {
        let calls = Calls()
        let check = chain(Check.origin(BrowserGuard(tokenConfigured: false, allowedHosts: [], corsOrigins: [])), calls: calls)
        #expect(check(put(["Host": "localhost:8080", "Origin": "http://evil.example"])).status == 403)
        #expect(check(put(["Sec-Fetch-Site": "cross-site"])).status == 403)
        #expect(calls.value == 0)
        #expect(check(put(["Host": "localhost:8080", "Origin": "http://localhost:8080"])).status == 200)
        #expect(check(put()).status == 200 && calls.value == 2)
    }

    @Test("a rebound Host is 421 before anything else")
    func host() {
        let calls = Calls()
        let check = chain(Check.host(BrowserGuard(tokenConfigured: false, allowedHosts: [], corsOrigins: [])), calls: calls)
        #expect(check(put(["Host": "evil.example"])).status == 421 && calls.value == 0)
        #expect(check(put(["Host": "127.0.0.1:8080"])).status == 200 && calls.value == 1)
    }

    @Test("a write not declared application/json is 415")
    func contentType() {
        let calls = Calls()
        let check = chain(Check.json, calls: calls)
        #expect(check(put(["Content-Type": "text/plain"])).status == 415)
        #expect(check(put()).status == 415 && calls.value == 0)
        #expect(check(put(["Content-Type": "application/json"])).status == 200 && calls.value == 1)
    }

    @Test("a body the server stopped reading is 413")
    func bodyLimit() throws {
        let calls = Calls()
        let check = chain(Check.bodyLimit(maxBytes: 16), calls: calls)
        var request = put()
        request.bodyTooLarge = true
        let refused = check(request)
        #expect(refused.status == 413 && calls.value == 0)
        #expect(try problem(refused)["detail"] as? String == "the body exceeds 16 bytes")
        #expect(check(put()).status == 200)
    }

    @Test("CORS: a listed origin's preflight is 204 and its responses (problems too) carry the allow-origin; others get nothing")
    func cors() {
        let calls = Calls()
        let cors = chain(CORS(origins: ["http://allowed.example"]), calls: calls)
        let preflight = cors(HTTPRequest(method: "OPTIONS", path: "/api/v1/relays/load", headers: ["Origin": "http://allowed.example"]))
        #expect(preflight.status == 204 && preflight.route == "preflight" && calls.value == 0)
        #expect(preflight.header("Access-Control-Allow-Origin") == "http://allowed.example")
        #expect(preflight.header("Access-Control-Allow-Methods")?.contains("PUT") == true)
        #expect(preflight.header("Access-Control-Allow-Headers")?.contains("Authorization") == true)
        let allowed = cors(put(["Origin": "http://allowed.example"]))
        #expect(allowed.status == 200 && allowed.header("Access-Control-Allow-Origin") == "http://allowed.example")
        #expect(allowed.header("Vary") == "Origin")
        let foreign = cors(put(["Origin": "http://evil.example"]))
        #expect(foreign.status == 200 && foreign.header("Access-Control-Allow-Origin") == nil)
        let foreignPreflight = cors(HTTPRequest(method: "OPTIONS", path: "/x", headers: ["Origin": "http://evil.example"]))
        #expect(foreignPreflight.status != 204 && foreignPreflight.header("Access-Control-Allow-Origin") == nil)
        let refusing = [CORS(origins: ["*"]), Check.json].wrapping { _ in .text("ok") }
        let problem = HTTPResponse.catching { () throws(Problem) in try refusing(put(["Origin": "http://any.example"])) }
        #expect(problem.status == 415 && problem.header("Access-Control-Allow-Origin") == "http://any.example")
        // Configured and sent in different case: the same origin, as for Check.origin (which lets it write).
        let mixed = chain(CORS(origins: ["https://Dash.Example"]), calls: calls)(put(["Origin": "https://dash.example"]))
        #expect(mixed.header("Access-Control-Allow-Origin") == "https://dash.example")
    }

    final class Recorder: RequestCounter {
        let counted = Mutex<[String]>([])
        func countRequest(route: String, method: String, status: Int) { counted.withLock { $0.append("\(route) \(method) \(status)") } }
    }

    @Test("metrics count what was sent, labelled with the route: refusals as unmatched, a deferred write by its outcome")
    func metrics() {
        let recorder = Recorder()
        var router = Router()
        router.add("GET", "/api/v1/state") { _ in .text("{}") }
        router.add("PUT", "/api/v1/relays/{relay}") { _ in
            HTTPResponse(status: 200, body: .deferred { respond in respond(Problem.conflict("mode off").response) })
        }
        let responder = [RequestMetrics(recorder), Check.host(BrowserGuard(tokenConfigured: false, allowedHosts: [], corsOrigins: []))]
            .wrapping { [router] request throws(Problem) in
                guard case .found(let responder, let routed, let pattern) = router.resolve(request) else { throw .notFound("none") }
                var response = HTTPResponse.catching { () throws(Problem) in try responder(routed) }
                response.route = pattern
                return response
            }
        func send(_ request: HTTPRequest) {
            let response = HTTPResponse.catching { () throws(Problem) in try responder(request) }
            // What the server does: a bytes response is sent as it is, a deferred one when its outcome arrives.
            if case .deferred(let start) = response.body {
                start { final in response.replaced(by: final).reportSent() }
            } else {
                response.reportSent()
            }
        }
        send(HTTPRequest(method: "GET", path: "/api/v1/state"))
        send(HTTPRequest(method: "GET", path: "/api/v1/state", headers: ["Host": "evil.example"]))
        send(HTTPRequest(method: "GET", path: "/nothing"))
        send(HTTPRequest(method: "PUT", path: "/api/v1/relays/load"))
        #expect(recorder.counted.withLock { $0 } == [
            "/api/v1/state GET 200", "unmatched GET 421", "unmatched GET 404", "/api/v1/relays/{relay} PUT 409",
        ])
    }

    @Test("a route's own checks run before its group's wrappers: a path naming nothing is 404 before a token is asked for")
    func checksFirst() {
        var router = Router()
        router.group([BearerAuth(token: "right-token-of-length", throttle: AuthThrottle(limit: 10), now: { 0 })]) { group in
            group.add("PUT", "/r/{name}", checks: [Check { request throws(Problem) in
                if request.parameters["name"] != "load" { throw .notFound("no such relay") }
            }]) { _ in .text("ok") }
        }
        func status(_ path: String) -> Int {
            guard case .found(let responder, let routed, _) = router.resolve(HTTPRequest(method: "PUT", path: path)) else { return 0 }
            return HTTPResponse.catching { () throws(Problem) in try responder(routed) }.status
        }
        #expect(status("/r/nothing") == 404)
        #expect(status("/r/load") == 401)
    }
}
