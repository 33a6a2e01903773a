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

/// The error kinds a driver reports for a device node it could not open, or that turned out to be another device.
struct OpenFailureKinds<Kind> {
    var missing: Kind
    var permissionDenied: Kind
    var wrongDevice: Kind
    var other: Kind
}

/// An open device node (/dev/gpiochipN, /dev/i2c-N) of the kind its driver wanted: its path and descriptor, closed
/// when the driver that owns it goes.
final class DeviceNode: Sendable {
    let path: String
    let fd: Int32

    /// Opens the node read-write (close-on-exec) and asks it whether it is the device wanted, or throws the driver's
    /// own error: `missing` says what to check when the node does not exist, `group` which group grants access,
    /// `identify` returns why the open node is not the device wanted (nil when it is), `error` builds the error.
    init<Kind, Failure: Error>(
        opening path: String, kinds: OpenFailureKinds<Kind>, missing: String, group: String,
        identify: (Int32) -> String?, error: (Kind, String) -> Failure
    ) throws(Failure) {
        self.path = path
        switch retryingOnInterrupt({ open(path, O_RDWR | O_CLOEXEC) }) {
        case .success(let fd):
            if let wrong = identify(fd) {
                close(fd)
                throw error(kinds.wrongDevice, wrong)
            }
            self.fd = fd
        case .failure(let failure) where failure.code == ENOENT:
            throw error(kinds.missing, missing)
        case .failure(let failure) where failure.code == EACCES || failure.code == EPERM:
            throw error(kinds.permissionDenied, "permission denied: add the user to the \(group) group or run as root")
        case .failure(let failure):
            throw error(kinds.other, "cannot open: \(failure)")
        }
    }

    deinit { close(fd) }
}

extension String {
    /// Decodes a NUL-terminated C buffer.
    init(nulTerminated buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
