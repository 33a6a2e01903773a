import Glibc
import Workers

/// Runs a syscall-style function, retrying on EINTR; returns its result or the errno it failed with.
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> Result<T, Errno> {
    while true {
        let result = body()
        if result >= 0 { return .success(result) }
        if errno != EINTR { return .failure(Errno(errno)) }
    }
}

extension String {
    /// Decodes a NUL-terminated C buffer.
    init(nulTerminated buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
