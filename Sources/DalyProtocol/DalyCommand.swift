/// A Daly A5-protocol data ID (frame byte 2), named after maland16's enum (protocol §2.3 and §2.6).
///
/// Every request and every response carries one; a response echoes the ID it answers.
public enum DalyCommand: UInt8, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// 0x90: total voltage, current, SOC.
    case packMeasurements = 0x90
    /// 0x91: highest and lowest cell voltage with their cell numbers.
    case minMaxCellVoltage = 0x91
    /// 0x92: highest and lowest temperature with their sensor numbers.
    case minMaxTemperature = 0x92
    /// 0x93: charge/discharge state, MOSFET states, heartbeat, remaining capacity.
    case mosfetStatus = 0x93
    /// 0x94: cell count, sensor count, charger/load status, DIO, cycles.
    case statusInfo = 0x94
    /// 0x95: cell voltages, three per frame, multi-frame.
    case cellVoltages = 0x95
    /// 0x96: temperature sensors, seven per frame, multi-frame.
    case temperatures = 0x96
    /// 0x97: balancing bit per cell.
    case balanceState = 0x97
    /// 0x98: alarm bitfields and fault code.
    case failureCodes = 0x98
    /// 0xD9: discharge MOSFET on/off (write).
    case setDischargeMOS = 0xD9
    /// 0xDA: charge MOSFET on/off (write).
    case setChargeMOS = 0xDA
    /// 0x21: set SOC and RTC (write).
    case setSOC = 0x21
    /// 0x00: BMS reset/restart.
    case reset = 0x00
    /// 0x50: rated capacity and nominal cell voltage.
    case ratedParameters = 0x50
    /// 0x53: battery details (production date).
    case batteryDetails = 0x53
    /// 0x57: battery code, five frames of ASCII.
    case batteryCode = 0x57
    /// 0x59: cell voltage alarm thresholds.
    case cellVoltageThresholds = 0x59
    /// 0x5A: pack voltage alarm thresholds.
    case packVoltageThresholds = 0x5A
    /// 0x61: RTC and SOC.
    case rtcAndSOC = 0x61
    /// 0x63: version/model string, two frames of ASCII.
    case versionString = 0x63

    /// The nine read commands of a full poll, in maland16's (juepi's) order.
    public static let fullPoll: [DalyCommand] = [
        .packMeasurements, .minMaxCellVoltage, .minMaxTemperature, .mosfetStatus, .statusInfo,
        .cellVoltages, .temperatures, .balanceState, .failureCodes,
    ]

    /// True for commands that change the BMS's state.
    public var isWrite: Bool {
        switch self {
        case .setDischargeMOS, .setChargeMOS, .setSOC, .reset: true
        default: false
        }
    }

    /// The command as it is usually written, e.g. "0x90".
    public var hex: String { "0x" + String(rawValue, radix: 16, uppercase: true).leftPadded(to: 2) }

    public var description: String { "\(hex) \(name)" }

    /// maland16-style name, for logs and errors.
    public var name: String {
        switch self {
        case .packMeasurements: "pack measurements"
        case .minMaxCellVoltage: "min/max cell voltage"
        case .minMaxTemperature: "min/max temperature"
        case .mosfetStatus: "MOSFET status"
        case .statusInfo: "status info"
        case .cellVoltages: "cell voltages"
        case .temperatures: "temperatures"
        case .balanceState: "balance state"
        case .failureCodes: "failure codes"
        case .setDischargeMOS: "set discharge MOSFET"
        case .setChargeMOS: "set charge MOSFET"
        case .setSOC: "set SOC"
        case .reset: "reset"
        case .ratedParameters: "rated parameters"
        case .batteryDetails: "battery details"
        case .batteryCode: "battery code"
        case .cellVoltageThresholds: "cell voltage thresholds"
        case .packVoltageThresholds: "pack voltage thresholds"
        case .rtcAndSOC: "RTC and SOC"
        case .versionString: "version string"
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
