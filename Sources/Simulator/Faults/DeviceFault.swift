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
    /// A power cycle, over at once: the chip's registers return to their power-on values (the INA226 loses its
    /// configuration and calibration, the SSD1306 goes dark and uninitialised). Shunt and display only.
    case reset
    /// One of `sim-bms --fault`'s misbehaviours (BMS only).
    case bms(DalyFaultRule)

    public var description: String {
        switch self {
        case .dead: "dead"
        case .stuck: "stuck"
        case .hang: "hang"
        case .reset: "reset"
        case .bms(let rule): rule.description
        }
    }
}

/// One injected device fault: `DEVICE:KIND[@SECONDS[-END]]`, striking SECONDS of simulated time after start
/// (default 0) and, with an END, over at END seconds (the device answers again; a chip that was dead comes back
/// at its power-on state, as after a brown-out). Examples: `shunt:dead@900`, `shunt:dead@30-60`, `load:stuck`,
/// `shunt:reset@120`, `bms:sleep@60`, `bms:corrupt:0.3`.
public struct DeviceFault: Equatable, Sendable, CustomStringConvertible {
    public var device: SimulatedDevice
    public var kind: DeviceFaultKind
    public var atSeconds: Double
    /// When the fault is over (nil: never).
    public var untilSeconds: Double?

    public init(device: SimulatedDevice, kind: DeviceFaultKind, atSeconds: Double = 0, untilSeconds: Double? = nil) {
        self.device = device
        self.kind = kind
        self.atSeconds = atSeconds
        self.untilSeconds = untilSeconds
    }

    /// Parses `DEVICE:KIND[@SECONDS[-END]]`; the error says what is wrong and what is accepted.
    public init(parsing text: String) throws(DeviceFaultError) {
        var body = Substring(text)
        var seconds = 0.0
        var until: Double?
        if let at = body.lastIndex(of: "@") {
            (seconds, until) = try Self.times(body[body.index(after: at)...], text: text)
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
        case "hang", "reset":
            guard device == .shunt || device == .display else {
                throw DeviceFaultError(text: text, problem: "'\(kindName.lowercased())' is an I2C fault: shunt or display only")
            }
            kind = kindName.lowercased() == "hang" ? .hang : .reset
        default:
            guard case .bms = device else {
                throw DeviceFaultError(text: text, problem: "unknown kind '\(kindName)' for \(device); kinds: dead, stuck" + (device == .shunt || device == .display ? ", hang, reset" : ""))
            }
            guard let rule = DalyFaultRule(parsing: kindName) else {
                throw DeviceFaultError(text: text, problem: "unknown kind '\(kindName)' for the BMS; kinds: dead, stuck, "
                    + DalyFault.allCases.map(\.rawValue).joined(separator: ", ") + " (optionally NAME:P, 0 < P <= 1)")
            }
            kind = .bms(rule)
        }
        if until != nil {
            var bms = false
            if case .bms = device { bms = true }
            guard kind == .dead || kind == .stuck, !bms else {
                throw DeviceFaultError(text: text, problem: "only dead and stuck faults of shunt, display, load and balancer"
                                       + " can end (@START-END)")
            }
        }
        self.init(device: device, kind: kind, atSeconds: seconds, untilSeconds: until)
    }

    /// `SECONDS` or `START-END` after the '@'.
    private static func times(_ text: Substring, text whole: String) throws(DeviceFaultError) -> (Double, Double?) {
        func seconds(_ number: Substring) throws(DeviceFaultError) -> Double {
            guard let value = Double(number), secondsRange.contains(value) else {
                throw DeviceFaultError(text: whole, problem: "'\(number)' after '@' is not a number of seconds in"
                                       + " 0...\(Int(secondsRange.upperBound)) (10 years)")
            }
            return value
        }
        // A '-' after the first character that is not an exponent's sign separates START and END.
        guard Double(text) == nil, let dash = text.indices.dropFirst().first(where: {
            text[$0] == "-" && !"eE".contains(text[text.index(before: $0)])
        }) else { return (try seconds(text), nil) }
        let (start, end) = (try seconds(text[..<dash]), try seconds(text[text.index(after: dash)...]))
        guard end > start else {
            throw DeviceFaultError(text: whole, problem: "the fault must end after it starts ('\(text)')")
        }
        return (start, end)
    }

    /// When a fault may strike: from start up to 10 years of simulated time (finite, and whole seconds fit an Int).
    public static let secondsRange = 0.0...(10 * 365 * 86_400.0)

    /// The packs `simulation.packs` can simulate.
    public static let packRange = 1...8

    static let deviceNames = "shunt, bms (or bmsN for pack N), load, balancer, display"

    public var description: String {
        func text(_ seconds: Double) -> String { seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds) }
        if let untilSeconds { return "\(device):\(kind)@\(text(atSeconds))-\(text(untilSeconds))" }
        return "\(device):\(kind)" + (atSeconds > 0 ? "@\(text(atSeconds))" : "")
    }
}

/// A `--sim-fault` / `simulation.device_faults` entry that does not parse (only ``DeviceFault/init(parsing:)``
/// makes one).
public struct DeviceFaultError: Error, Equatable, Sendable, CustomStringConvertible {
    public var text: String
    public var problem: String
    public var description: String { "device fault '\(text)': \(problem)" }
}
