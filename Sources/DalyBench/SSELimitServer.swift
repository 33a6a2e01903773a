import Glibc
import Synchronization
import Workers

/// `DalyBench sse-limit --port P --payload-file F --interval-ms M`: the least work any SSE server can do, as the
/// peer the gateway's fan-out is measured beside. It answers every stream request with chunked headers, then every
/// M ms frames one event (the payload file's bytes, with the same `: published`, `id:` and `event:` lines the
/// gateway writes) once, and sends it to every stream with one non-blocking `send` each, split over one thread per
/// core. Nothing else: no routing, no queues, no suspend and resume. A stream whose socket cannot take the whole event
/// is closed and counted in `dalygate_sse_dropped_total` on `GET /metrics`, so `DalyBench sse` reads it as it reads
/// the gateway's. Whatever latency the load generator measures against this server is what the kernel's loopback and
/// the generator itself cost on this machine: the floor under the gateway's figures.
struct SSELimitServer {
    var port: UInt16 = 0
    var payload: [UInt8] = Array("{}".utf8)
    var interval: Duration = .milliseconds(300)
    var threads = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    init(arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw SSEBenchmark.UsageError(description: "\(flag) needs a value") }
            switch flag {
            case "--port":
                guard let number = UInt16(value), number > 0 else {
                    throw SSEBenchmark.UsageError(description: "--port must be 1 to 65535")
                }
                port = number
            case "--payload-file":
                guard let bytes = Self.read(path: value), !bytes.isEmpty, !bytes.contains(UInt8(ascii: "\n")) else {
                    throw SSEBenchmark.UsageError(description: "--payload-file must name a readable one-line file")
                }
                payload = bytes
            case "--interval-ms":
                guard let milliseconds = Int(value), milliseconds > 0 else {
                    throw SSEBenchmark.UsageError(description: "--interval-ms must be a positive whole number")
                }
                interval = .milliseconds(milliseconds)
            case "--threads":
                guard let count = Int(value), count > 0 else {
                    throw SSEBenchmark.UsageError(description: "--threads must be a positive whole number")
                }
                threads = count
            default:
                throw SSEBenchmark.UsageError(
                    description: "unknown option \(flag); use --port P --payload-file F [--interval-ms M] [--threads T]")
            }
        }
        guard port > 0 else { throw SSEBenchmark.UsageError(description: "--port is required") }
    }

    /// Serves until the process is killed.
    func run() throws {
        SSEBenchmark.raiseDescriptorLimit()
        let listener = try Self.listen(port: port)
        let streams = (0..<threads).map { _ in StreamShard() }
        let dropped = Atomic<Int>(0)
        let event = Mutex<(generation: Int, bytes: [UInt8])>((0, []))
        let wakes = try (0..<threads).map { _ in try WakePipe() }
        let senders = (0..<threads).map { index in
            OwnedThread(name: "sse-limit-\(index)") {
                var sent = 0
                while true {
                    _ = wakes[index].wait(until: nil)
                    wakes[index].drain()
                    let (generation, bytes) = event.withLock { ($0.generation, $0.bytes) }
                    guard generation != sent else { continue }
                    sent = generation
                    let lost = streams[index].fds.withLock { fds in Self.send(bytes, to: &fds) }
                    dropped.add(lost, ordering: .relaxed)
                }
            }
        }
        let acceptor = OwnedThread(name: "sse-limit-accept") {
            var next = 0
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { continue }
                if Self.answer(client, dropped: dropped.load(ordering: .relaxed)) {
                    streams[next % streams.count].fds.withLock { $0.append(client) }
                    next += 1
                } else {
                    close(client)
                }
            }
        }
        FileHandleStandardError.write("listening on 127.0.0.1:\(port)\n")
        var id: UInt64 = 0
        var due = ContinuousClock.now
        while true {
            due += interval
            let (seconds, attoseconds) = (due - .now).components
            if seconds >= 0 && (seconds > 0 || attoseconds > 0) {
                var pause = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                var left = timespec()
                while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
            }
            id += 1
            let bytes = Self.chunk(id: id, payload: payload, publishedMilliseconds: Int64(SSEWorker.nowMilliseconds()))
            event.withLock { $0 = (Int(id), bytes) }
            for wake in wakes { wake.signal() }
        }
        _ = (senders, acceptor)
    }

    /// One event in the gateway's wire form, as one HTTP/1.1 chunk.
    static func chunk(id: UInt64, payload: [UInt8], publishedMilliseconds: Int64) -> [UInt8] {
        let body = Array(": published \(publishedMilliseconds)\nid: \(id)\nevent: state\ndata: ".utf8) + payload + Array("\n\n".utf8)
        return Array(String(body.count, radix: 16).utf8) + Array("\r\n".utf8) + body + Array("\r\n".utf8)
    }

    /// Sends `bytes` to every stream with one non-blocking send each; closes and forgets the streams that could not
    /// take all of it, and returns how many those were.
    static func send(_ bytes: [UInt8], to fds: inout [Int32]) -> Int {
        var lost = 0
        fds.removeAll { fd in
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            guard written != bytes.count else { return false }
            close(fd)
            lost += 1
            return true
        }
        return lost
    }

    /// Reads the request head; answers `/metrics` (and closes) or starts a stream. True when a stream started.
    private static func answer(_ client: Int32, dropped: Int) -> Bool {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while !head.ends(with: Array("\r\n\r\n".utf8)) && head.count < 16_384 {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            head += buffer[0..<count]
        }
        let isMetrics = head.starts(with: Array("GET /metrics ".utf8))
        let body = "dalygate_sse_dropped_total \(dropped)\n"
        let reply = isMetrics
            ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            : "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
        let bytes = Array(reply.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            return false
        }
        return !isMetrics
    }

    private static func listen(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, Glibc.listen(fd, 4096) == 0 else {
            throw SSEBenchmark.UsageError(description: "cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    private static func read(path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        while let last = bytes.last, last == UInt8(ascii: "\n") { bytes.removeLast() }
        return bytes
    }
}

/// The streams one sender thread owns (a Mutex cannot live in an array by itself).
private final class StreamShard: Sendable {
    let fds = Mutex<[Int32]>([])
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
