@testable import Controller
import Foundation
import Glibc
import Synchronization
import Testing

@testable import HTTPGateway

/// The SSE body over any ``EventFeed`` (no controller), and the HTTP service's life in a task.
@Suite("Server core")
struct ServerCoreTests {
    final class FakeFeed: EventFeed {
        let opening: [[UInt8]]
        let waiting = Mutex<[[UInt8]]>([])
        let overflowed = Atomic<Bool>(false)
        init(opening: String) { self.opening = [Array(opening.utf8)] }
        func drain() -> [[UInt8]] { waiting.withLock { w in defer { w = [] }; return w } }
        var isOverflowed: Bool { overflowed.load(ordering: .relaxed) }
    }

    final class Hooks: SuspendableConnection {
        let suspends = Atomic<Int>(0)
        let resumes = Atomic<Int>(0)
        func suspend() { suspends.wrappingAdd(1, ordering: .relaxed) }
        func resume() { resumes.wrappingAdd(1, ordering: .relaxed) }
    }

    func read(_ client: SSEClient, max: Int = 4) -> (SSEClient.ReadResult, String) {
        var buffer = [UInt8](repeating: 0, count: max)
        let result = buffer.withUnsafeMutableBytes { client.read(into: $0) }
        if case .bytes(let count) = result { return (result, String(decoding: buffer.prefix(count), as: UTF8.self)) }
        return (result, "")
    }

    @Test("a stream sends its opening, then its feed's events in pieces; suspends when empty, resumes on wake; ends or drops")
    func stream() {
        let feed = FakeFeed(opening: "retry: 1\n\n")
        let hooks = Hooks()
        let client = SSEClient(feed: feed, connection: hooks)
        var sent = ""
        while case (.bytes, let text) = read(client) { sent += text }
        #expect(sent == "retry: 1\n\n" && hooks.suspends.load(ordering: .relaxed) == 1)
        feed.waiting.withLock { $0 = [Array("id: 1\n\n".utf8), Array("id: 2\n\n".utf8)] }
        client.wake()
        #expect(hooks.resumes.load(ordering: .relaxed) == 1)
        sent = ""
        while case (.bytes, let text) = read(client) { sent += text }
        #expect(sent == "id: 1\n\nid: 2\n\n" && hooks.suspends.load(ordering: .relaxed) == 2)
        client.wake(appending: SSEFormat.keepAlive)
        #expect(read(client, max: 64).1 == ": keep-alive\n\n")
        client.wake(closing: true)
        #expect(read(client).0 == .endOfStream)
        feed.overflowed.store(true, ordering: .relaxed)
        #expect(read(client).0 == .drop)
    }

    @Test("SSE framing: comment with the publication time, id, name, one data line per payload line")
    func framing() {
        let bytes = SSEFormat.event(id: 9, name: "relay", payload: Array("{\"a\":1}\n{\"b\":2}".utf8), publishedMilliseconds: 1234)
        #expect(String(decoding: bytes, as: UTF8.self) == ": published 1234\nid: 9\nevent: relay\ndata: {\"a\":1}\ndata: {\"b\":2}\n\n")
        #expect(String(decoding: SSEFormat.event(id: nil, name: "state", payload: Array("{}".utf8)), as: UTF8.self) == "event: state\ndata: {}\n\n")
    }

    @Test("a controller stream sends each event as its shared head, the payload's own bytes and the end: no copies")
    func controllerFeedSharesPayloads() throws {
        let (api, controller) = try TestGateway.make()
        let feeds = (0..<2).map { _ in api.eventSource.subscribe(resumeAfter: nil, notify: {}) }
        defer { feeds.forEach(api.eventSource.unsubscribe) }
        let event = controller.events.publish(.body(.relay(output: .load, on: true, reason: "test", source: .http)), time: Date())
        let sent = feeds.map { $0.drain() }
        let address = { (bytes: [UInt8]) in bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        for pieces in sent {
            #expect(pieces.count == 3 && pieces.joined().elementsEqual(SSEFormat.event(
                id: event.id, name: "relay", payload: event.payload, publishedMilliseconds: event.publishedMilliseconds)))
            #expect(address(pieces[1]) == address(event.payload), "the payload is the event's own bytes")
        }
        #expect(address(sent[0][0]) == address(sent[1][0]), "the head is made once and shared by both streams")
    }

    @Test("SSE framing in pieces: head + one-line payload + end is the whole event; a line break needs the whole form")
    func framingInPieces() {
        let payload = Array(#"{"a":"b\nc","d":[1,2]}"#.utf8)  // an escaped newline: still one line on the wire
        for (id, published): (UInt64?, Int64?) in [(9, 1234), (nil, nil), (1_795_730_303_720_039, 1_795_730_303_720)] {
            let pieces = SSEFormat.head(id: id, name: "state", publishedMilliseconds: published) + payload + SSEFormat.end
            #expect(pieces == SSEFormat.event(id: id, name: "state", payload: payload, publishedMilliseconds: published))
        }
        #expect(SSEFormat.isOneLine(payload) && SSEFormat.isOneLine([]))
        #expect(!SSEFormat.isOneLine(Array("{}\n".utf8)) && !SSEFormat.isOneLine(Array("{\r}".utf8)))
    }

    /// Sends a one-line request to 127.0.0.1:`port` and returns the status line.
    static func statusLine(port: Int, _ request: String) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self).split(separator: "\r\n").first.map(String.init)
    }

    @Test("the HTTP service serves while it runs, marks the link up, and stops when its task is cancelled")
    func service() async throws {
        let (api, controller) = try TestGateway.make()
        let server = try HTTPServer(api: api, listen: "127.0.0.1:0")
        let service = HTTPGatewayService(server: server, controller: controller, logger: .init(label: "test"))
        let task = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(20)
        while !controller.linkState.http && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(controller.linkState.http)
        let port = server.port
        #expect(Self.statusLine(port: port, "GET /healthz HTTP/1.0\r\n\r\n") == "HTTP/1.1 503 Service Unavailable")
        task.cancel()
        try await task.value
        #expect(!controller.linkState.http)
        #expect(Self.statusLine(port: port, "GET /healthz HTTP/1.0\r\n\r\n") == nil, "still listening after stop")
    }
}
