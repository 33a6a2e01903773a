import Foundation

/// A thread that runs one job at a time for the controller thread, which waits for it: how packs on separate UARTs
/// are polled concurrently while each port still has one owner at a time.
///
/// `@unchecked Sendable`: `job` is written by the controller thread only while the worker waits on `start`, and
/// read by the worker only after `start` is signalled; the controller touches the job's data again only after
/// `done` is signalled. The two semaphores order every access, so no two threads ever use the port at once.
final class PortWorker: @unchecked Sendable {
    private let start = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var job: (() -> Void)?
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in
            while true {
                start.wait()
                if stopping { break }
                job?()
                job = nil
                done.signal()
            }
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Hands `job` to the thread; call ``wait()`` before touching what it uses.
    func run(_ job: @escaping () -> Void) {
        self.job = job
        start.signal()
    }

    /// Blocks until the job handed over last has finished.
    func wait() { done.wait() }

    /// Ends the thread (after a job in progress) and waits for it.
    func stop() {
        stopping = true
        start.signal()
        done.wait()
    }
}
