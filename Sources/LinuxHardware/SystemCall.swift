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

/// The error kinds a driver reports for a device node it could not open.
struct OpenFailureKinds<Kind> {
    var missing: Kind
    var permissionDenied: Kind
    var other: Kind
}

/// Opens a device node read-write (close-on-exec), or throws the driver's own error: `missing` says what to check
/// when the node does not exist, `group` which group grants access, and `error` builds the error from kind and text.
func openDeviceNode<Kind, Failure: Error>(
    _ path: String, kinds: OpenFailureKinds<Kind>, missing: String, group: String,
    error: (Kind, String) -> Failure
) throws(Failure) -> Int32 {
    switch retryingOnInterrupt({ open(path, O_RDWR | O_CLOEXEC) }) {
    case .success(let fd):
        return fd
    case .failure(let failure) where failure.code == ENOENT:
        throw error(kinds.missing, missing)
    case .failure(let failure) where failure.code == EACCES || failure.code == EPERM:
        throw error(kinds.permissionDenied, "permission denied: add the user to the \(group) group or run as root")
    case .failure(let failure):
        throw error(kinds.other, "cannot open: \(failure)")
    }
}

extension String {
    /// Decodes a NUL-terminated C buffer.
    init(nulTerminated buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
