import Glibc
import LinuxHardware
import Testing

/// The daemon's log output: a reader that stops reading must never block a thread that logs.
@Suite("Queued log output")
struct QueuedOutputTests {
    @Test("with nobody reading, 1 MB of lines is taken at once; the overflow is dropped, counted and reported")
    func neverBlocksTheLogger() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let output = try QueuedOutput(descriptor: fds[1], capacity: 100)
        let line = String(repeating: "x", count: 99) + "\n"
        // A pipe holds 64 KiB: without the queue the 700th line would block this thread for ever.
        let accepted = (0..<10_000).filter { _ in output.enqueue(line) }.count
        #expect(accepted < 10_000, "every line was accepted although the output is stuck")
        #expect(output.droppedSinceLastWrite > 0)
        // The reader comes back: what was queued arrives, then the line that counts the dropped ones.
        var received = ""
        var buffer = [UInt8](repeating: 0, count: 65_536)
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        let deadline = ContinuousClock.now + .seconds(20)
        while !received.contains("lines were dropped"), ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if count > 0 { received += String(decoding: buffer[0..<count], as: UTF8.self) } else { usleep(1000) }
        }
        #expect(received.contains("lines were dropped while the log output was not read"))
        #expect(received.split(separator: "\n").allSatisfy { $0 == line.dropLast() || $0.hasPrefix("log: ") })
        output.stop()
        close(fds[1])
    }
}
