/// A device of the simulated hardware set that a fault can strike (`serve --simulate --sim-fault DEVICE:KIND@S`).
public enum SimulatedDevice: Equatable, Sendable, CustomStringConvertible {
    /// The INA226 shunt monitor on I2C.
    case shunt
    /// A Daly BMS: pack 1...8 of the simulated bank (`bms` alone is pack 1).
    case bms(pack: Int)
    /// The load relay's GPIO line (SSR1).
    case load
    /// The balancer relay's GPIO line (SSR2).
    case balancer
    /// The SSD1306 OLED on I2C.
    case display

    public var description: String {
        switch self {
        case .shunt: "shunt"
        case .bms(let pack): pack == 1 ? "bms" : "bms\(pack)"
        case .load: "load"
        case .balancer: "balancer"
        case .display: "display"
        }
    }
}

/// What goes wrong with the device.
public enum DeviceFaultKind: Equatable, Sendable, CustomStringConvertible {
    /// It stops answering: I2C NACK, no BMS reply, a GPIO line whose request and every access fail.
    case dead
    /// It stops changing: GPIO writes fail and reads return the old level; a sensor's registers freeze at their
    /// last measurement; the OLED keeps its last image.
    case stuck
    /// It holds the bus: every I2C transfer to it blocks and never completes (a chip stretching the clock for
    /// ever, which some SoCs' I2C drivers never time out). Shunt and display only. The tick that reads it hangs,
    /// so this is how the systemd watchdog and /healthz are tested against a stuck controller.
    case hang
    /// One of `sim-bms --fault`'s misbehaviours (BMS only).
    case bms(DalyFaultRule)

    public var description: String {
        switch self {
        case .dead: "dead"
        case .stuck: "stuck"
        case .hang: "hang"
        case .bms(let rule): rule.description
        }
    }
}

/// One injected device fault: `DEVICE:KIND[@SECONDS]`, striking SECONDS of simulated time after start (default 0).
/// Examples: `shunt:dead@900`, `load:stuck`, `bms:sleep@60`, `bms:corrupt:0.3`.
public struct DeviceFault: Equatable, Sendable, CustomStringConvertible {
    public var device: SimulatedDevice
    public var kind: DeviceFaultKind
    public var atSeconds: Double

    public init(device: SimulatedDevice, kind: DeviceFaultKind, atSeconds: Double = 0) {
        self.device = device
        self.kind = kind
        self.atSeconds = atSeconds
    }

    /// Parses `DEVICE:KIND[@SECONDS]`; the error says what is wrong and what is accepted.
    public init(parsing text: String) throws(DeviceFaultError) {
        var body = Substring(text)
        var seconds = 0.0
        if let at = body.lastIndex(of: "@") {
            let number = body[body.index(after: at)...]
            guard let value = Double(number), Self.secondsRange.contains(value) else {
                throw DeviceFaultError(text: text, problem: "'\(number)' after '@' is not a number of seconds in"
                                       + " 0...\(Int(Self.secondsRange.upperBound)) (10 years)")
            }
            seconds = value
            body = body[..<at]
        }
        guard let colon = body.firstIndex(of: ":") else {
            throw DeviceFaultError(text: text, problem: "expected DEVICE:KIND[@SECONDS]")
        }
        let deviceName = body[..<colon].lowercased()
        let kindName = String(body[body.index(after: colon)...])
        let device: SimulatedDevice
        switch deviceName {
        case "shunt": device = .shunt
        case "load": device = .load
        case "balancer": device = .balancer
        case "display": device = .display
        case "bms": device = .bms(pack: 1)
        default:
            guard deviceName.hasPrefix("bms"), let pack = Int(deviceName.dropFirst(3)), pack >= 1 else {
                throw DeviceFaultError(text: text, problem: "unknown device '\(deviceName)'; devices: \(Self.deviceNames)")
            }
            guard DeviceFault.packRange.contains(pack) else {
                throw DeviceFaultError(text: text, problem: "pack \(pack) is out of range: bms1...bms\(DeviceFault.packRange.upperBound)")
            }
            device = .bms(pack: pack)
        }
        let kind: DeviceFaultKind
        switch kindName.lowercased() {
        case "dead": kind = .dead
        case "stuck": kind = .stuck
        case "hang":
            guard device == .shunt || device == .display else {
                throw DeviceFaultError(text: text, problem: "'hang' is an I2C fault: shunt or display only")
            }
            kind = .hang
        default:
            guard case .bms = device else {
                throw DeviceFaultError(text: text, problem: "unknown kind '\(kindName)' for \(device); kinds: dead, stuck" + (device == .shunt || device == .display ? ", hang" : ""))
            }
            guard let rule = DalyFaultRule(parsing: kindName) else {
                throw DeviceFaultError(text: text, problem: "unknown kind '\(kindName)' for the BMS; kinds: dead, stuck, "
                    + DalyFault.allCases.map(\.rawValue).joined(separator: ", ") + " (optionally NAME:P, 0 < P <= 1)")
            }
            kind = .bms(rule)
        }
        self.init(device: device, kind: kind, atSeconds: seconds)
    }

    /// When a fault may strike: from start up to 10 years of simulated time (finite, and whole seconds fit an Int).
    public static let secondsRange = 0.0...(10 * 365 * 86_400.0)

    /// The packs `simulation.packs` can simulate.
    public static let packRange = 1...8

    static let deviceNames = "shunt, bms (or bmsN for pack N), load, balancer, display"

    public var description: String {
        "\(device):\(kind)" + (atSeconds > 0 ? "@\(atSeconds == atSeconds.rounded() ? String(Int(atSeconds)) : String(atSeconds))" : "")
    }
}

/// A `--sim-fault` / `simulation.device_faults` entry that does not parse (only ``DeviceFault/init(parsing:)``
/// makes one).
public struct DeviceFaultError: Error, Equatable, Sendable, CustomStringConvertible {
    public var text: String
    public var problem: String
    public var description: String { "device fault '\(text)': \(problem)" }
}
