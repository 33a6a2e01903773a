/// Plain-English text for the 0x98 alarm names: a short form for the 21-character OLED and a sentence for people.
public enum AlarmText {
    /// "Cell V high L1" for `levelOneCellVoltageTooHigh`; at most 21 characters.
    public static func short(_ name: String) -> String {
        String(describe(name).short.prefix(21))
    }

    /// "Cell voltage too high (level 1)" for `levelOneCellVoltageTooHigh`.
    public static func sentence(_ name: String) -> String { describe(name).sentence }

    static func describe(_ name: String) -> (short: String, sentence: String) {
        if let known = gateway[name] { return known }
        if let (level, subject) = levelled(name) {
            let (shortSubject, longSubject) = subjects[subject] ?? (subject, subject)
            return ("\(shortSubject) L\(level)", "\(longSubject) (level \(level))")
        }
        if let known = failures[name] { return known }
        return (name, name)
    }

    /// Splits "levelTwoPackVoltageTooLow" into (2, "PackVoltageTooLow").
    private static func levelled(_ name: String) -> (Int, String)? {
        for (prefix, level) in [("levelOne", 1), ("levelTwo", 2)] where name.hasPrefix(prefix) {
            return (level, String(name.dropFirst(prefix.count)))
        }
        return nil
    }

    private static let subjects: [String: (String, String)] = [
        "CellVoltageTooHigh": ("Cell V high", "Cell voltage too high"),
        "CellVoltageTooLow": ("Cell V low", "Cell voltage too low"),
        "PackVoltageTooHigh": ("Pack V high", "Pack voltage too high"),
        "PackVoltageTooLow": ("Pack V low", "Pack voltage too low"),
        "ChargeTempTooHigh": ("Chg temp high", "Charge temperature too high"),
        "ChargeTempTooLow": ("Chg temp low", "Charge temperature too low"),
        "DischargeTempTooHigh": ("Dsg temp high", "Discharge temperature too high"),
        "DischargeTempTooLow": ("Dsg temp low", "Discharge temperature too low"),
        "ChargeCurrentTooHigh": ("Chg current high", "Charge current too high"),
        "DischargeCurrentTooHigh": ("Dsg current high", "Discharge current too high"),
        "StateOfChargeTooHigh": ("SOC high", "State of charge too high"),
        "StateOfChargeTooLow": ("SOC low", "State of charge too low"),
        "CellVoltageDifferenceTooHigh": ("Cell diff high", "Cell voltage difference too high"),
        "TempSensorDifferenceTooHigh": ("Temp diff high", "Temperature difference between sensors too high"),
    ]

    /// DalyGate's own alarms (the BMS/shunt plausibility check).
    private static let gateway: [String: (String, String)] = [
        "gatewayCurrentMismatch": ("BMS/shunt I differ", "BMS and shunt disagree on the current"),
        "gatewayVoltageMismatch": ("BMS/shunt V differ", "BMS and shunt disagree on the pack voltage"),
        "gatewaySOCGap": ("BMS SOC drifted", "the BMS's SOC and DalyGate's differ by more than soc_sync.alarm_gap_pct"),
    ]

    private static let failures: [String: (String, String)] = [
        "chargeFETTemperatureTooHigh": ("Chg MOS hot", "Charge MOSFET temperature too high"),
        "dischargeFETTemperatureTooHigh": ("Dsg MOS hot", "Discharge MOSFET temperature too high"),
        "failureOfChargeFETTemperatureSensor": ("Chg MOS sensor err", "Charge MOSFET temperature sensor failed"),
        "failureOfDischargeFETTemperatureSensor": ("Dsg MOS sensor err", "Discharge MOSFET temperature sensor failed"),
        "failureOfChargeFETAdhesion": ("Chg MOS stuck", "Charge MOSFET stuck closed (adhesion)"),
        "failureOfDischargeFETAdhesion": ("Dsg MOS stuck", "Discharge MOSFET stuck closed (adhesion)"),
        "failureOfChargeFETTBreaker": ("Chg MOS open", "Charge MOSFET open circuit"),
        "failureOfDischargeFETBreaker": ("Dsg MOS open", "Discharge MOSFET open circuit"),
        "failureOfAFEAcquisitionModule": ("AFE chip error", "Analog front-end (AFE) chip failed"),
        "failureOfVoltageSensorModule": ("Cell V sense lost", "Cell voltage measurement dropped out"),
        "failureOfTemperatureSensorModule": ("Temp sensor error", "Cell temperature sensor failed"),
        "failureOfEEPROMStorageModule": ("EEPROM error", "EEPROM storage failed"),
        "failureOfRealtimeClockModule": ("RTC error", "Real-time clock failed"),
        "failureOfPrechargeModule": ("Precharge failed", "Precharge failed"),
        "failureOfVehicleCommunicationModule": ("Comms failure", "Communication failure"),
        "failureOfIntranetCommunicationModule": ("Internal comms fail", "Internal communication failure"),
        "failureOfCurrentSensorModule": ("Current sensor err", "Current sensor module failed"),
        "failureOfMainVoltageSensorModule": ("Pack V sense error", "Pack voltage measurement failed"),
        "failureOfShortCircuitProtection": ("Short circuit prot", "Short-circuit protection fault"),
        "failureOfLowVoltageNoCharging": ("Low V: no charging", "Voltage too low to allow charging"),
    ]
}
