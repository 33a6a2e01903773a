import Foundation

/// RFC 9457 problem details: every error of the API. Handlers and wrappers `throw` one; the router turns it into
/// the application/problem+json response (``response``).
public struct Problem: Error, Equatable, Sendable {
    public var status: Int
    public var title: String
    public var detail: String
    /// Seconds for a `Retry-After` header (429, 503).
    public var retryAfter: Int?
    /// Extra headers (`Allow` on a 405).
    public var headers: [Header] = []

    /// A header name and value (a struct, so that Problem stays Equatable).
    public struct Header: Equatable, Sendable {
        public var name: String
        public var value: String
    }

    public init(_ status: Int, _ title: String, _ detail: String, retryAfter: Int? = nil) {
        self.status = status
        self.title = title
        self.detail = detail
        self.retryAfter = retryAfter
    }

    public static func badRequest(_ detail: String) -> Problem { Problem(400, "Bad Request", detail) }
    public static func unauthorized(_ detail: String) -> Problem { Problem(401, "Unauthorized", detail) }
    public static func forbidden(_ detail: String) -> Problem { Problem(403, "Forbidden", detail) }
    public static func notFound(_ detail: String) -> Problem { Problem(404, "Not Found", detail) }
    public static func methodNotAllowed(_ detail: String, allowed: [String]) -> Problem {
        var problem = Problem(405, "Method Not Allowed", detail)
        problem.headers = [Header(name: "Allow", value: allowed.joined(separator: ", "))]
        return problem
    }
    public static func conflict(_ detail: String) -> Problem { Problem(409, "Conflict", detail) }
    public static func tooLarge(_ detail: String) -> Problem { Problem(413, "Content Too Large", detail) }
    public static func unsupportedMediaType(_ detail: String) -> Problem { Problem(415, "Unsupported Media Type", detail) }
    public static func unprocessable(_ detail: String) -> Problem { Problem(422, "Unprocessable Content", detail) }
    public static func badGateway(_ detail: String) -> Problem { Problem(502, "Bad Gateway", detail) }
    public static func unavailable(_ detail: String, retryAfter: Int? = nil) -> Problem {
        Problem(503, "Service Unavailable", detail, retryAfter: retryAfter)
    }
    public static func tooManyRequests(_ detail: String, retryAfter: Int) -> Problem {
        Problem(429, "Too Many Requests", detail, retryAfter: retryAfter)
    }

    /// The members RFC 9457 defines, as they go on the wire.
    private struct Document: Encodable {
        let type = "about:blank"
        let title: String
        let status: Int
        let detail: String
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public var response: HTTPResponse {
        let body = (try? Self.encoder.encode(Document(title: title, status: status, detail: detail))) ?? Data()
        var headers = [("Content-Type", "application/problem+json")]
        if status == 401 { headers.append(("WWW-Authenticate", "Bearer realm=\"dalygate\"")) }
        if let retryAfter { headers.append(("Retry-After", String(retryAfter))) }
        headers += self.headers.map { ($0.name, $0.value) }
        return HTTPResponse(status: status, headers: headers, body: .bytes(Array(body)))
    }
}
