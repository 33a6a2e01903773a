import Foundation

/// RFC 9457 problem details: every error of the API, as application/problem+json.
public struct Problem: Error, Equatable, Sendable {
    public var status: Int
    public var title: String
    public var detail: String

    public init(_ status: Int, _ title: String, _ detail: String) {
        self.status = status
        self.title = title
        self.detail = detail
    }

    public static func badRequest(_ detail: String) -> Problem { Problem(400, "Bad Request", detail) }
    public static func unauthorized(_ detail: String) -> Problem { Problem(401, "Unauthorized", detail) }
    public static func notFound(_ detail: String) -> Problem { Problem(404, "Not Found", detail) }
    public static func conflict(_ detail: String) -> Problem { Problem(409, "Conflict", detail) }
    public static func tooLarge(_ detail: String) -> Problem { Problem(413, "Content Too Large", detail) }
    public static func unsupportedMediaType(_ detail: String) -> Problem { Problem(415, "Unsupported Media Type", detail) }
    public static func unprocessable(_ detail: String) -> Problem { Problem(422, "Unprocessable Content", detail) }
    public static func unavailable(_ detail: String) -> Problem { Problem(503, "Service Unavailable", detail) }

    public var response: HTTPResponse {
        let object: [String: Any] = ["type": "about:blank", "title": title, "status": status, "detail": detail]
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        var headers = [("Content-Type", "application/problem+json")]
        if status == 401 { headers.append(("WWW-Authenticate", "Bearer realm=\"dalygate\"")) }
        return HTTPResponse(status: status, headers: headers, body: .bytes(Array(body)))
    }
}
