import Glibc

/// A failed system call's errno, typed so that callers can tell "missing" from "permission denied".
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }
    public var description: String { errnoMessage(code) }
    public static let noSuchFile = Errno(ENOENT)
    public static let permissionDenied = Errno(EACCES)
}

/// errno as a readable message: "No such file or directory (errno 2)".
public func errnoMessage(_ code: Int32 = errno) -> String {
    "\(String(validatingCString: strerror(code)) ?? "unknown error") (errno \(code))"
}
