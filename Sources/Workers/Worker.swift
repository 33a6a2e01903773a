/// A long-lived worker: a named thread running a loop over its own ``Mailbox``. Messages reach it in order,
/// `wake()` rouses it without one, and `stop()` closes the mailbox and joins the thread: from a thread, or from a
/// task with `await stopWithoutBlocking()`, which suspends instead of blocking the cooperative pool.
///
/// The loop's contract: return soon after `mailbox.isOpen` turns false (it is woken when it does).
public final class Worker<Message: Sendable>: Sendable {
    public let mailbox: Mailbox<Message>
    private let thread: OwnedThread

    /// Creates the mailbox and starts `loop` on a thread named `name` at once.
    public convenience init(name: String, loop: @escaping @Sendable (Mailbox<Message>) -> Void) throws(Errno) {
        self.init(name: name, mailbox: try Mailbox<Message>(), loop: loop)
    }

    /// Starts `loop` on a thread named `name` at once, over a mailbox made beforehand (so that starting cannot fail).
    public init(name: String, mailbox: Mailbox<Message>, loop: @escaping @Sendable (Mailbox<Message>) -> Void) {
        self.mailbox = mailbox
        thread = OwnedThread(name: name) { loop(mailbox) }
    }

    /// Queues `message` for the loop; false once the worker is stopping.
    @discardableResult
    public func send(_ message: Message) -> Bool { mailbox.send(message) }

    /// Rouses the loop without a message.
    public func wake() { mailbox.wake() }

    /// Whether the worker has not been told to stop.
    public var isRunning: Bool { mailbox.isOpen }

    /// Tells the loop to finish and waits for its thread. Idempotent, and safe to call from several threads at
    /// once (a graceful shutdown and a signal path): the thread is joined once, and every call returns only once
    /// the loop has finished. The mailbox's wake pipe is closed only when the worker goes, never by a stop.
    public func stop() {
        mailbox.close()
        thread.join()
    }

    /// ``stop()`` for Swift concurrency: suspends until the thread has ended, blocking no thread of the pool.
    public func stopWithoutBlocking() async {
        mailbox.close()
        await thread.joinWithoutBlocking()
    }
}
