import CMicroHTTPD
import Dispatch
import Foundation
import Synchronization

/// The gateway's HTTP server on libmicrohttpd.
///
/// Threading, chosen by measurement (docs/benchmarks.md): epoll on a pool of internal threads, one per core, with
/// suspend/resume. Thread-per-connection was ruled out because it cannot suspend (SSE would need a thread per
/// client, 1000 clients = 1000 threads), and select() stops at 1024 descriptors. Each SSE connection is suspended
/// whenever its queue is empty and resumed by its feed, so idle streams cost no CPU; a deferred response (a write
/// waiting for the controller) suspends its connection until its completion resumes it: no thread waits.
///
/// The server knows its application only as an ``HTTPApplication`` (responses, and an ``EventSource`` for the
/// streams): nothing of the controller.
///
/// Limits (all `http.*` config keys): connections in all and per client address (libmicrohttpd refuses the rest),
/// SSE streams (503 beyond), writes waiting for the controller (429 beyond), a deadline for each request's head and
/// body (the socket is shut down), events replayed on resume.
public final class HTTPServer: Sendable {
    let application: any HTTPApplication
    public let address: ListenAddress
    let limits: HTTPServerLimits
    var maxBodyBytes: Int { limits.maxBodyBytes }
    let deadlines: RequestDeadlines
    private let daemon: Mutex<DaemonHandle?> = Mutex(nil)
    /// Whether the server stops, the writes in flight and the open streams change together under this one lock, so
    /// `stop()` never misses a write or a stream that was admitted at the same moment.
    private let lifecycle = Mutex(Lifecycle())
    /// Entered for each admitted write and stream, left when it ends: `stop()` waits on it (no polling).
    private let inFlight = DispatchGroup()
    private let timers = ServerTimers()
    private let lastKeepAlive = Mutex<Double>(0)
    public let keepAliveSeconds: Double
    /// libmicrohttpd's memory pool per connection: it holds the request head, so it sets the longest head accepted
    /// (half of it: libmicrohttpd 0.9.75 reads the head into half of the pool; 28 KiB keeps a 14 KB head, 12 KB of
    /// cookies, test_hostile.py; 24 KiB refuses those cookies with 431). libmicrohttpd zeroes that half once the head
    /// is parsed, which makes it resident, and an event stream holds its pool for as long as it is open: a chunked
    /// stream gives those pages back while it waits (``StreamPageRelease``), so it keeps only the pages it writes.
    static let connectionMemory = 28 * 1024
    /// Bytes at the start of a stream's buffer that stay resident, and the most it writes there per call: room for
    /// an ordinary state event (about 2.3 KB for one pack) in one send, while a stream never touches more.
    static let streamKeptBytes = 4 * 1024
    static let pageSize = max(4096, sysconf(Int32(_SC_PAGESIZE)))
    /// The buffer of one event stream's response. A chunked (HTTP/1.1) stream never uses it: libmicrohttpd has the
    /// reader fill the connection's own write buffer. Only an HTTP/1.0 stream passes through it, in pieces of this
    /// size; so it is small, as it is allocated for every stream.
    static let streamBlock = 1024

    struct Lifecycle {
        var stopping = false
        var writesInFlight = 0
        /// Deferred responses resumed whose request libmicrohttpd has not completed yet (their answer is not sent).
        var answersUnsent = 0
        var streams: [ObjectIdentifier: SSEClient] = [:]
    }

    /// How long `stop()` waits for answers already resumed to be sent before it stops the daemon.
    static let answerDrainSeconds = 2.0

    /// Validates the address and the token rule (beyond loopback a strong token is required).
    public init(application: any HTTPApplication, limits: HTTPServerLimits, token: String, listen: String,
                keepAliveSeconds: Double = 15) throws(HTTPServerError) {
        address = try ListenAddress(parsing: listen)
        if let refusal = TokenPolicy.refusal(token: token, address: address) { throw HTTPServerError(refusal) }
        self.application = application
        self.limits = limits
        self.keepAliveSeconds = keepAliveSeconds
        deadlines = RequestDeadlines(requestSeconds: Double(limits.requestDeadlineSeconds),
                                     idleSeconds: Double(limits.connectionTimeoutSeconds))
    }

    /// The bound port (the real one when listening on port 0).
    public var port: Int { daemon.withLock { $0.map { Int(gw_mhd_bound_port($0.pointer)) } } ?? Int(address.port) }

    public func start() throws(HTTPServerError) {
        let settings = limits
        let context = Unmanaged.passUnretained(self).toOpaque()
        let pointer = address.withSocketAddress { socketAddress in
            gw_mhd_start(socketAddress, address.isIPv6 ? 1 : 0, UInt32(max(2, ProcessInfo.processInfo.activeProcessorCount)),
                         UInt32(settings.maxConnections), UInt32(settings.maxConnectionsPerClient),
                         UInt32(settings.connectionTimeoutSeconds), Self.connectionMemory, accessHandler, context, requestCompleted, context,
                         connectionNotified, context)
        }
        guard let pointer else {
            throw HTTPServerError("cannot listen on \(address): the port is in use or the address is not on this machine")
        }
        daemon.withLock { $0 = DaemonHandle(pointer: pointer) }
        lastKeepAlive.withLock { $0 = ProcessInfo.processInfo.systemUptime }
        timers.start(every: 0.5) { [weak self] in self?.tick(now: ProcessInfo.processInfo.systemUptime) }
    }

