import CMicroHTTPD
import Foundation

/// Serves files from a directory (public/, and the Debian libjs packages under /vendor/): MIME types, strong ETags
/// with If-None-Match, gzip for text when the client accepts it, and no way out of the root.
///
/// Files are read and compressed on first use and cached (they are small and change only with a release).
public final class StaticFiles: Sendable {
    public let root: String
    private let cache = CacheBox()

    public init(root: String) {
        self.root = (root as NSString).standardizingPath
    }

    public func response(for relativePath: String, request: HTTPRequest) -> HTTPResponse? {
        guard let file = load(relativePath) else { return nil }
        var headers: [(String, String)] = [("Content-Type", file.type), ("ETag", file.etag), ("Cache-Control", "no-cache")]
        if request.header("if-none-match")?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == file.etag }) == true {
            return HTTPResponse(status: 304, headers: headers)
        }
        if let gzip = file.gzip, request.header("accept-encoding")?.contains("gzip") == true {
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
            return HTTPResponse(status: 200, headers: headers, body: .bytes(gzip))
        }
        if file.gzip != nil { headers.append(("Vary", "Accept-Encoding")) }
        return HTTPResponse(status: 200, headers: headers, body: .bytes(file.bytes))
    }

    struct File: Sendable {
        let bytes: [UInt8]
        let gzip: [UInt8]?
        let type: String
        let etag: String
    }

    private func load(_ relativePath: String) -> File? {
        // Refuse anything that could climb out of the root before touching the file system.
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.contains(where: { $0 == ".." || $0.hasPrefix(".") || $0.contains("\0") || $0.contains("\\") }) else { return nil }
        let path = (root as NSString).appendingPathComponent(parts.joined(separator: "/"))
        guard path.hasPrefix(root + "/") else { return nil }
        if let cached = cache.get(path) { return cached }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return load(relativePath + "/index.html") }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = Array(data)
        let type = Self.mimeType(path)
        let compressible = type.hasPrefix("text/") || type.contains("javascript") || type.contains("json") || type.contains("svg")
            || type.contains("yaml")
        let file = File(bytes: bytes, gzip: compressible && bytes.count > 512 ? Self.gzip(bytes) : nil, type: type,
                        etag: "\"\(String(Self.fnv1a(bytes), radix: 16))-\(bytes.count)\"")
        cache.put(path, file)
        return file
    }

    static func gzip(_ bytes: [UInt8]) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: bytes.count + 64)
        let size = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { gw_gzip(input.baseAddress, input.count, $0.baseAddress, $0.count) }
        }
        guard size > 0, size < bytes.count else { return nil }
        return Array(output.prefix(size))
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    public static func mimeType(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "html", "htm": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "json", "map": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "webmanifest": "application/manifest+json"
        case "yaml", "yml": "application/yaml"
        case "txt": "text/plain; charset=utf-8"
        case "woff2": "font/woff2"
        default: "application/octet-stream"
        }
    }
}

import Synchronization

/// The file cache behind a mutex (MHD calls from several threads).
final class CacheBox: Sendable {
    private let files = Mutex<[String: StaticFiles.File]>([:])
    func get(_ key: String) -> StaticFiles.File? { files.withLock { $0[key] } }
    func put(_ key: String, _ file: StaticFiles.File) { files.withLock { $0[key] = file } }
}
