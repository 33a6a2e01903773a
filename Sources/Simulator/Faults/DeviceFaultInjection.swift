import DalyProtocol
import DeviceKit

/// Device faults waiting for their time, the struck ones, and what they changed.
struct FaultState {
    var pending: [DeviceFault]
    var active: [DeviceFault] = []
    var bmsRules: [DalyFaultRule]
    var bmsFrozen = false
}

/// `--sim-fault`: each fault strikes at its simulated second and, if it has an end, is over at that second.
extension SimulatedHardwareSet {
    /// The device faults that have struck and are not over.
    public var activeFaults: [DeviceFault] { faults.withLock { $0.active } }

    /// Strikes every pending fault due at `seconds` of simulated time, and ends every active one that is over.
    public func strikeFaults(upTo seconds: Double) {
        let (due, over) = faults.withLock { state -> ([DeviceFault], [DeviceFault]) in
            let due = state.pending.filter { $0.atSeconds <= seconds }
            state.pending.removeAll { $0.atSeconds <= seconds }
            state.active += due.filter { $0.kind != .reset }
            let over = state.active.filter { ($0.untilSeconds ?? .infinity) <= seconds }
            state.active.removeAll { ($0.untilSeconds ?? .infinity) <= seconds }
            return (due, over)
        }
        for fault in due { strike(fault) }
        for fault in over { end(fault) }
    }

    /// Injects a fault now.
    public func strike(_ fault: DeviceFault) {
        let lineFault: SimulatedLineFault? = fault.kind == .dead ? .dead : fault.kind == .stuck ? .stuck : nil
        switch (fault.device, fault.kind) {
        case (.shunt, .hang): peripherals.i2c.hang(at: Self.inaAddress)
        case (.display, .hang): peripherals.i2c.hang(at: Self.oledAddress)
        case (.shunt, .reset): peripherals.ina226.powerOnReset()
        case (.display, .reset): peripherals.oled.powerOnReset()
        case (.shunt, .dead): peripherals.i2c.detach(at: Self.inaAddress)
        case (.display, .dead): peripherals.i2c.detach(at: Self.oledAddress)
        case (.shunt, _): peripherals.ina226.setFrozen(true)
        case (.display, _): peripherals.oled.setFrozen(true)
        case (.load, _): peripherals.gpio.setFault(settings.lines.load, lineFault)
        case (.balancer, _): peripherals.gpio.setFault(settings.lines.balancer, lineFault)
        case (.bms(let pack), _) where bank != nil:
            bank?.strike(pack: pack, fault.kind)
            faults.withLock { state in if !state.active.contains(fault) { state.active.append(fault) } }
        case (.bms, _):
            let rules = faults.withLock { state -> [DalyFaultRule] in
                switch fault.kind {
                case .dead: state.bmsRules.append(DalyFaultRule(.sleep))
                case .stuck: state.bmsFrozen = true
                case .hang, .reset: break  // refused for the BMS when parsed
                case .bms(let rule): state.bmsRules.append(rule)
                }
                if !state.active.contains(fault) { state.active.append(fault) }
                return state.bmsRules
            }
            bms.setFaults(rules)
        }
    }

    /// Ends a fault: the device answers again. A chip that was dead was without power: it comes back at its
    /// power-on state, as a browned-out chip does, and must be set up again.
    public func end(_ fault: DeviceFault) {
        switch (fault.device, fault.kind) {
        case (.shunt, .dead):
            peripherals.ina226.powerOnReset()
            peripherals.i2c.attach(peripherals.ina226, at: Self.inaAddress)
        case (.display, .dead):
            peripherals.oled.powerOnReset()
            peripherals.i2c.attach(peripherals.oled, at: Self.oledAddress)
        case (.shunt, .stuck): peripherals.ina226.setFrozen(false)
        case (.display, .stuck): peripherals.oled.setFrozen(false)
        case (.load, _): peripherals.gpio.setFault(settings.lines.load, nil)
        case (.balancer, _): peripherals.gpio.setFault(settings.lines.balancer, nil)
        default: break  // only the faults above can end (refused when parsed)
        }
    }
}
