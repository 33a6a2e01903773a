import DalyProtocol

/// Every alarm an `alarm` event can name. The raw values are the wire names (SSE, MQTT, the event log and
/// `alarms.active` in the state document): maland16's names for the BMS's 0x98 flags, in wire order, then the
/// gateway's own alarms. A name that is not here cannot be published.
public enum Alarm: String, Sendable, Hashable, Codable, CaseIterable {
    // 0x98 D0: cell and pack voltage.
    case levelOneCellVoltageTooHigh, levelTwoCellVoltageTooHigh, levelOneCellVoltageTooLow, levelTwoCellVoltageTooLow
    case levelOnePackVoltageTooHigh, levelTwoPackVoltageTooHigh, levelOnePackVoltageTooLow, levelTwoPackVoltageTooLow
    // D1: charge and discharge temperature.
    case levelOneChargeTempTooHigh, levelTwoChargeTempTooHigh, levelOneChargeTempTooLow, levelTwoChargeTempTooLow
    case levelOneDischargeTempTooHigh, levelTwoDischargeTempTooHigh, levelOneDischargeTempTooLow, levelTwoDischargeTempTooLow
    // D2: current and state of charge.
    case levelOneChargeCurrentTooHigh, levelTwoChargeCurrentTooHigh, levelOneDischargeCurrentTooHigh
    case levelTwoDischargeCurrentTooHigh, levelOneStateOfChargeTooHigh, levelTwoStateOfChargeTooHigh
    case levelOneStateOfChargeTooLow, levelTwoStateOfChargeTooLow
    // D3: differences.
    case levelOneCellVoltageDifferenceTooHigh, levelTwoCellVoltageDifferenceTooHigh
    case levelOneTempSensorDifferenceTooHigh, levelTwoTempSensorDifferenceTooHigh
    // D4: MOSFETs (maland16's spelling "FETTBreaker" kept: it is the wire name).
    case chargeFETTemperatureTooHigh, dischargeFETTemperatureTooHigh, failureOfChargeFETTemperatureSensor
    case failureOfDischargeFETTemperatureSensor, failureOfChargeFETAdhesion, failureOfDischargeFETAdhesion
    case failureOfChargeFETTBreaker, failureOfDischargeFETBreaker
    // D5: modules.
    case failureOfAFEAcquisitionModule, failureOfVoltageSensorModule, failureOfTemperatureSensorModule
    case failureOfEEPROMStorageModule, failureOfRealtimeClockModule, failureOfPrechargeModule
    case failureOfVehicleCommunicationModule, failureOfIntranetCommunicationModule
    // D6.
    case failureOfCurrentSensorModule, failureOfMainVoltageSensorModule, failureOfShortCircuitProtection
    case failureOfLowVoltageNoCharging
    // The gateway's own.
    /// BMS and shunt current apart for too long (``PlausibilityCheck``).
    case gatewayCurrentMismatch
    /// BMS and shunt pack voltage apart for too long (``PlausibilityCheck``).
    case gatewayVoltageMismatch
    /// The BMS's SOC and DalyGate's differ by more than `soc_sync.alarm_gap_pct`.
    case gatewaySOCGap
    /// A pack of a bank of several stopped answering.
    case packOffline

    /// Who raises an alarm: the BMS (0x98) or the gateway.
    public enum Origin: String, Sendable, Codable {
        case bms, gateway
    }

    public var origin: Origin {
        switch self {
        case .gatewayCurrentMismatch, .gatewayVoltageMismatch, .gatewaySOCGap, .packOffline: .gateway
        default: .bms
        }
    }

    /// "Cell voltage too high (level 1)": the event's `text` for a BMS alarm.
    public var sentence: String { AlarmText.sentence(rawValue) }
}

extension AlarmFlags {
    /// The active 0x98 flags as alarms, in wire order.
    public var activeAlarms: [Alarm] { active.compactMap(Alarm.init(rawValue:)) }
}
