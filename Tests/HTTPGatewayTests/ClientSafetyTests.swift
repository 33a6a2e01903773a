import Foundation
import Synchronization
import Testing

@testable import HTTPGateway

@Suite("Client input")
struct ClientInputTests {
    @Test("a Last-Event-ID is 1 to 16 digits up to 2^53 - 1; everything else is 400")
    func eventIDs() throws {
        #expect(try ClientInput.eventID("0") == 0)
        #expect(try ClientInput.eventID("9007199254740991") == 9_007_199_254_740_991)
        for bad in ["", "-1", "+1", " 1", "1 ", "1e3", "0x10", "9007199254740992", "18446744073709551615", "99999999999999999999", "١"] {
            #expect(throws: Problem.self, "\(bad)") { try ClientInput.eventID(bad) }
            #expect((try? ClientInput.eventID(bad)) == nil)
        }
    }

    @Test("whole numbers: malformed is 400, out of range is 422, no overflow")
    func integers() {
        #expect((try? ClientInput.integer("8", key: "k", in: 1...8)) == 8)
        for (text, status) in [("9", 422), ("0", 422), ("99999999999999999999", 400), ("999999999999999999", 422), ("+5", 400),
                               ("5.0", 400), ("", 400)] {
            do {
                _ = try ClientInput.integer(text, key: "k", in: 1...8)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.status == status, "\(text)")
            }
        }
    }

    @Test("decimals are finite and short: no nan, inf, hex or overflow")
    func decimals() {
        #expect(ClientInput.decimal("1790000000.25") == 1_790_000_000.25)
        #expect(ClientInput.decimal("-1") == -1)
        #expect(ClientInput.decimal("1.5e3") == 1500)
        for bad in ["nan", "inf", "-inf", "1e400", "0x10", " 1", "", String(repeating: "1", count: 40)] {
            #expect(ClientInput.decimal(bad) == nil, "\(bad)")
        }
    }

    @Test("quoted client text is escaped and cut short")
    func quoting() {
        #expect(ClientInput.quote("load") == "'load'")
        #expect(ClientInput.quote("a\nb'\u{1B}") == "'a\\u{a}b\\u{27}\\u{1b}'")
        let long = ClientInput.quote(String(repeating: "\u{FFFD}", count: 500), limit: 40)
        #expect(long.count <= 40 + 5 && long.hasSuffix("...'"))
        #expect(!long.unicodeScalars.contains { $0.value < 0x20 || $0.value > 0x7E })
    }
}

@Suite("Browser guard")
struct BrowserGuardTests {
    let open = BrowserGuard(tokenConfigured: false, allowedHosts: ["Gateway.LAN"], corsOrigins: ["http://trusted.example"])

    func request(_ headers: [String: String], method: String = "PUT") -> HTTPRequest {
        HTTPRequest(method: method, path: "/api/v1/relays/load", headers: headers)
    }

    @Test("without a token only loopback names and allowed hosts are served (DNS rebinding gets 421)")
    func hosts() {
        for host in ["localhost", "localhost:8080", "LOCALHOST.", "127.0.0.1:80", "127.9.9.9", "[::1]:8080", "::1", "gateway.lan:8080"] {
            #expect(open.checkHost(request(["Host": host])) == nil, "\(host)")
        }
        for host in ["evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.nip.io", "[::2]:80", "10.0.0.1"] {
            #expect(open.checkHost(request(["Host": host]))?.status == 421, "\(host)")
        }
        let withToken = BrowserGuard(tokenConfigured: true, allowedHosts: [], corsOrigins: [])
        #expect(withToken.checkHost(request(["Host": "evil.example"])) == nil)
    }

    @Test("a write from a foreign origin or a cross-site fetch is 403; the own origin, listed ones and curl are not")
    func origins() {
        #expect(open.checkOrigin(request([:])) == nil)
        #expect(open.checkOrigin(request(["Host": "localhost:8080", "Origin": "http://localhost:8080"])) == nil)
        #expect(open.checkOrigin(request(["Host": "localhost:8080", "Origin": "http://trusted.example"])) == nil)
        #expect(open.checkOrigin(request(["Host": "localhost:8080", "Origin": "http://localhost:3000"]))?.status == 403)
        #expect(open.checkOrigin(request(["Host": "localhost:8080", "Origin": "null"]))?.status == 403)
        #expect(open.checkOrigin(request(["Sec-Fetch-Site": "cross-site"]))?.status == 403)
        #expect(open.checkOrigin(request(["Sec-Fetch-Site": "same-origin"])) == nil)
    }

