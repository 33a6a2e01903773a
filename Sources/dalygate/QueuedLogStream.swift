import LinuxHardware
import Logging

/// swift-log's stream for the daemon: each formatted line goes to a ``QueuedOutput`` on stderr, so logging never
/// blocks the controller's tick, the MQTT bridge or an HTTP worker, even when nobody reads stderr.
struct QueuedLogStream: TextOutputStream, Sendable {
    let output: QueuedOutput

    mutating func write(_ string: String) {
        output.enqueue(string)
    }

    /// A handler at `level` writing through `output`; plain stderr when the queue could not be made.
    static func handler(label: String, level: Logger.Level, output: QueuedOutput?) -> StreamLogHandler {
        var handler = output.map { StreamLogHandler(label: label, stream: QueuedLogStream(output: $0)) }
            ?? StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}
