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
public final class HTTPServer: Sendable {
    public let api: GatewayAPI
    public let address: ListenAddress
    let maxBodyBytes: Int
    private let daemon: Mutex<DaemonHandle?> = Mutex(nil)
    private let clients: Mutex<[ObjectIdentifier: SSEClient]> = Mutex([:])
    private let deferredInFlight = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let keepAliveStop = DispatchSemaphore(value: 0)
    private let workers = DispatchQueue(label: "dalygate.http-writes", attributes: .concurrent)
    public let keepAliveSeconds: Double

    /// Validates the address and the token rule (a token is required beyond loopback).
    public init(api: GatewayAPI, listen: String, keepAliveSeconds: Double = 15) throws(HTTPServerError) {
        address = try ListenAddress(parsing: listen)
        if !address.isLoopback && api.token.isEmpty {
            throw HTTPServerError("refusing to listen on \(address) without a token: set http.token or DALYGATE_TOKEN"
                                  + " (writes would be open to the network)")
        }
        self.api = api
        self.maxBodyBytes = api.settings.maxBodyBytes
        self.keepAliveSeconds = keepAliveSeconds
    }

    /// The bound port (the real one when listening on port 0).
    public var port: Int { daemon.withLock { $0.map { Int(gw_mhd_bound_port($0.pointer)) } } ?? Int(address.port) }

    public func start() throws(HTTPServerError) {
        let settings = api.settings
        let context = Unmanaged.passUnretained(self).toOpaque()
        let pointer = address.withSocketAddress { socketAddress in
            gw_mhd_start(socketAddress, address.isIPv6 ? 1 : 0, UInt32(max(2, ProcessInfo.processInfo.activeProcessorCount)),
                         UInt32(settings.maxConnections), UInt32(settings.maxConnectionsPerClient),
                         UInt32(settings.connectionTimeoutSeconds), 64 * 1024, accessHandler, context, requestCompleted, context)
        }
        guard let pointer else {
            throw HTTPServerError("cannot listen on \(address): the port is in use or the address is not on this machine")
        }
        daemon.withLock { $0 = DaemonHandle(pointer: pointer) }
        let thread = Thread { [self] in
            while keepAliveStop.wait(timeout: .now() + keepAliveSeconds) == .timedOut {
                for client in clients.withLock({ Array($0.values) }) { client.wake(appending: SSEFormat.keepAlive) }
            }
        }
        thread.name = "dalygate-sse-keepalive"
        thread.start()
    }

    /// Ends every SSE stream, waits for writes in progress, and stops the daemon.
    public func stop() {
        guard !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        keepAliveStop.signal()
        for client in clients.withLock({ Array($0.values) }) { client.wake(closing: true) }
        let deadline = Date().addingTimeInterval(12)
        while (deferredInFlight.load(ordering: .relaxed) > 0 || !clients.withLock({ $0.isEmpty })) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        if let handle = daemon.withLock({ d -> DaemonHandle? in defer { d = nil }; return d }) {
            MHD_stop_daemon(handle.pointer)
        }
    }

    public var sseClientCount: Int { clients.withLock { $0.count } }

    // MARK: Called from libmicrohttpd's threads

    fileprivate func handle(_ connection: OpaquePointer, url: String, method: String, context: RequestContext) -> MHD_Result {
        if let deferred = context.takeFinished() { return queue(deferred, on: connection, route: context.route, method: method) }
        if context.tooLarge {
            return queue(Problem.tooLarge("the body exceeds \(maxBodyBytes) bytes").response, on: connection, route: "unmatched",
                         method: method)
        }
        let (path, query) = Self.split(url, connection: connection)
        let request = HTTPRequest(method: method, path: path, query: query, headers: Self.values(connection, kind: gw_header_kind()),
                                  body: context.body)
        let (response, route) = api.handle(request)
        context.route = route
        switch response.body {
        case .bytes:
            return queue(response, on: connection, route: route, method: method)
        case .deferred(let work):
            guard !stopping.load(ordering: .relaxed) else {
                return queue(Problem.unavailable("the gateway is stopping").response, on: connection, route: route, method: method)
            }
            deferredInFlight.wrappingAdd(1, ordering: .relaxed)
            MHD_suspend_connection(connection)
            let handle = ConnectionHandle(pointer: connection)
            workers.async { [self] in
                context.finish(work())
                MHD_resume_connection(handle.pointer)
                deferredInFlight.wrappingSubtract(1, ordering: .relaxed)
            }
            return gw_mhd_yes()
        case .eventStream(let resumeAfter):
            return openStream(response, resumeAfter: resumeAfter, on: connection, route: route, method: method)
        }
    }

    private func openStream(_ response: HTTPResponse, resumeAfter: UInt64?, on connection: OpaquePointer, route: String,
                            method: String) -> MHD_Result {
        guard !stopping.load(ordering: .relaxed) else {
            return queue(Problem.unavailable("the gateway is stopping").response, on: connection, route: route, method: method)
        }
        var initial = SSEFormat.preamble()
        if resumeAfter == nil, let snapshot = api.controller.snapshot {
            // The current state at once, without an id, so a new client does not wait for the next tick.
            initial += Array("event: state\ndata: ".utf8) + snapshot.json + Array("\n\n".utf8)
        }
        let box = WeakClient()
        let subscription = api.controller.events.subscribe(capacity: 512, resumeAfter: resumeAfter) { box.client?.wake() }
        let client = SSEClient(subscription: subscription, initial: initial)
        box.client = client
        let handle = ConnectionHandle(pointer: connection)
        client.attach(suspend: { MHD_suspend_connection(handle.pointer) }, resume: { MHD_resume_connection(handle.pointer) })
        clients.withLock { $0[ObjectIdentifier(client)] = client }
        api.metrics.sseOpened()
        let clientContext = Unmanaged.passRetained(StreamContext(server: self, client: client)).toOpaque()
        guard let mhdResponse = MHD_create_response_from_callback(UInt64.max, 16 * 1024, sseReader, clientContext, sseFree) else {
            Unmanaged<StreamContext>.fromOpaque(clientContext).release()
            return gw_mhd_no()
        }
        for (name, value) in response.headers { MHD_add_response_header(mhdResponse, name, value) }
        let result = MHD_queue_response(connection, 200, mhdResponse)
        MHD_destroy_response(mhdResponse)
        api.metrics.countRequest(route: route, method: method, status: 200)
        return result
    }

