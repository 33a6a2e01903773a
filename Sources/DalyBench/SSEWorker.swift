import CSSEBench
import Glibc
import Synchronization

/// What the driver and its worker threads share: phase changes and the results each worker hands back.
final class SSERunControl: Sendable {
    /// Workers that have finished connecting their share.
    let connectDone = Atomic<Int>(0)
    let connected = Atomic<Int>(0)
    /// The measured window, in Unix milliseconds of publication (0 until the driver sets it).
    let windowStart = Atomic<Int64>(0)
    let windowEnd = Atomic<Int64>(0)
    let stop = Atomic<Bool>(false)
    let results = Mutex<[SSEWorkerResult]>([])
}

/// One worker's tally of the events published inside the window.
struct SSEWorkerResult: Sendable {
    var received = 0
    var latenciesMilliseconds: [Double] = []
    var minID = UInt64.max
    var maxID = UInt64.min
    var closedByServer = 0
    var refused = 0
}

/// One thread's share of the clients, all on one epoll instance: connect (at most `inFlight` handshakes at a time),
/// then read every stream until told to stop. Runs entirely on its own thread; nothing in it is shared.
struct SSEWorker {
    let target: sockaddr_in
    let request: [UInt8]
    /// Global numbers of this worker's clients (they pick the loopback source address).
    let clients: [Int]
    let control: SSERunControl
    let connectSeconds: Double
    let inFlight = 128

    private struct Client {
        let fd: Int32
        var sent = false
        var parser = SSEStreamParser()
    }

    func run() {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed")
        defer { close(epoll) }
        var slots: [Client?] = []
        slots.reserveCapacity(clients.count)
        var result = SSEWorkerResult()
        var pending = 0  // connections without a status line yet
        var next = 0
        var connected = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var events = [epoll_event](repeating: epoll_event(), count: 512)
        let connectDeadline = Self.nowMilliseconds() + connectSeconds * 1000
        var connecting = true

        while !control.stop.load(ordering: .relaxed) {
            if connecting {
                while next < clients.count && pending < inFlight {
                    if let fd = open(clientNumber: clients[next]) {
                        var event = epoll_event()
                        event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue
                        event.data.u64 = UInt64(slots.count)
                        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
                        slots.append(Client(fd: fd))
                        pending += 1
                    } else {
                        result.refused += 1
                    }
                    next += 1
                }
                if (next == clients.count && pending == 0) || Self.nowMilliseconds() > connectDeadline {
                    connecting = false
                    control.connected.add(connected, ordering: .relaxed)
                    control.connectDone.add(1, ordering: .relaxed)
                }
            }
            let count = epoll_wait(epoll, &events, Int32(events.count), connecting ? 5 : 50)
            guard count > 0 else { continue }
            let windowStart = control.windowStart.load(ordering: .relaxed)
            let windowEnd = control.windowEnd.load(ordering: .relaxed)
            for index in 0..<Int(count) {
                let slot = Int(events[index].data.u64)
                guard var client = slots[slot] else { continue }
                let flags = events[index].events
                if !client.sent && flags & EPOLLOUT.rawValue != 0 {
                    let written = request.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if written == request.count {
                        client.sent = true
                        var event = epoll_event()
                        event.events = EPOLLIN.rawValue
                        event.data.u64 = UInt64(slot)
                        epoll_ctl(epoll, EPOLL_CTL_MOD, client.fd, &event)
                    }
                }
                var open = true
                if flags & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                    let wasAccepted = client.parser.accepted
                    let received = recv(client.fd, buffer.baseAddress, buffer.count, 0)
                    if received > 0 {
                        let now = Self.nowMilliseconds()
                        client.parser.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<received])) { id, published in
                            guard windowStart > 0, published >= windowStart, published <= windowEnd else { return }
                            result.received += 1
                            result.latenciesMilliseconds.append(now - Double(published))
                            result.minID = min(result.minID, id)
                            result.maxID = max(result.maxID, id)
                        }
                    } else if received == 0 || (errno != EAGAIN && errno != EINTR) {
                        open = false
                    }
                    if wasAccepted == nil, let accepted = client.parser.accepted {
                        pending -= 1
                        if accepted { connected += 1 } else { result.refused += 1 }
                    }
                }
                if !open {
                    if client.parser.accepted == nil { pending -= 1; result.refused += 1 }
                    else if client.parser.accepted == true && !connecting { result.closedByServer += 1 }
                    close(client.fd)
                    slots[slot] = nil
                } else {
                    slots[slot] = client
                }
            }
        }
        for case let client? in slots { close(client.fd) }
        control.results.withLock { $0.append(result) }
    }

    /// A non-blocking socket connecting to the target from 127.0.0.(2 + n % 250), so that no source address runs out
    /// of ports and a per-address connection limit sees many clients.
    private func open(clientNumber: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        if target.sin_addr.s_addr & 0xFF == 127 {
            var yes: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_IP), csse_ip_bind_address_no_port, &yes, socklen_t(MemoryLayout<Int32>.size))
            var source = sockaddr_in()
            source.sin_family = sa_family_t(AF_INET)
            source.sin_addr.s_addr = UInt32(127 | 0 << 8 | 0 << 16 | (2 + clientNumber % 250) << 24)
            _ = withUnsafePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var address = target
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 || errno == EINPROGRESS else {
            close(fd)
            return nil
        }
        return fd
    }

    static func nowMilliseconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) * 1000 + Double(now.tv_nsec) / 1e6
    }
}
