import Glibc

/// The server under test, from an `http://IPv4:port/path` URL, and a blocking GET of one Prometheus metric.
struct HTTPEndpoint {
    let host: String
    let path: String
    let address: sockaddr_in

    init(url: String) throws {
        guard url.hasPrefix("http://") else { throw SSEBenchmark.UsageError(description: "--url must be http://IPv4:port/path") }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        path = rest.count > authority.count ? String(rest.dropFirst(authority.count)) : "/api/v1/events"
        host = String(authority)
        let parts = authority.split(separator: ":")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(parts.count == 2 ? Int(parts[1]) ?? 80 : 80).bigEndian)
        guard inet_pton(AF_INET, String(parts[0]), &address.sin_addr) == 1 else {
            throw SSEBenchmark.UsageError(description: "--url: '\(parts[0])' is not an IPv4 address")
        }
        self.address = address
    }

    /// GET /metrics and the value of `name` (0 when the server does not report it).
    func metric(_ name: String) throws -> Double {
        let text = try get("/metrics")
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1)) ?? 0
        }
        return 0
    }

    private func get(_ path: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = self.address
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SSEBenchmark.UsageError(description: "cannot connect to \(host): errno \(errno)") }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            response += chunk[0..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }
}
