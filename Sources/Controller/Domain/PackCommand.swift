/// A write to one pack's BMS of the bank (`PUT /api/v1/packs/{id}/...`); the bank-level commands act on every pack.
public enum PackCommand: Equatable, Sendable {
    /// 0xDA / 0xD9: switch that pack's charge or discharge MOSFET (a one-shot; modes are the bank's).
    case mosfet(Output, on: Bool)
    /// 0x21: set that pack's SOC.
    case soc(percent: Double)

    public var summary: String {
        switch self {
        case .mosfet(let output, let on): "switch \(output.label) \(on ? "on" : "off")"
        case .soc(let percent): "set BMS SOC to \(percent) %"
        }
    }
}