    fileprivate func streamClosed(_ client: SSEClient) {
        clients.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(client)) }
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

    func requestLimitExceeded(_ context: RequestContext, adding count: Int) -> Bool {
        context.body.count + count > maxBodyBytes
    }
}

// MARK: - C callbacks (free functions: they run on libmicrohttpd's threads)

/// MHD_AccessHandlerCallback: called for headers, each body chunk, and the complete request.
private func accessHandler(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?, method: UnsafePointer<CChar>?,
    version: UnsafePointer<CChar>?, uploadData: UnsafePointer<CChar>?, uploadDataSize: UnsafeMutablePointer<Int>?,
    requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let connection, let url, let method, let requestContext else { return gw_mhd_no() }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    guard let existing = requestContext.pointee else {
        let context = RequestContext()
        // A declared body larger than the limit is refused before it is read.
        if let length = MHD_lookup_connection_value(connection, gw_header_kind(), "Content-Length").flatMap({ Int(String(cString: $0)) }),
           length > server.maxBodyBytes {
            context.tooLarge = true
        }
        requestContext.pointee = Unmanaged.passRetained(context).toOpaque()
        if context.tooLarge {
            return server.handle(connection, url: String(cString: url), method: String(cString: method), context: context)
        }
        return gw_mhd_yes()
    }
    let context = Unmanaged<RequestContext>.fromOpaque(existing).takeUnretainedValue()
    if let uploadData, let uploadDataSize, uploadDataSize.pointee > 0 {
        let count = uploadDataSize.pointee
        if server.requestLimitExceeded(context, adding: count) {
            context.tooLarge = true
            context.body = []
        } else if !context.tooLarge {
            uploadData.withMemoryRebound(to: UInt8.self, capacity: count) { context.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count)) }
        }
        uploadDataSize.pointee = 0
        return gw_mhd_yes()
    }
    return server.handle(connection, url: String(cString: url), method: String(cString: method), context: context)
}

/// MHD_RequestCompletedCallback: releases the request's context.
private func requestCompleted(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    termination: MHD_RequestTerminationCode
) {
    guard let requestContext, let pointer = requestContext.pointee else { return }
    Unmanaged<RequestContext>.fromOpaque(pointer).release()
    requestContext.pointee = nil
}

/// MHD_ContentReaderCallback of an SSE stream.
private func sseReader(cls: UnsafeMutableRawPointer?, position: UInt64, buffer: UnsafeMutablePointer<CChar>?, max: Int) -> Int {
    guard let cls, let buffer else { return -2 }
    let context = Unmanaged<StreamContext>.fromOpaque(cls).takeUnretainedValue()
    switch context.client.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: max)) {
    case .bytes(let count): return count
    case .suspended: return 0
    case .endOfStream: return -1  // MHD_CONTENT_READER_END_OF_STREAM
    case .drop: return -2  // MHD_CONTENT_READER_END_WITH_ERROR
    }
}

/// MHD_ContentReaderFreeCallback: the stream is over (client gone, dropped, or server stopping).
private func sseFree(cls: UnsafeMutableRawPointer?) {
    guard let cls else { return }
    let context = Unmanaged<StreamContext>.fromOpaque(cls).takeRetainedValue()
    context.server.streamClosed(context.client)
}

// MARK: - Small boxes passed through C

/// Per-request state kept in MHD's request context pointer; touched by MHD's thread for this connection and, for a
/// deferred write, by one worker while the connection is suspended (MHD does not call back then).
final class RequestContext: @unchecked Sendable {
    var body: [UInt8] = []
    var tooLarge = false
    var route = "unmatched"
    private let finished = Mutex<HTTPResponse?>(nil)

    func finish(_ response: HTTPResponse) { finished.withLock { $0 = response } }
    func takeFinished() -> HTTPResponse? { finished.withLock { r in defer { r = nil }; return r } }
}

/// The retained context of one SSE response.
final class StreamContext {
    let server: HTTPServer
    let client: SSEClient
    init(server: HTTPServer, client: SSEClient) {
        self.server = server
        self.client = client
    }
}

/// Lets the subscription's notify reach its client without a retain cycle.
final class WeakClient: @unchecked Sendable {
    // @unchecked: written once, before the subscription can notify (publish happens-after subscribe returns).
    weak var client: SSEClient?
}

/// An MHD connection or daemon pointer that crosses threads. @unchecked Sendable: libmicrohttpd documents
/// MHD_resume_connection as callable from any thread, and the daemon pointer is only used to stop it once.
struct ConnectionHandle: @unchecked Sendable { let pointer: OpaquePointer }
struct DaemonHandle: @unchecked Sendable { let pointer: OpaquePointer }

/// Collects MHD's key/value iteration.
final class ValueCollector {
    var values: [String: String] = [:]
}