    @Test("every write must say application/json, an empty one too")
    func contentType() {
        #expect(BrowserGuard.checkContentType(request(["Content-Type": "application/json; charset=utf-8"])) == nil)
        for type in ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data", "application/jsonx"] {
            #expect(BrowserGuard.checkContentType(request(["Content-Type": type]))?.status == 415, "\(type)")
        }
        #expect(BrowserGuard.checkContentType(request([:]))?.status == 415)
    }
}

@Suite("Limits")
struct LimitTests {
    @Test("after the limit of failures in a minute an address waits; others do not; the minute ends")
    func authThrottle() {
        let throttle = AuthThrottle(limit: 3, maxTracked: 2)
        for _ in 0..<3 { throttle.recordFailure(address: "a", now: 100) }
        #expect(throttle.retryAfter(address: "a", now: 110) == 50)
        #expect(throttle.retryAfter(address: "b", now: 110) == nil)
        #expect(throttle.retryAfter(address: "a", now: 161) == nil)
        // Beyond maxTracked addresses, new ones share a bucket instead of growing the table.
        throttle.recordFailure(address: "b", now: 200)
        for index in 0..<4 { throttle.recordFailure(address: "x\(index)", now: 200) }
        #expect(throttle.retryAfter(address: "y", now: 201) != nil)
    }

    @Test("a connection waiting for its request is shut down at its deadline; one being answered never is")
    func deadlines() {
        let expired = Mutex<[Int32]>([])
        let deadlines = RequestDeadlines(requestSeconds: 10, idleSeconds: 30) { fd in expired.withLock { $0.append(fd) } }
        deadlines.opened(1, descriptor: 11, now: 0)
        deadlines.opened(2, descriptor: 12, now: 0)
        deadlines.received(2)
        #expect(deadlines.expireOverdue(now: 9.9) == 0)
        #expect(deadlines.expireOverdue(now: 10) == 1)
        #expect(expired.withLock { $0 } == [11])
        deadlines.answered(2, now: 100)
        #expect(deadlines.expireOverdue(now: 129) == 0 && deadlines.expireOverdue(now: 130) == 1)
        deadlines.closed(1)
        deadlines.closed(2)
        #expect(deadlines.count == 0 && deadlines.expireOverdue(now: 1000) == 0)
    }

    @Test("beyond loopback a token must be 16 characters and no placeholder")
    func tokens() throws {
        let network = try ListenAddress(parsing: "0.0.0.0:8080")
        let loopback = try ListenAddress(parsing: "127.0.0.1:8080")
        #expect(TokenPolicy.refusal(token: "", address: loopback) == nil)
        for weak in ["", "short", "change-me", "ChangeMe", "secret", "password", "passw0rd", "aaaaaaaaaaaaaaaaaaaaaa", "change-me-please-now",
                     "passwordpassword", "secretsecretsecret", "1234567890123456", "9876543210987654",
                     "abcabcabcabcabcabc", "abcdefghijklmnopq", "PASTE-THE-OUTPUT-OF-dalygate-config-token"] {
            #expect(TokenPolicy.refusal(token: weak, address: network) != nil, "\(weak)")
        }
        #expect(TokenPolicy.refusal(token: "Zq3v-8fJxkP2_LmW0rTy", address: network) == nil)
    }

    @Test("the bearer scheme is case-insensitive and spaced freely; other schemes and empty tokens give none")
    func bearerHeader() {
        for header in ["Bearer abc", "bearer abc", "BEARER  abc", "\tBearer\tabc ", "Bearer abc  "] {
            #expect(TokenCheck.bearerToken(from: header) == "abc", "\(header)")
        }
        for header in ["Basic abc", "Bearer", "Bearer   ", "Bearerabc", "", "abc"] {
            #expect(TokenCheck.bearerToken(from: header) == nil, "\(header)")
        }
        #expect(TokenCheck.bearerToken(from: "Bearer a b") == "a b")
    }

    @Test("metrics labels come from fixed sets whatever the method")
    func metricsLabels() {
        let metrics = HTTPMetrics()
        metrics.countRequest(route: "/api/v1/state", method: "X\",route=\"y", status: 405)
        metrics.countRequest(route: "/api/v1/state", method: "GET", status: 200)
        metrics.countRequest(route: "bad\"label", method: "PATCH", status: 9999)
        let lines = metrics.render(snapshot: nil, ticks: 0).split(separator: "\n").filter { $0.hasPrefix("dalygate_http_requests_total{") }
        #expect(lines.sorted() == [
            "dalygate_http_requests_total{route=\"/api/v1/state\",method=\"GET\",status=\"200\"} 1",
            "dalygate_http_requests_total{route=\"/api/v1/state\",method=\"other\",status=\"405\"} 1",
            "dalygate_http_requests_total{route=\"unmatched\",method=\"other\",status=\"other\"} 1",
        ])
    }
}
