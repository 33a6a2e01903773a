import DalyProtocol

/// What the OLED pages show, gathered by the controller from its snapshot.
public struct DisplayStatus: Equatable, Sendable {
    public var httpOK = false
    public var mqttOK = false
    public var bmsOK = false
    public var inaOK = false
    /// Last Daly values (nil before the first good poll).
    public var dalySOC: Double?
    public var dalyVoltage: Double?
    public var dalyCurrent: Double?
    public var dalyCellDifferenceV: Double?
    public var calculatedSOC = 0.0
    public var inaVoltage = 0.0
    public var inaCurrent = 0.0
    public var inaPower = 0.0
    public var chargeFET: Bool?
    public var dischargeFET: Bool?
    public var load = false
    public var balancer = false
    public var uptimeSeconds = 0
    /// Active BMS alarm names (AlarmFlags names).
    public var alarms: [String] = []

    public init() {}
}

/// juepi's four OLED pages (juepi §1.6) and DalyGate's fifth page with the balancer relay and active alarms; four
/// lines of at most 21 characters each, numbers formatted as juepi's `String(float, n)` (printf "%.nf").
public enum DisplayPages {
    public static let count = 5

    public static func lines(page: Int, status s: DisplayStatus) -> [String] {
        switch page % count {
        case 0:
            return ["HTTP: \(ok(s.httpOK))", "MQTT: \(ok(s.mqttOK))", "BMS:  \(ok(s.bmsOK))", "INA:  \(ok(s.inaOK))"]
        case 1:
            return ["Daly SoC: \(fixed(s.dalySOC, 1))", "Daly Vbat: \(fixed(s.dalyVoltage, 2))",
                    "Daly Ibat: \(fixed(s.dalyCurrent, 2))", "Daly Vdiff: \(fixed(s.dalyCellDifferenceV, 3))"]
        case 2:
            return ["Calc SoC: \(fixed(s.calculatedSOC, 1))", "INA Vbat: \(fixed(s.inaVoltage, 2))",
                    "INA Ibat: \(fixed(s.inaCurrent, 2))", "INA PWR:  \(fixed(s.inaPower, 1))"]
        case 3:
            return ["Charge FET: \(onOff(s.chargeFET))", "Disch FET:  \(onOff(s.dischargeFET))",
                    "SSR1:       \(onOff(s.load))", "Uptime:     \(s.uptimeSeconds)"]
        default:
            let shown = s.alarms.prefix(2).map { AlarmText.short($0) }
            let more = s.alarms.count > 2 ? "+\(s.alarms.count - 2) more" : ""
            return ["SSR2 (bal): \(onOff(s.balancer))", "Alarms: \(s.alarms.isEmpty ? "none" : String(s.alarms.count))",
                    shown.count > 0 ? shown[0] : "", shown.count > 1 ? shown[1] : more]
        }
    }

    static func ok(_ value: Bool) -> String { value ? "OK" : "FAIL" }
    static func onOff(_ value: Bool?) -> String { value.map { $0 ? "on" : "off" } ?? "--" }

    /// ``Decimals/fixed(_:_:signedZero:)``; "--" for a missing value.
    public static func fixed(_ value: Double?, _ digits: Int) -> String {
        guard let value, value.isFinite else { return "--" }
        return Decimals.fixed(value, digits)
    }
}

/// Which page to show on each 1 s tick: pages rotate every `interval` ticks while the display switch is on; when
/// it goes off the panel is cleared once (juepi's `OledCleared`).
public struct DisplayRotation: Equatable, Sendable {
    public enum Action: Equatable, Sendable {
        case show(page: Int)
        case clear
        case nothing
    }

    public let interval: Int
    public private(set) var page = 0
    private var ticksOnPage = 0
    private var cleared = true

    public init(interval: Int = 5) { self.interval = max(1, interval) }

    public mutating func tick(enabled: Bool) -> Action {
        guard enabled else {
            if cleared { return .nothing }
            cleared = true
            return .clear
        }
        if cleared {
            cleared = false
            ticksOnPage = 0
            return .show(page: page)
        }
        ticksOnPage += 1
        if ticksOnPage >= interval {
            ticksOnPage = 0
            page = (page + 1) % DisplayPages.count
        }
        return .show(page: page)
    }
}
