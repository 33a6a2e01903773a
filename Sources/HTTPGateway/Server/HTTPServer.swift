import CMicroHTTPD
import Controller
import Foundation
import Synchronization

/// The gateway's HTTP server on libmicrohttpd.
///
/// Threading, chosen by measurement (docs/benchmarks.md): epoll on a pool of internal threads, one per core, with
/// suspend/resume. Thread-per-connection was ruled out because it cannot suspend (SSE would need a thread per
/// client, 1000 clients = 1000 threads), and select() stops at 1024 descriptors. Each SSE connection is suspended
/// whenever its queue is empty and resumed by the event bus, so idle streams cost no CPU; a write is suspended
/// while a worker thread waits for the controller, so a slow BMS poll never blocks the pool.
///
/// Limits (all `http.*` config keys): connections in all and per client address (libmicrohttpd refuses the rest),
/// SSE streams (503 beyond), writes waiting for the controller (429 beyond), a deadline for each request's head and
/// body (the socket is shut down), events replayed on resume.
public final class HTTPServer: Sendable {
    public let api: GatewayAPI
    public let address: ListenAddress
    let maxBodyBytes: Int
    let deadlines: RequestDeadlines
    private let daemon: Mutex<DaemonHandle?> = Mutex(nil)
    /// Whether the server stops, the writes in flight and the open streams change together under this one lock, so
    /// `stop()` never misses a write or a stream that was admitted at the same moment.
    private let lifecycle = Mutex(Lifecycle())
    private let timersStop = DispatchSemaphore(value: 0)
    private let timersDone = DispatchSemaphore(value: 0)
    public let keepAliveSeconds: Double
    /// libmicrohttpd's memory pool per connection: it holds the request head (a head of about half of it fits, so
    /// 16 KB of cookies and headers; more gets 431) and is held for as long as an event stream stays open, so it
    /// sets most of what each SSE client costs (docs/benchmarks.md).
    static let connectionMemory = 32 * 1024
    /// The buffer of one event stream's response: one event at a time passes through it (a state event is about
    /// 1.5 KB; a longer one takes several calls).
    static let streamBlock = 4 * 1024

    struct Lifecycle {
        var stopping = false
        var writesInFlight = 0
        var streams: [ObjectIdentifier: SSEClient] = [:]
    }

    /// Validates the address and the token rule (beyond loopback a strong token is required).
    public init(api: GatewayAPI, listen: String, keepAliveSeconds: Double = 15) throws(HTTPServerError) {
        address = try ListenAddress(parsing: listen)
        if let refusal = TokenPolicy.refusal(token: api.token, address: address) { throw HTTPServerError(refusal) }
        self.api = api
        self.maxBodyBytes = api.settings.maxBodyBytes
        self.keepAliveSeconds = keepAliveSeconds
        deadlines = RequestDeadlines(requestSeconds: Double(api.settings.requestDeadlineSeconds),
                                     idleSeconds: Double(api.settings.connectionTimeoutSeconds))
    }

    /// The bound port (the real one when listening on port 0).
    public var port: Int { daemon.withLock { $0.map { Int(gw_mhd_bound_port($0.pointer)) } } ?? Int(address.port) }

    public func start() throws(HTTPServerError) {
        let settings = api.settings
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
        let thread = Thread { [self] in
            var lastKeepAlive = ProcessInfo.processInfo.systemUptime
            while timersStop.wait(timeout: .now() + 0.5) == .timedOut {
                let now = ProcessInfo.processInfo.systemUptime
                deadlines.expireOverdue(now: now)
                if now - lastKeepAlive >= keepAliveSeconds {
                    lastKeepAlive = now
                    for client in streams() { client.wake(appending: SSEFormat.keepAlive) }
                }
            }
            timersDone.signal()
        }
        thread.name = "dalygate-http-timers"
        thread.start()
    }

    /// Ends every SSE stream (each is resumed, so none stays suspended), waits for writes in progress, and stops
    /// the daemon.
    public func stop() {
        guard lifecycle.withLock({ s -> Bool in defer { s.stopping = true }; return !s.stopping }) else { return }
        let started = daemon.withLock { $0 != nil }
        if started {
            timersStop.signal()
            timersDone.wait()
        }
        for client in streams() { client.wake(closing: true) }
        let deadline = Date().addingTimeInterval(12)
        while lifecycle.withLock({ $0.writesInFlight > 0 || !$0.streams.isEmpty }) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        // A stream that had not ended yet is woken once more: a resumed connection is one MHD may stop.
        for client in streams() { client.wake(closing: true) }
        if let handle = daemon.withLock({ d -> DaemonHandle? in defer { d = nil }; return d }) {
            MHD_stop_daemon(handle.pointer)
        }
    }

    public var sseClientCount: Int { lifecycle.withLock { $0.streams.count } }

    private func streams() -> [SSEClient] { lifecycle.withLock { Array($0.streams.values) } }

    // MARK: Called from libmicrohttpd's threads

