@testable import Controller
import Foundation
import Testing

@testable import HTTPGateway

/// The API as assembled: which wrappers guard which routes, and the documents built from Codable types.
@Suite("Gateway API")
struct GatewayAPITests {
    static let token = "a-token-of-enough-length"

    /// Every write route with its path parameters filled in with names that exist.
    static func writeRequests(_ api: GatewayAPI, pack: String) -> [HTTPRequest] {
        api.router.routes.filter { $0.method != "GET" }.map { route in
            let path = route.pattern.replacingOccurrences(of: "{relay}", with: "load").replacingOccurrences(of: "{mosfet}", with: "charge")
                .replacingOccurrences(of: "{id}", with: pack)
            return HTTPRequest(method: route.method, path: path, headers: ["Content-Type": "application/json"],
                               body: Array(#"{"on":true}"#.utf8))
        }
    }

    @Test("every write route asks for the token, refuses a foreign origin and a body not declared JSON")
    func writesAreGuarded() throws {
        let (api, controller) = try TestGateway.make(token: Self.token)
        try controller.start()  // a pack id exists once the controller has ticked
        defer { controller.stop() }
        let deadline = Date().addingTimeInterval(20)
        while controller.snapshot == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let pack = try #require(controller.snapshot?.packs.first?.id)
        let writes = Self.writeRequests(api, pack: pack)
        #expect(writes.count == 7)
        for request in writes {
            #expect(api.respond(to: request).status == 401, "\(request.method) \(request.path) without a token")
            var foreign = request
            foreign.headers["origin"] = "http://evil.example"
            foreign.headers["authorization"] = "Bearer \(Self.token)"
            #expect(api.respond(to: foreign).status == 403, "\(request.method) \(request.path) from a foreign origin")
            var form = request
            form.headers["authorization"] = "Bearer \(Self.token)"
            form.headers["content-type"] = "application/x-www-form-urlencoded"
            #expect(api.respond(to: form).status == 415, "\(request.method) \(request.path) as a form")
        }
    }

    @Test("reads need no token; a Host that is not this machine is 421 without a token configured")
    func reads() throws {
        let withToken = try TestGateway.make(token: Self.token).api
        #expect(withToken.respond(to: HTTPRequest(method: "GET", path: "/api/v1/config")).status == 200)
        let open = try TestGateway.make().api
        #expect(open.respond(to: HTTPRequest(method: "GET", path: "/api/v1/config", headers: ["Host": "evil.example"])).status == 421)
        #expect(open.respond(to: HTTPRequest(method: "GET", path: "/api/v1/config", headers: ["Host": "localhost:8080"])).status == 200)
    }

    @Test("cors_origins \"*\" lets any page write only with a token: without one, a foreign page's preflight gets no CORS headers and its write is 403")
    func wildcardOriginNeedsAToken() throws {
        var settings = HTTPSettings()
        settings.corsOrigins = ["*"]
        let evil = ["Origin": "https://evil.example", "Host": "localhost:8080", "Content-Type": "application/json"]
        let open = try TestGateway.make(settings: settings).api
        let preflight = open.respond(to: HTTPRequest(method: "OPTIONS", path: "/api/v1/relays/load", headers: evil))
        #expect(preflight.header("Access-Control-Allow-Origin") == nil && preflight.status != 204)
        let write = open.respond(to: HTTPRequest(method: "PUT", path: "/api/v1/relays/load", headers: evil, body: Array(#"{"mode":"on"}"#.utf8)))
        #expect(write.status == 403)
        let guarded = try TestGateway.make(token: Self.token, settings: settings).api
        let allowed = guarded.respond(to: HTTPRequest(method: "OPTIONS", path: "/api/v1/relays/load", headers: evil))
        #expect(allowed.status == 204 && allowed.header("Access-Control-Allow-Origin") == "https://evil.example")
        let unauthorised = guarded.respond(to: HTTPRequest(method: "PUT", path: "/api/v1/relays/load", headers: evil, body: Array(#"{"mode":"on"}"#.utf8)))
        #expect(unauthorised.status == 401, "with a token, a foreign page still needs the token")
    }

    @Test("unknown routes are 404 and wrong methods 405 with Allow, both problem+json, labelled unmatched")
    func misses() throws {
        let api = try TestGateway.make().api
        let missing = api.respond(to: HTTPRequest(method: "GET", path: "/api/v1/nothing"))
        #expect(missing.status == 404 && missing.header("Content-Type") == "application/problem+json" && missing.route == nil)
        let wrong = api.respond(to: HTTPRequest(method: "DELETE", path: "/api/v1/state"))
        #expect(wrong.status == 405 && wrong.header("Allow") == "GET" && wrong.header("Content-Type") == "application/problem+json")
        let file = api.respond(to: HTTPRequest(method: "GET", path: "/"))
        #expect(file.status == 200 && file.route == "static")
        let fileWrite = api.respond(to: HTTPRequest(method: "PUT", path: "/"))
        #expect(fileWrite.status == 405 && fileWrite.header("Allow") == "GET, HEAD" && fileWrite.route == "static")
    }

    @Test("before the first tick the state is 503 and /healthz says why, as a JSON document")
    func beforeFirstTick() throws {
        let api = try TestGateway.make().api
        #expect(api.respond(to: HTTPRequest(method: "GET", path: "/api/v1/state")).status == 503)
        let health = api.respond(to: HTTPRequest(method: "GET", path: "/healthz"))
        #expect(health.status == 503)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(health.bytes)) as? [String: Any])
        #expect(object["status"] as? String == "unhealthy")
        #expect((object["reasons"] as? [String])?.contains("the controller has not ticked yet") == true)
    }

    @Test("the event log and history pages: stored payloads kept as JSON, missing values as null")
    func documents() throws {
        let entry = EventLogPage.Entry(StoredEvent(id: 7, time: 0, kind: "relay", payload: #"{"output":"load","on":true,"n":3,"x":1.5}"#))
        let page = try #require(try JSONSerialization.jsonObject(with: Data(ResponseJSON.bytes(EventLogPage(events: [entry])))) as? [String: Any])
        let event = try #require((page["events"] as? [[String: Any]])?.first)
        #expect(event["id"] as? Int == 7 && event["kind"] as? String == "relay" && event["time"] as? String == "1970-01-01T00:00:00Z")
        let data = try #require(event["data"] as? [String: Any])
        #expect(data["output"] as? String == "load" && data["on"] as? Bool == true && data["n"] as? Int == 3 && data["x"] as? Double == 1.5)
        let broken = EventLogPage.Entry(StoredEvent(id: 8, time: 0, kind: "relay", payload: "not json"))
        #expect(broken.data == .object([:]))

        let sample = HistorySample(time: 60, packVoltage: 13.2567, packCurrent: nil, dalySOC: nil, shuntVoltage: nil, shuntCurrent: nil,
                                   power: -0.001, calculatedSOC: 50, cellMin: 3300, cellMax: 3312.34, temperatureMax: nil,
                                   load: true, balancer: false)
        var out = JSONBytes(capacity: 0)
        HistoryJSON.write(sample, to: &out)
        let text = String(decoding: out.bytes, as: UTF8.self)
        let row = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(row.count == 14, "\(text)")
        #expect(row["pack_current_a"] is NSNull && row["temperature_max_c"] is NSNull)
        #expect(row["pack_voltage_v"] as? Double == 13.257 && row["cell_spread_mv"] as? Double == 12.3)
        #expect(text.contains(#""power_w":0,"#), "never -0: \(text)")
    }
}
