import Foundation
import Synchronization
import Testing
import Workers

@Suite("Worker: a named thread over its mailbox")
struct WorkerTests {
    @Test("messages reach the loop in the order they were sent")
    func messagesArriveInOrder() throws {
        let seen = Shared<[Int]>([])
        let worker = try Worker<Int>(name: "test-order") { mailbox in
            while let message = mailbox.receive() { seen.update { $0.append(message) } }
        }
        for message in 1...200 { #expect(worker.send(message)) }
        worker.stop()
        #expect(seen.value == Array(1...200))
    }

    @Test("a wake without a message ends the loop's wait long before its deadline")
    func wakeWithoutMessage() throws {
        let woken = Shared(0)
        let worker = try Worker<Never>(name: "test-wake") { mailbox in
            while mailbox.isOpen {
                mailbox.wait(seconds: 60)
                woken.update { $0 += 1 }
            }
        }
        let started = ContinuousClock.now
        worker.wake()
        #expect(waitUntil(seconds: 5) { woken.value >= 1 })
        #expect(started.duration(to: .now) < .seconds(5))
        #expect(worker.isRunning)
        worker.stop()
    }

    @Test("without a message or wake the loop sleeps until its deadline, not longer and not much shorter")
    func deadline() throws {
        let mailbox = try Mailbox<Int>()
        let started = ContinuousClock.now
        mailbox.wait(seconds: 0.05)
        let slept = started.duration(to: .now)
        #expect(slept >= .milliseconds(50))
        #expect(slept < .seconds(2))
    }

    @Test("stop joins: when it returns the loop has finished, and later messages are refused")
    func stopJoins() throws {
        let finished = Shared(false)
        let worker = try Worker<Int>(name: "test-stop") { mailbox in
            while mailbox.isOpen { mailbox.wait(seconds: 60) }
            // Work after the loop: stop must wait for it.
            var spin = 0
            for index in 0..<1_000_000 { spin &+= index }
            finished.update { $0 = spin != 0 }
        }
        worker.stop()
        #expect(finished.value)
        #expect(!worker.isRunning)
        #expect(!worker.send(1))
        worker.stop()
    }

    @Test("messages queued before the close are still there for the loop to settle")
    func queuedMessagesSurviveClose() throws {
        let mailbox = try Mailbox<String>()
        mailbox.send("a")
        mailbox.send("b")
        mailbox.close()
        #expect(!mailbox.send("c"))
        #expect(mailbox.take() == ["a", "b"])
        #expect(mailbox.receive() == nil)
    }

    @Test("the async stop suspends instead of holding a pool thread: more stops than pool threads all get going")
    func asyncStopDoesNotNeedThePool() async throws {
        // Each loop ends only once `go` is set, by a task that runs only after every stop has begun. A stop that
        // blocked its pool thread would take the whole pool (more stops than threads) and that task could not run:
        // then a plain thread sets `go` after 60 s, so that the test fails instead of hanging. (Generous: in the full
        // suite other tests hold pool threads too, and the task must wait for one of them.)
        let stops = 4 * ProcessInfo.processInfo.activeProcessorCount + 4
        let goneBy = Shared<String?>(nil)
        let begun = Shared(0)
        let workers = try (0..<stops).map { index in
            try Worker<Never>(name: "test-async-\(index)") { mailbox in
                while mailbox.isOpen { mailbox.wait(seconds: 60) }
                while goneBy.value == nil { usleep(1000) }
            }
        }
        let fallback = try Worker<Never>(name: "test-fallback") { mailbox in
            mailbox.wait(seconds: 60)
            goneBy.update { $0 = $0 ?? "the fallback thread" }
        }
        await withTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask {
                    begun.update { $0 += 1 }
                    await worker.stopWithoutBlocking()
                }
            }
            group.addTask {
                while begun.value < stops { await Task.yield() }
                goneBy.update { $0 = $0 ?? "a pool task" }
            }
        }
        fallback.stop()
        #expect(goneBy.value == "a pool task")
        #expect(workers.allSatisfy { !$0.isRunning })
    }

    @Test("two threads stopping one worker at once both return only after its loop finished, and it ends once")
    func concurrentStops() throws {
        let ended = Shared(0)
        let worker = try Worker<Int>(name: "test-2stops") { mailbox in
            while mailbox.isOpen { mailbox.wait(seconds: 60) }
            // A slow ending (a state saved, a port closed): a stop returning before it would lie.
            usleep(300_000)
            ended.update { $0 += 1 }
        }
        let ready = Shared(0)
        let sawEnded = Shared<[Bool]>([])
        let stoppers = (0..<2).map { index in
            OwnedThread(name: "test-stopper-\(index)") {
                ready.update { $0 += 1 }
                while ready.value < 2 {}
                worker.stop()
                sawEnded.update { $0.append(ended.value == 1) }
            }
        }
        for stopper in stoppers { stopper.join() }
        #expect(sawEnded.value == [true, true], "a stop returned while the loop was still running")
        #expect(ended.value == 1)
        worker.stop()
        #expect(!worker.send(1))
    }

    @Test("a loop that stops its own worker while another thread stops it does not wait for itself")
    func selfStopDuringStop() throws {
        let this = Shared<Worker<Never>?>(nil)
        let selfStopped = Shared(false)
        let worker = try Worker<Never>(name: "test-selfstop") { mailbox in
            while mailbox.isOpen { mailbox.wait(seconds: 60) }
            // Told to stop from outside; the loop's own clean-up stops its worker too (a deinit, say).
            usleep(50_000)
            this.value?.stop()
            selfStopped.update { $0 = true }
        }
        this.update { $0 = worker }
        let outside = OwnedThread(name: "test-outside") { worker.stop() }
        #expect(waitUntil(seconds: 10) { outside.hasFinished }, "the loop waited for its own end: deadlock")
        #expect(selfStopped.value)
        if outside.hasFinished { outside.join() } else { outside.detach() }
        this.update { $0 = nil }
    }

    @Test("a thread is joinable from a task after it finished on its own")
    func asyncJoinAfterFinish() async {
        let thread = OwnedThread(name: "test-join") {}
        #expect(waitUntil(seconds: 5) { thread.hasFinished })
        await thread.joinWithoutBlocking()
        // Joining again is harmless, from a thread too.
        thread.join()
    }
}

/// Polls `condition` (test-side only) until it holds or `seconds` pass.
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// A value shared between the test and a worker's thread.
final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    var value: Value { state.withLock { $0 } }
    func update(_ body: (inout Value) -> Void) { state.withLock { body(&$0) } }
}
