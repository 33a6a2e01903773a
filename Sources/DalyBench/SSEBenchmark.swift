import Glibc
import LinuxHardware
import Workers

/// `DalyBench sse --url URL --clients N --seconds S`: N Server-Sent-Events clients on epoll, one thread per core,
/// spread over 127.0.0.x source addresses, asking in HTTP/1.1 as browsers do (`--http 1.0` for the unchunked path).
/// After every client is connected it measures, for the events published during the next S seconds, how many reached
/// how many clients and how late (from the `: published` comment the server writes), reads the server's drop counter
/// from /metrics, and prints one JSON line.
struct SSEBenchmark {
    var url = "http://127.0.0.1:8080/api/v1/events"
    var clients = 100
    var seconds = 10.0
    var threads = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    /// HTTP/1.1 by default, as a browser's EventSource asks (the server answers chunked); 1.0 measures the other path.
    var httpVersion = "1.1"

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    init(arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            switch flag {
            case "--url": url = value
            case "--clients": clients = try Self.positive(Int(value), flag)
            case "--seconds": seconds = Double(try Self.positive(Int(value), flag))
            case "--threads": threads = try Self.positive(Int(value), flag)
            case "--http":
                guard value == "1.0" || value == "1.1" else { throw UsageError(description: "--http must be 1.0 or 1.1") }
                httpVersion = value
            default:
                throw UsageError(description: "unknown option \(flag); use --url URL --clients N --seconds S [--threads T] [--http 1.0|1.1]")
            }
        }
    }

    private static func positive(_ value: Int?, _ flag: String) throws -> Int {
        guard let value, value > 0 else { throw UsageError(description: "\(flag) must be a positive whole number") }
        return value
    }

    func run() throws {
        Self.raiseDescriptorLimit()
        let endpoint = try HTTPEndpoint(url: url)
        let droppedBefore = try endpoint.metric("dalygate_sse_dropped_total")
        let control = SSERunControl()
        let request = Array("GET \(endpoint.path) HTTP/\(httpVersion)\r\nHost: \(endpoint.host)\r\nAccept: text/event-stream\r\n\r\n".utf8)
        let workers = (0..<threads).map { index in
            let share = Array(stride(from: index, to: clients, by: threads))
            let worker = SSEWorker(target: endpoint.address, request: request, clients: share, control: control,
                                   connectSeconds: 60 + Double(clients) / 200)
            return OwnedThread(name: "sse-bench-\(index)") { worker.run() }
        }
        while control.connectDone.load(ordering: .relaxed) < threads { usleep(10_000) }
        // Every stream has had a moment to start before the window opens.
        sleep(1)
        let start = Int64(SSEWorker.nowMilliseconds())
        control.windowEnd.store(start + Int64(seconds * 1000), ordering: .relaxed)
        control.windowStart.store(start, ordering: .relaxed)
        // A caller that knows the server's process measures its CPU time between these two lines.
        FileHandleStandardError.write("window open\n")
        usleep(UInt32(seconds * 1_000_000))
        // Late events published inside the window still count when they arrive within this grace time.
        sleep(2)
        FileHandleStandardError.write("window closed\n")
        control.stop.store(true, ordering: .relaxed)
        for worker in workers { worker.join() }
        let droppedAfter = try endpoint.metric("dalygate_sse_dropped_total")

        let results = control.results.withLock { $0 }
        let connected = control.connected.load(ordering: .relaxed)
        let minID = results.map(\.minID).min() ?? .max
        let maxID = results.map(\.maxID).max() ?? .min
        let published = maxID >= minID ? Int(maxID - minID + 1) : 0
        var latencies = results.flatMap(\.latenciesMilliseconds)
        latencies.sort()
        let fields: [(String, String)] = [
            ("clients", "\(clients)"), ("connected", "\(connected)"),
            ("events_expected", "\(published * connected)"),
            ("events_received", "\(results.reduce(0) { $0 + $1.received })"),
            ("dropped", "\(Int(droppedAfter - droppedBefore))"),
            ("p50_ms", Self.percentile(latencies, 0.50)), ("p99_ms", Self.percentile(latencies, 0.99)),
            ("max_ms", Self.percentile(latencies, 1.0)),
            ("events_published", "\(published)"), ("closed_by_server", "\(results.reduce(0) { $0 + $1.closedByServer })"),
            ("refused", "\(results.reduce(0) { $0 + $1.refused })"), ("threads", "\(threads)"), ("seconds", "\(Int(seconds))"),
        ]
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }

    static func percentile(_ sorted: [Double], _ q: Double) -> String {
        guard !sorted.isEmpty else { return "null" }
        return DalyBench.fixed(sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))], 1)
    }

    /// 10 000 clients need more descriptors than the usual soft limit of 1024.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
