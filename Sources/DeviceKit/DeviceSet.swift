/// The devices the controller owns, Linux or simulated: it never knows which.
///
/// `@unchecked Sendable`: the bundle is built on the starting thread and handed whole to the controller's thread,
/// which is from then on the only code that touches any of these devices (design.md: one owner per device).
public struct DeviceSet: @unchecked Sendable {
    public var bms: DalyClient?
    /// Opens the BMS port; called again every `reopenSeconds` while it is missing (a USB adapter plugged in late).
    public var openBMS: (@Sendable () throws -> DalyClient)?
    public var shunt: INA226?
    public var oled: SSD1306?
    public var relays: RelayBoard?
    /// The bank's BMS ports when there are several packs (empty: the one BMS above is the bank).
    public var bmsBuses: [BMSBus] = []
    /// Why a device is missing, for the log and /healthz.
    public var problems: [String] = []

    public init(bms: DalyClient? = nil, openBMS: (@Sendable () throws -> DalyClient)? = nil, shunt: INA226? = nil,
                oled: SSD1306? = nil, relays: RelayBoard? = nil, problems: [String] = [], bmsBuses: [BMSBus] = []) {
        self.bmsBuses = bmsBuses
        self.bms = bms
        self.openBMS = openBMS
        self.shunt = shunt
        self.oled = oled
        self.relays = relays
        self.problems = problems
    }
}
