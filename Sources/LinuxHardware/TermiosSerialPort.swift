import CLinuxHardware
import DeviceKit
import Glibc
import Workers

/// A serial port on any Linux tty (a UART, a USB adapter, a pseudo-terminal) in raw 9600 8N1 mode.
///
/// Reads wait with ppoll(2) against a deadline: no busy waiting and no fixed sleeps. The descriptor is owned and
/// closed on deinit; the port belongs to the one thread that uses it.
public final class TermiosSerialPort: SerialPort {
    public let path: String
    private let fd: Int32

    /// Opens `path` read/write, non-blocking, without becoming its controlling terminal, and sets raw 8N1 at `baud`.
    public init(path: String, baud: Int = 9600) throws(SerialPortError) {
        ProcessSignals.ignoreBrokenPipes()
        self.path = path
        let opened = retryingOnInterrupt { open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC) }
        guard case .success(let fd) = opened else {
            if case .failure(let error) = opened { throw SerialPortError(path: path, message: Self.advice(for: error)) }
            fatalError("unreachable")
        }
        self.fd = fd
        do {
            try Self.configureRaw(fd: fd, baud: baud)
        } catch {
            close(fd)
            throw SerialPortError(path: path, message: "not a serial port: \(error)")
        }
    }

    deinit { close(fd) }

    private static func advice(for error: Errno) -> String {
        switch error.code {
        case ENOENT: "no such device: is the adapter plugged in and the path right?"
        case EACCES, EPERM: "permission denied: add the user to the dialout group or run as root"
        case EBUSY: "device busy: another program has it open"
        default: "cannot open: \(error)"
        }
    }

    /// termios raw mode: 8 data bits, no parity, 1 stop bit, no flow control, receiver on, modem lines ignored.
    static func configureRaw(fd: Int32, baud: Int) throws(Errno) {
        var options = termios()
        guard tcgetattr(fd, &options) == 0 else { throw Errno(errno) }
        cfmakeraw(&options)
        options.c_cflag &= ~(tcflag_t(PARENB | CSTOPB | CSIZE) | tcflag_t(CRTSCTS))
        options.c_cflag |= tcflag_t(CS8 | CLOCAL | CREAD)
        options.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
        let speed = speedConstant(baud)
        cfsetispeed(&options, speed)
        cfsetospeed(&options, speed)
        // Non-blocking reads return what is there; waiting is done by ppoll.
        withUnsafeMutableBytes(of: &options.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(fd, TCSANOW, &options) == 0 else { throw Errno(errno) }
    }

    static func speedConstant(_ baud: Int) -> speed_t {
        switch baud {
        case 1200: speed_t(B1200)
        case 2400: speed_t(B2400)
        case 4800: speed_t(B4800)
        case 19200: speed_t(B19200)
        case 38400: speed_t(B38400)
        case 57600: speed_t(B57600)
        case 115200: speed_t(B115200)
        default: speed_t(B9600)
        }
    }

    public func write(_ bytes: [UInt8]) throws(SerialPortError) {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if result >= 0 {
                offset += result
            } else if errno == EAGAIN {
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = gw_ppoll(&descriptor, 1, 1_000_000_000)
            } else if errno != EINTR {
                throw SerialPortError(path: path, message: "write failed: \(errnoMessage())")
            }
        }
    }

    public func read(upTo maxCount: Int, deadline: ContinuousClock.Instant) throws(SerialPortError) -> [UInt8] {
        while true {
            let received = try readAvailable(upTo: maxCount)
            if !received.isEmpty { return received }
            do {
                guard try waitReadable(fd, deadline: deadline) else { return [] }
            } catch {
                throw SerialPortError(path: path, message: "poll failed: \(error)")
            }
            if ContinuousClock.now >= deadline {
                return try readAvailable(upTo: maxCount)
            }
        }
    }

    @discardableResult
    public func discardInput() throws(SerialPortError) -> Int {
        var total = 0
        while true {
            let chunk = try readAvailable(upTo: 4096)
            if chunk.isEmpty { return total }
            total += chunk.count
        }
    }

    private func readAvailable(upTo maxCount: Int) throws(SerialPortError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maxCount)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, maxCount) }
            if count >= 0 { return Array(buffer.prefix(count)) }
            switch errno {
            case EINTR: continue
            case EAGAIN: return []
            // A pseudo-terminal whose other side is gone reads EIO: report it as a gone device.
            case EIO: throw SerialPortError(path: path, message: "device gone (I/O error): was it unplugged?")
            default: throw SerialPortError(path: path, message: "read failed: \(errnoMessage())")
            }
        }
    }
}
