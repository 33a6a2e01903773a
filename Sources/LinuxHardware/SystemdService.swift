import ServiceLifecycle

/// systemd integration for the service group: READY=1 once the watched loop has made progress, WATCHDOG=1 while it
/// keeps making it (so a stuck controller gets the unit restarted), STOPPING=1 on shutdown. A no-op when not
/// started by systemd.
public struct SystemdService: Service {
    private let notifier: SystemdNotifier
    private let watchdogSeconds: Double?
    /// Real seconds since the loop last made progress, nil before it first did (the controller's last tick).
    private let secondsSinceProgress: @Sendable () -> Double?
    /// Older progress than this is a stuck loop: the watchdog is no longer fed.
    private let stuckAfterSeconds: Double

    public init(environment: [String: String], stuckAfterSeconds: Double = 10,
                secondsSinceProgress: @escaping @Sendable () -> Double?) {
        notifier = SystemdNotifier(environment: environment)
        watchdogSeconds = SystemdNotifier.watchdogSeconds(environment: environment)
        self.stuckAfterSeconds = stuckAfterSeconds
        self.secondsSinceProgress = secondsSinceProgress
    }

    public func run() async throws {
        guard notifier.socketPath != nil else {
            try? await gracefulShutdown()
            return
        }
        let interval = (watchdogSeconds ?? 20) / 2
        var ready = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let age = secondsSinceProgress() {
                if !ready {
                    notifier.notify("READY=1")
                    ready = true
                }
                if age < stuckAfterSeconds { notifier.notify("WATCHDOG=1") }
            }
            try? await Task.sleep(for: .seconds(ready ? max(0.5, interval) : 0.2))
        }
        notifier.notify("STOPPING=1")
    }
}
