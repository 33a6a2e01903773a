/// Where the server's event streams get their events. The server core and ``SSEClient`` know only this; GatewayAPI
/// adapts the controller's event bus to it (``ControllerEventSource``), so a stream is tested with any source.
public protocol EventSource: Sendable {
    /// A feed for a new stream, resuming after an event id if the client sent one. `notify` is called whenever
    /// events wait in the feed, from the publisher's thread: it must not block.
    func subscribe(resumeAfter: UInt64?, notify: @escaping @Sendable () -> Void) -> any EventFeed
    /// The stream of `feed` ended (or was refused before it began): stop feeding it.
    func unsubscribe(_ feed: any EventFeed)
    /// A stream was admitted and its response queued.
    func streamOpened()
    /// An admitted stream ended; `dropped` when it ended for being too slow.
    func streamClosed(dropped: Bool)
}

/// One stream's queue of events, already in their wire form.
public protocol EventFeed: AnyObject, Sendable {
    /// The first bytes of the stream: the `retry:` hint, and the current state for a client that starts afresh (in
    /// chunks that streams share: a connecting client costs no copy of the state).
    var opening: [[UInt8]] { get }
    /// The wire form of the events waiting, oldest first (shared chunks: an event is formatted once for all feeds).
    func drain() -> [[UInt8]]
    /// The feed fell too far behind and lost events: its stream is dropped.
    var isOverflowed: Bool { get }
}
