import Workers

/// A thread that runs one job at a time for the controller thread, which waits for it: how packs on separate UARTs
/// are polled concurrently while each port still has one owner at a time.
final class PortWorker: Sendable {
    typealias Job = @Sendable () -> Void
    private let worker: Worker<Job>
    /// One message per finished job: what ``wait()`` sleeps on.
    private let finished: Mailbox<Void>

    init(name: String) throws(Errno) {
        let finished = try Mailbox<Void>()
        self.finished = finished
        worker = try Worker(name: name) { jobs in
            while let job = jobs.receive() {
                job()
                finished.send(())
            }
        }
    }

    /// Hands `job` to the thread; call ``wait()`` before touching what it uses.
    func run(_ job: @escaping Job) {
        worker.send(job)
    }

    /// Blocks until the job handed over first of those not yet waited for has finished.
    func wait() {
        _ = finished.receive()
    }

    /// Whether the thread has not been told to stop.
    var isRunning: Bool { worker.isRunning }

    /// Ends the thread (after a job in progress) and waits for it.
    func stop() {
        worker.stop()
    }
}
