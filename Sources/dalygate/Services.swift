import Controller
import Foundation
import LinuxHardware
import HTTPGateway
import MQTTBridge
import Logging
import ServiceLifecycle
import Simulator

/// Runs the controller's thread for the lifetime of the service group.
struct ControllerRunService: Service {
    let controller: ControllerService

    func run() async throws {
        controller.start()
        try? await gracefulShutdown()
        controller.stop()
    }
}

/// Steps the simulated world and keeps its BMS answering until shutdown.
struct SimulatedHardwareService: Service {
    let hardware: SimulatedHardwareSet

    func run() async throws {
        hardware.start()
        try? await gracefulShutdown()
        hardware.stop()
    }
}

/// systemd integration: READY=1 once the controller has ticked, WATCHDOG=1 while it keeps ticking (so a stuck tick
/// loop gets the service restarted), STOPPING=1 on shutdown. A no-op when not started by systemd.
struct SystemdService: Service {
    let controller: ControllerService
    let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment)

    func run() async throws {
        guard notifier.socketPath != nil else {
            try? await gracefulShutdown()
            return
        }
        let interval = (SystemdNotifier.watchdogSeconds(environment: ProcessInfo.processInfo.environment) ?? 20) / 2
        var ready = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let age = controller.secondsSinceLastTick {
                if !ready {
                    notifier.notify("READY=1")
                    ready = true
                }
                if age < 10 { notifier.notify("WATCHDOG=1") }
            }
            try? await Task.sleep(for: .seconds(ready ? max(0.5, interval) : 0.2))
        }
        notifier.notify("STOPPING=1")
    }
}
