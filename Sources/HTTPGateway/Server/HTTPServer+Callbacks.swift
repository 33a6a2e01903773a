import CMicroHTTPD
import Foundation
import Synchronization

// MARK: - C callbacks (free functions: they run on libmicrohttpd's threads)

/// MHD_AccessHandlerCallback: called for headers, each body chunk, and the complete request.
func accessHandler(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?, method: UnsafePointer<CChar>?,
    version: UnsafePointer<CChar>?, uploadData: UnsafePointer<CChar>?, uploadDataSize: UnsafeMutablePointer<Int>?,
    requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let connection, let url, let method, let requestContext else { return gw_mhd_no() }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    guard let existing = requestContext.pointee else {
        let context = RequestContext()
        (context.headers, context.repeatedHeader) = HTTPServer.headers(connection)
        // A declared body larger than the limit is refused before it is read.
        if context.repeatedHeader == nil, let length = context.headers["content-length"].flatMap({ Int($0) }),
           length > server.maxBodyBytes {
            context.tooLarge = true
        }
        requestContext.pointee = Unmanaged.passRetained(context).toOpaque()
        if context.tooLarge || context.repeatedHeader != nil {
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
func requestCompleted(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    termination: MHD_RequestTerminationCode
) {
    if let cls, let connection {
        Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().deadlines
            .answered(Int(bitPattern: UnsafeRawPointer(connection)), now: ProcessInfo.processInfo.systemUptime)
    }
    guard let requestContext, let pointer = requestContext.pointee else { return }
    if let cls, Unmanaged<RequestContext>.fromOpaque(pointer).takeUnretainedValue().takeAwaitingSend() {
        Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().answerSent()
    }
    Unmanaged<RequestContext>.fromOpaque(pointer).release()
    requestContext.pointee = nil
}

/// MHD_NotifyConnectionCallback: a connection opened (its first request gets a deadline) or closed (before MHD
/// closes its socket).
func connectionNotified(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    code: MHD_ConnectionNotificationCode
) {
    guard let cls, let connection else { return }
    let deadlines = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().deadlines
    let key = Int(bitPattern: UnsafeRawPointer(connection))
    if code == gw_notify_started() {
        deadlines.opened(key, descriptor: gw_mhd_connection_fd(connection), now: ProcessInfo.processInfo.systemUptime)
    } else {
        deadlines.closed(key)
    }
}

/// MHD_ContentReaderCallback of an SSE stream.
func sseReader(cls: UnsafeMutableRawPointer?, position: UInt64, buffer: UnsafeMutablePointer<CChar>?, max: Int) -> Int {
    guard let cls, let buffer else { return -2 }
    let context = Unmanaged<StreamContext>.fromOpaque(cls).takeUnretainedValue()
    let address = Int(bitPattern: buffer)
    // At most the kept bytes per call, so that a stream that fell behind does not spread its backlog over the
    // buffer's released pages; libmicrohttpd sends them and calls again at once.
    let window = min(max, HTTPServer.streamKeptBytes)
    switch context.client.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: window)) {
    case .bytes(let count):
        context.pages.wrote(at: address, count: count)
        return count
    case .suspended:
        // The buffer is free while the stream waits: give its untouched pages back (StreamPageRelease).
        if let range = context.pages.idle(at: address, capacity: max) {
            _ = madvise(UnsafeMutableRawPointer(bitPattern: range.lowerBound), range.count, MADV_DONTNEED)
        }
        return 0
    case .endOfStream: return -1  // MHD_CONTENT_READER_END_OF_STREAM
    case .drop: return -2  // MHD_CONTENT_READER_END_WITH_ERROR
    }
}

/// MHD_ContentReaderFreeCallback: the stream is over (client gone, dropped, or server stopping).
func sseFree(cls: UnsafeMutableRawPointer?) {
    guard let cls else { return }
    let context = Unmanaged<StreamContext>.fromOpaque(cls).takeRetainedValue()
    context.server.streamClosed(context.client)
}

// MARK: - Small boxes passed through C

/// Per-request state kept in MHD's request context pointer. @unchecked Sendable: `body` and `tooLarge` are touched
/// only by MHD's thread for this connection, one callback at a time; a deferred response's completion (any thread)
/// touches only `finished` and `awaitingSend`, behind their mutex, while the connection is suspended (MHD does not
/// call back then).
final class RequestContext: @unchecked Sendable {
    var body: [UInt8] = []
    var tooLarge = false
    /// The request's headers, read once when its head arrived.
    var headers: [String: String] = [:]
    /// A header the request carries twice though it may carry it once (``HTTPServer/singleHeaders``): refused, unread.
    var repeatedHeader: String?
    private let finished = Mutex<(response: HTTPResponse?, awaitingSend: Bool)>((nil, false))

    func finish(_ response: HTTPResponse) { finished.withLock { $0.response = response } }
    func takeFinished() -> HTTPResponse? { finished.withLock { r in defer { r.response = nil }; return r.response } }
    /// The deferred answer is about to be resumed: the server counts it until the request completes.
    func awaitSending() { finished.withLock { $0.awaitingSend = true } }
    /// Whether this request's answer was counted as unsent (once).
    func takeAwaitingSend() -> Bool { finished.withLock { r in defer { r.awaitingSend = false }; return r.awaitingSend } }
}

/// The retained context of one SSE response. `pages` is touched only by the content reader, which libmicrohttpd
/// calls on the connection's own thread, one call at a time.
final class StreamContext {
    let server: HTTPServer
    let client: SSEClient
    var pages = StreamPageRelease(pageSize: HTTPServer.pageSize, keepBytes: HTTPServer.streamKeptBytes)
    init(server: HTTPServer, client: SSEClient) {
        self.server = server
        self.client = client
    }
}

/// Lets the subscription's notify reach its client without a retain cycle. The client is set after the subscription
/// exists (the client needs the feed), so the publisher's thread may already be notifying: the weak reference is
/// read and written under a lock.
final class WeakClient: Sendable {
    private struct Reference { weak var client: SSEClient? }
    private let reference = Mutex(Reference())

    var client: SSEClient? {
        get { reference.withLock { $0.client } }
        set { reference.withLock { $0.client = newValue } }
    }
}

/// An MHD connection or daemon pointer that crosses threads. @unchecked Sendable: libmicrohttpd documents
/// MHD_resume_connection as callable from any thread, and the daemon pointer is only used to stop it once.
struct ConnectionHandle: @unchecked Sendable, SuspendableConnection {
    let pointer: OpaquePointer
    func suspend() { MHD_suspend_connection(pointer) }
    func resume() { MHD_resume_connection(pointer) }
}
struct DaemonHandle: @unchecked Sendable { let pointer: OpaquePointer }

/// Collects MHD's key/value iteration.
final class ValueCollector {
    var values: [String: String] = [:]
    /// Keys seen more than once (the last value is kept in `values`).
    var repeated: Set<String> = []

    func add(_ key: String, _ value: String) {
        if values.updateValue(value, forKey: key) != nil { repeated.insert(key) }
    }
}
