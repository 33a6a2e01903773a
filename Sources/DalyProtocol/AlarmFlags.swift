/// 0x98: the alarm bitfields D0...D6 and the fault code D7 (protocol §2.5), with maland16's names.
///
/// Unlike maland16 (which decodes all eight D1 flags from bit 1), every flag is read from its own bit. Reserved bits
/// (D3 and D6 bits 4–7) are ignored, so garbage there raises nothing.
public struct AlarmFlags: Hashable, Sendable {
    /// The names by byte and bit; nil marks a reserved bit.
    public static let names: [[String?]] = [
        ["levelOneCellVoltageTooHigh", "levelTwoCellVoltageTooHigh", "levelOneCellVoltageTooLow",
         "levelTwoCellVoltageTooLow", "levelOnePackVoltageTooHigh", "levelTwoPackVoltageTooHigh",
         "levelOnePackVoltageTooLow", "levelTwoPackVoltageTooLow"],
        ["levelOneChargeTempTooHigh", "levelTwoChargeTempTooHigh", "levelOneChargeTempTooLow",
         "levelTwoChargeTempTooLow", "levelOneDischargeTempTooHigh", "levelTwoDischargeTempTooHigh",
         "levelOneDischargeTempTooLow", "levelTwoDischargeTempTooLow"],
        ["levelOneChargeCurrentTooHigh", "levelTwoChargeCurrentTooHigh", "levelOneDischargeCurrentTooHigh",
         "levelTwoDischargeCurrentTooHigh", "levelOneStateOfChargeTooHigh", "levelTwoStateOfChargeTooHigh",
         "levelOneStateOfChargeTooLow", "levelTwoStateOfChargeTooLow"],
        ["levelOneCellVoltageDifferenceTooHigh", "levelTwoCellVoltageDifferenceTooHigh",
         "levelOneTempSensorDifferenceTooHigh", "levelTwoTempSensorDifferenceTooHigh", nil, nil, nil, nil],
        ["chargeFETTemperatureTooHigh", "dischargeFETTemperatureTooHigh", "failureOfChargeFETTemperatureSensor",
         "failureOfDischargeFETTemperatureSensor", "failureOfChargeFETAdhesion", "failureOfDischargeFETAdhesion",
         "failureOfChargeFETTBreaker", "failureOfDischargeFETBreaker"],
        ["failureOfAFEAcquisitionModule", "failureOfVoltageSensorModule", "failureOfTemperatureSensorModule",
         "failureOfEEPROMStorageModule", "failureOfRealtimeClockModule", "failureOfPrechargeModule",
         "failureOfVehicleCommunicationModule", "failureOfIntranetCommunicationModule"],
        ["failureOfCurrentSensorModule", "failureOfMainVoltageSensorModule", "failureOfShortCircuitProtection",
         "failureOfLowVoltageNoCharging", nil, nil, nil, nil],
    ]

    /// Every alarm name, in wire order.
    public static let allNames: [String] = names.flatMap { $0.compactMap { $0 } }

    /// D0...D6 as received (reserved bits included).
    public var bytes: [UInt8]
    /// D7: 0 = no fault.
    public var faultCode: UInt8

    public init(bytes: [UInt8] = Array(repeating: 0, count: 7), faultCode: UInt8 = 0) {
        precondition(bytes.count == 7)
        self.bytes = bytes
        self.faultCode = faultCode
    }

    /// Sets the named alarms; unknown names are a programming error.
    public init(active: [String], faultCode: UInt8 = 0) {
        self.init(faultCode: faultCode)
        for name in active { set(name, true) }
    }

    public init(frame: DalyFrame) throws(DalyResponseError) {
        try DalyResponseValidator.require(frame, is: .failureCodes)
        self.init(bytes: Array(frame.data[0..<7]), faultCode: frame.data[7])
    }

    public var data: [UInt8] { bytes + [faultCode] }

    /// The active alarms by name, in wire order.
    public var active: [String] {
        var out: [String] = []
        for (byte, row) in Self.names.enumerated() {
            for (bit, name) in row.enumerated() where bytes[byte] & (1 << UInt8(bit)) != 0 {
                if let name { out.append(name) }
            }
        }
        return out
    }

    /// Whether the named alarm is set (false for unknown names).
    public func isActive(_ name: String) -> Bool {
        guard let (byte, bit) = Self.position(of: name) else { return false }
        return bytes[byte] & (1 << UInt8(bit)) != 0
    }

    public mutating func set(_ name: String, _ on: Bool) {
        guard let (byte, bit) = Self.position(of: name) else { preconditionFailure("unknown alarm \(name)") }
        if on { bytes[byte] |= 1 << UInt8(bit) } else { bytes[byte] &= ~(1 << UInt8(bit)) }
    }

    /// Cell over-voltage at level 1 or 2: what juepi's load rule switches on (juepi §1.9).
    public var cellOverVoltage: Bool {
        isActive("levelOneCellVoltageTooHigh") || isActive("levelTwoCellVoltageTooHigh")
    }

    static func position(of name: String) -> (Int, Int)? {
        for (byte, row) in names.enumerated() {
            if let bit = row.firstIndex(of: name) { return (byte, bit) }
        }
        return nil
    }
}