    func handle(_ connection: OpaquePointer, url: String, method: String, context: RequestContext) -> MHD_Result {
        deadlines.received(Int(bitPattern: UnsafeRawPointer(connection)))
        if let deferred = context.takeFinished() { return queue(deferred, on: connection, route: context.route, method: method) }
        if context.tooLarge {
            return queue(Problem.tooLarge("the body exceeds \(maxBodyBytes) bytes").response, on: connection, route: "unmatched",
                         method: method)
        }
        let (path, query) = Self.split(url, connection: connection)
        let request = HTTPRequest(method: method, path: path, query: query, headers: Self.values(connection, kind: gw_header_kind()),
                                  body: context.body, clientAddress: Self.clientAddress(connection))
        let (response, route) = api.handle(request)
        context.route = route
        switch response.body {
        case .bytes:
            return queue(response, on: connection, route: route, method: method)
        case .deferred(let work):
            let limit = api.settings.maxPendingWrites
            let refusal = lifecycle.withLock { s -> Problem? in
                if s.stopping { return .unavailable("the gateway is stopping") }
                if s.writesInFlight >= limit {
                    return .tooManyRequests("\(limit) writes already wait for the controller: try again shortly", retryAfter: 1)
                }
                s.writesInFlight += 1
                return nil
            }
            if let refusal { return queue(refusal.response, on: connection, route: route, method: method) }
            MHD_suspend_connection(connection)
            let handle = ConnectionHandle(pointer: connection)
            work { [self] response in
                context.finish(response)
                // Resume before the count drops: stop() waits for the count, and MHD must not stop first.
                MHD_resume_connection(handle.pointer)
                lifecycle.withLock { $0.writesInFlight -= 1 }
            }
            return gw_mhd_yes()
        case .eventStream(let resumeAfter):
            return openStream(response, resumeAfter: resumeAfter, on: connection, route: route, method: method)
        }
    }

    private func openStream(_ response: HTTPResponse, resumeAfter: UInt64?, on connection: OpaquePointer, route: String,
                            method: String) -> MHD_Result {
        let box = WeakClient()
        let subscription = api.controller.events.subscribe(capacity: 512, resumeAfter: resumeAfter,
                                                           maxReplay: api.settings.sseReplayEvents) { box.client?.wake() }
        var initial = SSEFormat.preamble()
        if resumeAfter == nil || subscription.missedEvents, let snapshot = api.controller.snapshot {
            // A new client, or one whose id cannot be resumed from (another run's, or too far behind): the current
            // state at once, without an id, so it does not wait for the next tick and never holds a stale picture.
            initial += Array("event: state\ndata: ".utf8) + snapshot.json + Array("\n\n".utf8)
        }
        let client = SSEClient(subscription: subscription, initial: initial)
        let limit = api.settings.maxSSEClients
        let refusal = lifecycle.withLock { s -> Problem? in
            if s.stopping { return .unavailable("the gateway is stopping") }
            if s.streams.count >= limit { return .unavailable("\(limit) event streams are open already: try again later", retryAfter: 10) }
            s.streams[ObjectIdentifier(client)] = client
            return nil
        }
        if let refusal {
            api.controller.events.unsubscribe(subscription)
            return queue(refusal.response, on: connection, route: route, method: method)
        }
        box.client = client
        let handle = ConnectionHandle(pointer: connection)
        client.attach(suspend: { MHD_suspend_connection(handle.pointer) }, resume: { MHD_resume_connection(handle.pointer) })
        api.metrics.sseOpened()
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
        api.metrics.countRequest(route: route, method: method, status: 200)
        return result
    }

    func streamClosed(_ client: SSEClient) {
        lifecycle.withLock { _ = $0.streams.removeValue(forKey: ObjectIdentifier(client)) }
        api.controller.events.unsubscribe(client.subscription)
        api.metrics.sseClosed(dropped: client.subscription.isOverflowed)
    }

    private func queue(_ response: HTTPResponse, on connection: OpaquePointer, route: String, method: String) -> MHD_Result {
        let bytes = response.bytes
        let mhdResponse = bytes.withUnsafeBytes { raw in
            MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress), gw_respmem_copy())
        }
        guard let mhdResponse else { return gw_mhd_no() }
        for (name, value) in response.headers { MHD_add_response_header(mhdResponse, name, value) }
        let result = MHD_queue_response(connection, UInt32(response.status), mhdResponse)
        MHD_destroy_response(mhdResponse)
        api.metrics.countRequest(route: route, method: method, status: response.status)
        return result
    }

    /// Splits "/path?x=1" (MHD passes the path only; arguments come from the connection).
    private static func split(_ url: String, connection: OpaquePointer) -> (String, [String: String]) {
        let path = String(url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        return (path.isEmpty ? "/" : path, values(connection, kind: gw_argument_kind()))
    }

    private static func values(_ connection: OpaquePointer, kind: MHD_ValueKind) -> [String: String] {
        let collector = ValueCollector()
        let pointer = Unmanaged.passUnretained(collector).toOpaque()
        MHD_get_connection_values(connection, kind, { cls, _, key, value in
            let collector = Unmanaged<ValueCollector>.fromOpaque(cls!).takeUnretainedValue()
            if let key { collector.values[String(cString: key).lowercased()] = value.map { String(cString: $0) } ?? "" }
            return gw_mhd_yes()
        }, pointer)
        return collector.values
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
