import Foundation
import Testing

@testable import HTTPGateway

@Suite("Router")
struct RouterTests {
    var router: Router {
        var router = Router()
        router.add("GET", "/api/v1/state") { _ in .text("state") }
        router.add("PUT", "/api/v1/relays/{relay}") { request in .text(request.parameters["relay"] ?? "") }
        return router
    }

    @Test("paths match by segment and capture parameters")
    func matching() throws {
        guard case .found(let responder, let routed, let pattern) = router.resolve(HTTPRequest(method: "PUT", path: "/api/v1/relays/load")) else {
            Issue.record("no match")
            return
        }
        #expect(routed.parameters == ["relay": "load"] && pattern == "/api/v1/relays/{relay}")
        #expect(try responder(routed).bytes == Array("load".utf8))
    }

    @Test("a known path with another method is 405 with the allowed methods; an unknown path is 404")
    func misses() {
        guard case .methodNotAllowed(let allowed) = router.resolve(HTTPRequest(method: "DELETE", path: "/api/v1/state")) else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["GET"])
        guard case .notFound = router.resolve(HTTPRequest(method: "GET", path: "/api/v1/nothing")) else {
            Issue.record("expected 404")
            return
        }
    }

    @Test("HEAD is served by the GET route")
    func head() {
        guard case .found = router.resolve(HTTPRequest(method: "HEAD", path: "/api/v1/state")) else {
            Issue.record("HEAD not routed")
            return
        }
    }
}

@Suite("Write bodies")
struct CommandParsingTests {
    @Test("one-shots and modes parse", arguments: [
        (#"{"on":true}"#, "switch load relay on"),
        (#"{"on":false}"#, "switch load relay off"),
        (#"{"mode":"off"}"#, "set load relay mode off"),
        (#"{"mode":"on","hold_s":600}"#, "set load relay mode on for 600 s"),
        (#"{"mode":"auto","hold_s":null}"#, "set load relay mode auto"),
        (#"{"mode":"auto","hold_s":60}"#, "set load relay mode auto"),
    ])
    func valid(body: String, summary: String) throws {
        #expect(try CommandParsing.output(.load, body: Array(body.utf8)).summary == summary)
    }

    @Test("bad bodies are refused with the right status and change nothing", arguments: [
        ("", 400), ("{", 400), ("[]", 422), (#"{"on":1}"#, 422), (#"{"on":"yes"}"#, 422), (#"{"mode":"maybe"}"#, 422),
        (#"{"mode":"on","hold_s":-5}"#, 422), (#"{"mode":"on","hold_s":true}"#, 422),
        (#"{"on":true,"extra":1}"#, 422), (#"{"other":1}"#, 422), ("null", 422), (#""on""#, 422),
    ])
    func invalid(body: String, status: Int) {
        do {
            _ = try CommandParsing.output(.balancer, body: Array(body.utf8))
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.status == status, "\(body): \(error.detail)")
        }
    }

    @Test("SOC must be a number from 0 to 100")
    func soc() throws {
        #expect(try CommandParsing.soc(body: Array(#"{"soc_pct":55.55}"#.utf8)) == .setBMSSOC(percent: 55.6))
        for body in [#"{"soc_pct":101}"#, #"{"soc_pct":-1}"#, #"{"soc_pct":"50"}"#, #"{"soc_pct":true}"#, #"{}"#] {
            #expect(throws: Problem.self) { try CommandParsing.soc(body: Array(body.utf8)) }
        }
    }

    @Test("problems are application/problem+json with RFC 9457's members")
    func problemShape() throws {
        let response = Problem.conflict("the load relay is in mode off").response
        #expect(response.status == 409 && response.header("content-type") == "application/problem+json")
        let object = try JSONSerialization.jsonObject(with: Data(response.bytes)) as! [String: Any]
        #expect(object["status"] as? Int == 409 && object["title"] as? String == "Conflict")
        #expect(object["detail"] as? String == "the load relay is in mode off" && object["type"] as? String == "about:blank")
    }

    @Test("token comparison")
    func tokens() {
        #expect(TokenCheck.equal("s3cret", "s3cret"))
        #expect(!TokenCheck.equal("s3cre", "s3cret"))
        #expect(!TokenCheck.equal("s3cret!", "s3cret"))
        #expect(!TokenCheck.equal("", "s3cret"))
    }

    @Test("listen addresses: loopback or not")
    func listenAddresses() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:8080").isLoopback)
        #expect(try ListenAddress(parsing: "localhost:80").isLoopback)
        #expect(try ListenAddress(parsing: "[::1]:8080").isLoopback)
        #expect(try !ListenAddress(parsing: "0.0.0.0:8080").isLoopback)
        #expect(throws: HTTPServerError.self) { try ListenAddress(parsing: "8080") }
        #expect(throws: HTTPServerError.self) { try ListenAddress(parsing: "nowhere.example:80") }
    }
}

@Suite("Static files")
struct StaticFileTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "dalygate-public-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path + "/js", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path + "/index.html", contents: Data(String(repeating: "<p>battery</p>\n", count: 100).utf8))
        _ = FileManager.default.createFile(atPath: path + "/js/app.js", contents: Data("console.log(1)".utf8))
        _ = FileManager.default.createFile(atPath: path + "/.secret", contents: Data("x".utf8))
        return path
    }()

    @Test("MIME types, ETag and 304, gzip when accepted")
    func serving() throws {
        let files = StaticFiles(root: directory)
        let page = try #require(files.response(for: "index.html", request: HTTPRequest(method: "GET", path: "/")))
        #expect(page.header("content-type") == "text/html; charset=utf-8")
        let etag = try #require(page.header("etag"))
        let again = try #require(files.response(for: "index.html", request: HTTPRequest(method: "GET", path: "/", headers: ["If-None-Match": etag])))
        #expect(again.status == 304)
        let zipped = try #require(files.response(for: "index.html", request: HTTPRequest(method: "GET", path: "/", headers: ["Accept-Encoding": "gzip, br"])))
        #expect(zipped.header("content-encoding") == "gzip" && zipped.bytes.count < page.bytes.count && zipped.bytes.prefix(2) == [0x1F, 0x8B])
        #expect(files.response(for: "js/app.js", request: HTTPRequest(method: "GET", path: "/js/app.js"))?.header("content-type")
                == "text/javascript; charset=utf-8")
    }

    @Test("no way out of the root, no dot files", arguments: ["../etc/passwd", "js/../../x", ".secret", "js/%2e%2e/x", "nothing.html"])
    func traversal(path: String) {
        #expect(StaticFiles(root: directory).response(for: path, request: HTTPRequest(method: "GET", path: "/" + path)) == nil)
    }
}