    /// Every half second: cut off slow senders, and send keep-alives when they are due.
    private func tick(now: Double) {
        deadlines.expireOverdue(now: now)
        let due = lastKeepAlive.withLock { last -> Bool in
            guard now - last >= keepAliveSeconds else { return false }
            last = now
            return true
        }
        if due {
            for client in streams() { client.wake(appending: SSEFormat.keepAlive) }
        }
    }

    /// Ends every SSE stream (each is resumed, so none stays suspended), waits for writes in progress, and stops
    /// the daemon.
    public func stop() {
        guard lifecycle.withLock({ s -> Bool in defer { s.stopping = true }; return !s.stopping }) else { return }
        timers.stop()
        for client in streams() { client.wake(closing: true) }
        // Admissions end with `stopping`, so the group only shrinks now: wait for the writes and streams to end.
        _ = inFlight.wait(timeout: .now() + 12)
        // A stream that had not ended yet is woken once more: a resumed connection is one MHD may stop.
        for client in streams() { client.wake(closing: true) }
        // A write the controller executed is answered before the daemon stops: MHD_stop_daemon closes a resumed
        // connection whose response it has not sent, and the client would never learn the outcome.
        let drainDeadline = ProcessInfo.processInfo.systemUptime + Self.answerDrainSeconds
        while lifecycle.withLock({ $0.answersUnsent > 0 }), ProcessInfo.processInfo.systemUptime < drainDeadline {
            usleep(2_000)
        }
        if let handle = daemon.withLock({ d -> DaemonHandle? in defer { d = nil }; return d }) {
            MHD_stop_daemon(handle.pointer)
        }
    }

    public var sseClientCount: Int { lifecycle.withLock { $0.streams.count } }

    private func streams() -> [SSEClient] { lifecycle.withLock { Array($0.streams.values) } }

    // MARK: Called from libmicrohttpd's threads

    func handle(_ connection: OpaquePointer, url: String, method: String, context: RequestContext) -> MHD_Result {
        deadlines.received(Int(bitPattern: UnsafeRawPointer(connection)))
        if let finished = context.takeFinished() { return queue(finished, on: connection) }
        if let name = context.repeatedHeader {
            var refusal = Problem.badRequest("more than one \(name) header").response
            refusal.headers.append(("Connection", "close"))
            return queue(refusal, on: connection)
        }
        let (path, query) = Self.split(url, connection: connection)
        let request = HTTPRequest(method: method, path: path, query: query, headers: context.headers,
                                  body: context.body, clientAddress: Self.clientAddress(connection), bodyTooLarge: context.tooLarge)
        let response = application.respond(to: request)
        switch response.body {
        case .bytes:
            return queue(response, on: connection)
        case .deferred(let work):
            let limit = limits.maxPendingWrites
            let refusal = lifecycle.withLock { s -> Problem? in
                if s.stopping { return .unavailable("the gateway is stopping") }
                if s.writesInFlight >= limit {
                    return .tooManyRequests("\(limit) writes already wait for the controller: try again shortly", retryAfter: 1)
                }
                s.writesInFlight += 1
                inFlight.enter()
                return nil
            }
            if let refusal { return queue(response.replaced(by: refusal.response), on: connection) }
            MHD_suspend_connection(connection)
            let handle = ConnectionHandle(pointer: connection)
            work { [self] final in
                context.finish(response.replaced(by: final))
                // Resume before the count drops: stop() waits for the count, and MHD must not stop first. Under the
                // daemon's lock: a completion later than stop()'s wait finds no daemon and leaves the freed
                // connection alone.
                daemon.withLock { daemon in
                    guard daemon != nil else { return }
                    // Counted until MHD completes the request (``answerSent()``), so that stop() lets it be sent.
                    lifecycle.withLock { $0.answersUnsent += 1 }
                    context.awaitSending()
                    MHD_resume_connection(handle.pointer)
                }
                lifecycle.withLock { $0.writesInFlight -= 1 }
                inFlight.leave()
            }
            return gw_mhd_yes()
        case .eventStream where method == "HEAD":
            // The stream's headers only: a chunked body (even its empty last chunk) after a HEAD would be read by a
            // keep-alive client or a proxy as the start of the next response.
            return queue(response.replaced(by: HTTPResponse(status: response.status)), on: connection)
        case .eventStream(let resumeAfter):
            return openStream(response, resumeAfter: resumeAfter, on: connection)
        }
    }

