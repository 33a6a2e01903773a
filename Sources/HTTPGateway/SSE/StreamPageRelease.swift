/// Which pages of an idle event stream's send buffer can go back to the kernel.
///
/// Why: libmicrohttpd (0.9.75) reads a request head into half of the connection's memory pool and zeroes that half
/// once the head is parsed, so every page of it becomes resident, and an event stream keeps its pool for as long as
/// it is open. For a chunked stream (HTTP/1.1, what every browser's EventSource speaks) the content reader is handed
/// that same region as the free part of the connection's write buffer: bytes the reader may overwrite at will. When a
/// stream waits for its next event, the whole pages inside that free part are released (`madvise(MADV_DONTNEED)`):
/// they read back as zeroes, which is exactly what writing zeroes there would do, so libmicrohttpd sees no difference,
/// and a waiting stream keeps only the pages it really uses. The pool stays large enough for long request heads.
///
/// A release costs a system call and the next write re-faults the pages, so it is done only when needed: the first
/// time the stream waits, and again only after the stream wrote past the pages it keeps (`keepBytes` after the
/// buffer's start, enough for an ordinary event). Pure arithmetic on addresses; the content reader (`sseReader`)
/// makes the call.
struct StreamPageRelease {
    let pageSize: Int
    /// Bytes at the start of the buffer kept resident: the next event is written there.
    let keepBytes: Int
    /// The start of the range released last time (nil: nothing released yet).
    private var releasedFrom: Int?
    /// The furthest byte written since the last release.
    private var writtenEnd = 0

    init(pageSize: Int, keepBytes: Int) {
        precondition(pageSize > 0 && pageSize & (pageSize - 1) == 0, "the page size is a power of two")
        self.pageSize = pageSize
        self.keepBytes = max(0, keepBytes)
    }

    /// The reader wrote `count` bytes at address `start`.
    mutating func wrote(at start: Int, count: Int) {
        writtenEnd = max(writtenEnd, start + count)
    }

    /// The buffer `[start, start + capacity)` is free and the stream waits: the page-aligned addresses to release,
    /// or nil when no whole page lies beyond the kept bytes or none was written since the last release.
    mutating func idle(at start: Int, capacity: Int) -> Range<Int>? {
        let from = roundUp(start + keepBytes)
        let to = (start + capacity) & ~(pageSize - 1)
        guard from < to else { return nil }
        if releasedFrom == from && writtenEnd <= from { return nil }
        releasedFrom = from
        writtenEnd = 0
        return from..<to
    }

    private func roundUp(_ address: Int) -> Int { (address + pageSize - 1) & ~(pageSize - 1) }
}
