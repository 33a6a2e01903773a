import Glibc
import Testing

@testable import HTTPGateway

/// Which pages a waiting event stream gives back, and that giving them back leaves the bytes libmicrohttpd sees as
/// zeroes while the process keeps fewer pages resident.
@Suite("Stream page release")
struct StreamPageReleaseTests {
    let page = 4096

    @Test("the first wait releases every whole page after the kept bytes, and nothing outside the free buffer")
    func firstWait() {
        var pages = StreamPageRelease(pageSize: page, keepBytes: 3 * 1024)
        // A buffer starting 100 bytes into page 10 and ending 300 bytes into page 17.
        let start = 10 * page + 100
        let range = pages.idle(at: start, capacity: 7 * page + 200)
        #expect(range == (11 * page)..<(17 * page))
    }

    @Test("later waits release nothing while events stay within the kept bytes, again once one wrote past them")
    func laterWaits() {
        var pages = StreamPageRelease(pageSize: page, keepBytes: 3 * 1024)
        let start = 10 * page + 100
        let capacity = 7 * page
        let first = pages.idle(at: start, capacity: capacity)
        pages.wrote(at: start, count: 2300)
        let afterAnEvent = pages.idle(at: start, capacity: capacity)
        pages.wrote(at: start, count: 9000)  // a burst of queued events
        let afterABurst = pages.idle(at: start, capacity: capacity)
        let afterNothing = pages.idle(at: start, capacity: capacity)
        #expect(first != nil)
        #expect(afterAnEvent == nil)
        #expect(afterABurst == (11 * page)..<(17 * page))
        #expect(afterNothing == nil)
    }

    @Test("a buffer with no whole page beyond the kept bytes (an HTTP/1.0 stream's 1 KiB block) releases nothing")
    func smallBuffer() {
        var pages = StreamPageRelease(pageSize: page, keepBytes: 3 * 1024)
        let block = pages.idle(at: 5 * page + 8, capacity: 1024)
        let page4K = pages.idle(at: 5 * page + 8, capacity: 4 * 1024)
        var none = StreamPageRelease(pageSize: page, keepBytes: 0)
        let wholePage = none.idle(at: 5 * page, capacity: page)
        #expect(block == nil)
        #expect(page4K == nil)
        #expect(wholePage == 5 * page..<6 * page)
    }

    @Test("released pages read back as zeroes and leave the resident set")
    func releasedPagesAreZeroAndNotResident() throws {
        let size = 16 * page
        let mapped: UnsafeMutableRawPointer? = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        let memory = try #require(mapped.flatMap { Int(bitPattern: $0) == -1 ? nil : $0 })
        defer { munmap(memory, size) }
        memset(memory, 0xAB, size)
        #expect(residentPages(memory, size) == 16)

        var pages = StreamPageRelease(pageSize: page, keepBytes: 3 * 1024)
        let start = Int(bitPattern: memory) + 8
        let released = pages.idle(at: start, capacity: size - 8)
        let range = try #require(released)
        #expect(madvise(UnsafeMutableRawPointer(bitPattern: range.lowerBound), range.count, MADV_DONTNEED) == 0)

        #expect(residentPages(memory, size) == 1)
        let bytes = memory.assumingMemoryBound(to: UInt8.self)
        #expect(bytes[page - 1] == 0xAB)
        #expect((page..<size).allSatisfy { bytes[$0] == 0 })
    }

    private func residentPages(_ memory: UnsafeMutableRawPointer, _ size: Int) -> Int {
        var vector = [UInt8](repeating: 0, count: size / page)
        _ = mincore(memory, size, &vector)
        return vector.filter { $0 & 1 == 1 }.count
    }
}