    private func openStream(_ response: HTTPResponse, resumeAfter: UInt64?, on connection: OpaquePointer) -> MHD_Result {
        let box = WeakClient()
        let source = application.eventSource
        let feed = source.subscribe(resumeAfter: resumeAfter) { box.client?.wake() }
        let handle = ConnectionHandle(pointer: connection)
        let client = SSEClient(feed: feed, connection: handle)
        let limit = limits.maxSSEClients
        let refusal = lifecycle.withLock { s -> Problem? in
            if s.stopping { return .unavailable("the gateway is stopping") }
            if s.streams.count >= limit { return .unavailable("\(limit) event streams are open already: try again later", retryAfter: 10) }
            s.streams[ObjectIdentifier(client)] = client
            inFlight.enter()
            return nil
        }
        if let refusal {
            source.unsubscribe(feed)
            return queue(response.replaced(by: refusal.response), on: connection)
        }
        box.client = client
        source.streamOpened()
        let clientContext = Unmanaged.passRetained(StreamContext(server: self, client: client)).toOpaque()
        guard let mhdResponse = MHD_create_response_from_callback(UInt64.max, Self.streamBlock, sseReader, clientContext, sseFree) else {
            // Never handed to MHD, so sseFree will not run: forget the stream here.
            Unmanaged<StreamContext>.fromOpaque(clientContext).release()
            streamClosed(client)
            return gw_mhd_no()
        }
        for (name, value) in response.headers { MHD_add_response_header(mhdResponse, name, value) }
        let result = MHD_queue_response(connection, 200, mhdResponse)
        MHD_destroy_response(mhdResponse)  // if queueing failed, this runs sseFree, which forgets the stream
        response.reportSent(status: 200)
        return result
    }

    /// A resumed deferred response's request is complete (sent, or its client gone).
    func answerSent() {
        lifecycle.withLock { $0.answersUnsent -= 1 }
    }

    func streamClosed(_ client: SSEClient) {
        let removed = lifecycle.withLock { $0.streams.removeValue(forKey: ObjectIdentifier(client)) != nil }
        application.eventSource.unsubscribe(client.feed)
        application.eventSource.streamClosed(dropped: client.feed.isOverflowed)
        if removed { inFlight.leave() }
    }

    private func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        let bytes = response.bytes
        let mhdResponse = bytes.withUnsafeBytes { raw in
            MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress), gw_respmem_copy())
        }
        guard let mhdResponse else { return gw_mhd_no() }
        for (name, value) in response.headers { MHD_add_response_header(mhdResponse, name, value) }
        let result = MHD_queue_response(connection, UInt32(response.status), mhdResponse)
        MHD_destroy_response(mhdResponse)
        response.reportSent()
        return result
    }

    /// Splits "/path?x=1" (MHD passes the path only; arguments come from the connection).
    private static func split(_ url: String, connection: OpaquePointer) -> (String, [String: String]) {
        let path = String(url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        return (path.isEmpty ? "/" : path, values(connection, kind: gw_argument_kind()))
    }

    private static func values(_ connection: OpaquePointer, kind: MHD_ValueKind) -> [String: String] {
        collect(connection, kind: kind).values
    }

    /// Headers that a request may carry once. Two that differ are two readings of one request: libmicrohttpd frames
    /// the body by the first Content-Length while a proxy in front may use the last (request smuggling), and the
    /// checks here would see only one Host, Origin or token.
    static let singleHeaders: Set = ["host", "content-length", "transfer-encoding", "content-type", "origin", "authorization"]

    /// The request's headers (lower-case names, the last value of a repeated one), read once when its head is
    /// complete, and the first header of ``singleHeaders`` it carries more than once, if any.
    static func headers(_ connection: OpaquePointer) -> (values: [String: String], repeatedSingle: String?) {
        let collector = collect(connection, kind: gw_header_kind())
        let name = collector.repeated.intersection(singleHeaders).sorted().first
        return (collector.values, name.map { $0.split(separator: "-").map(\.capitalized).joined(separator: "-") })
    }

    private static func collect(_ connection: OpaquePointer, kind: MHD_ValueKind) -> ValueCollector {
        let collector = ValueCollector()
        let pointer = Unmanaged.passUnretained(collector).toOpaque()
        MHD_get_connection_values(connection, kind, { cls, _, key, value in
            let collector = Unmanaged<ValueCollector>.fromOpaque(cls!).takeUnretainedValue()
            if let key { collector.add(String(cString: key).lowercased(), value.map { String(cString: $0) } ?? "") }
            return gw_mhd_yes()
        }, pointer)
        return collector
    }

    private static func clientAddress(_ connection: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        return buffer.withUnsafeMutableBufferPointer { pointer in
            gw_mhd_client_address(connection, pointer.baseAddress, socklen_t(pointer.count))
            return String(cString: pointer.baseAddress!)
        }
    }

    func requestLimitExceeded(_ context: RequestContext, adding count: Int) -> Bool {
        context.body.count + count > maxBodyBytes
    }
}
