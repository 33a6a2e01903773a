import Foundation
import Glibc

/// The rules that keep a web page in the user's browser from reaching DalyGate's relays: DNS rebinding (a foreign
/// `Host`, 421), cross-site writes (a foreign `Origin` or `Sec-Fetch-Site: cross-site`, 403) and form posts (any
/// write not declared `application/json`, 415; a form cannot send that type without a CORS preflight). curl and the
/// status page send none of what is refused. Pure, so every rule is tested without a socket.
public struct BrowserGuard: Sendable {
    /// With a token, `Host` is not checked: a rebound page cannot know the token.
    public var tokenConfigured: Bool
    /// Host names served besides loopback ones when no token is set (`http.allowed_hosts`), lower case.
    public var allowedHosts: Set<String>
    /// Origins allowed to write besides the gateway's own (`http.cors_origins`; "*" allows any).
    public var corsOrigins: Set<String>

    public init(tokenConfigured: Bool, allowedHosts: [String], corsOrigins: [String]) {
        self.tokenConfigured = tokenConfigured
        self.allowedHosts = Set(allowedHosts.map { Self.hostName($0) })
        self.corsOrigins = Set(Self.effectiveCORSOrigins(corsOrigins, tokenConfigured: tokenConfigured).map { $0.lowercased() })
    }

    /// The `http.cors_origins` that apply: "*" only with a token. Without one, any web page the user opens could
    /// switch the relays; an origin named explicitly is the user's own choice and stays.
    public static func effectiveCORSOrigins(_ origins: [String], tokenConfigured: Bool) -> [String] {
        tokenConfigured ? origins : origins.filter { $0 != "*" }
    }

    /// 421 when no token is configured and `Host` names anything but this machine or an allowed host.
    public func checkHost(_ request: HTTPRequest) -> Problem? {
        guard !tokenConfigured, let host = request.header("host") else { return nil }
        let name = Self.hostName(host)
        if Self.isLoopbackName(name) || allowedHosts.contains(name) { return nil }
        return Problem(421, "Misdirected Request",
                       "Host \(ClientInput.quote(host)) is not this gateway: without a token only loopback names are served;"
                       + " add the name to http.allowed_hosts or set a token")
    }

    /// 403 when a write comes from a page of another origin.
    public func checkOrigin(_ request: HTTPRequest) -> Problem? {
        let origin = request.header("origin")
        if let origin, corsOrigins.contains("*") || corsOrigins.contains(origin.lowercased()) { return nil }
        if let origin, let host = request.header("host"),
           ["http://", "https://"].contains(where: { origin.lowercased() == $0 + host.lowercased() }) {
            return nil
        }
        if let origin {
            return .forbidden("writes from the origin \(ClientInput.quote(origin)) are refused: list it in http.cors_origins")
        }
        if request.header("sec-fetch-site")?.lowercased() == "cross-site" {
            return .forbidden("cross-site writes are refused: list the page's origin in http.cors_origins")
        }
        return nil
    }

    /// 415 unless the request declares `application/json` (every write, an empty POST too).
    public static func checkContentType(_ request: HTTPRequest) -> Problem? {
        let type = request.header("content-type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            return .unsupportedMediaType("every write needs 'Content-Type: application/json' (an empty POST too)")
        }
        return nil
    }

    /// "Example.COM.:8080" → "example.com"; "[::1]:8080" → "::1".
    static func hostName(_ host: String) -> String {
        var name = Substring(host.lowercased())
        if name.hasPrefix("[") {
            name = name.dropFirst().prefix { $0 != "]" }
        } else if name.filter({ $0 == ":" }).count == 1, let colon = name.lastIndex(of: ":") {
            name = name[..<colon]
        }
        while name.hasSuffix(".") { name = name.dropLast() }
        return String(name)
    }

    /// localhost, 127.0.0.0/8 and ::1.
    static func isLoopbackName(_ name: String) -> Bool {
        if name == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 { return withUnsafeBytes(of: v6) { $0.dropLast().allSatisfy { $0 == 0 } && $0.last == 1 } }
        return false
    }
}
