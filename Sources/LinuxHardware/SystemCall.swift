import Glibc

/// errno as a readable message: "No such file or directory (errno 2)".
func errnoMessage(_ code: Int32 = errno) -> String {
    "\(String(validatingCString: strerror(code)) ?? "unknown error") (errno \(code))"
}

/// Runs a syscall-style function, retrying on EINTR; returns its result or the errno it failed with.
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> Result<T, Errno> {
    while true {
        let result = body()
        if result >= 0 { return .success(result) }
        if errno != EINTR { return .failure(Errno(errno)) }
    }
}

/// A failed system call's errno, typed so that callers can tell "missing" from "permission denied".
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }
    public var description: String { errnoMessage(code) }
    public static let noSuchFile = Errno(ENOENT)
    public static let permissionDenied = Errno(EACCES)
}

extension String {
    /// Decodes a NUL-terminated C buffer.
    init(nulTerminated buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
