/// The devices the controller owns, Linux or simulated: it never knows which.
///
/// `@unchecked Sendable`: the bundle is built on the starting thread and handed whole to the controller's thread,
/// which is from then on the only code that touches any of these devices (design.md: one owner per device).
public struct DeviceSet: @unchecked Sendable {
    public var bms: DalyClient?
    /// Opens the BMS port; called again every `reopenSeconds` while it is missing (a USB adapter plugged in late).
    public var openBMS: (@Sendable () throws -> DalyClient)?
    /// The I2C and GPIO devices, each in its slot (nil: not part of this set). The controller sets them up on
    /// its thread, retries the failed ones and checks the working ones (``DeviceSlot``).
    public var shunt: DeviceSlot<INA226>?
    public var oled: DeviceSlot<SSD1306>?
    public var relays: DeviceSlot<RelayBoard>?
    /// The bank's BMS ports when there are several packs (empty: the one BMS above is the bank).
    public var bmsBuses: [BMSBus] = []
    /// Why a device is missing when the set is made (the BMS port), for the log and /healthz.
    public var problems: [String] = []

    public init(bms: DalyClient? = nil, openBMS: (@Sendable () throws -> DalyClient)? = nil,
                shunt: DeviceSlot<INA226>? = nil, oled: DeviceSlot<SSD1306>? = nil, relays: DeviceSlot<RelayBoard>? = nil,
                problems: [String] = [], bmsBuses: [BMSBus] = []) {
        self.bmsBuses = bmsBuses
        self.bms = bms
        self.openBMS = openBMS
        self.shunt = shunt
        self.oled = oled
        self.relays = relays
        self.problems = problems
    }

    /// The slots of juepi's I2C and GPIO devices, the same for the real and the simulated set: the INA226 and the
    /// OLED on their I2C buses, the relay board on its GPIO chip. Each `open` is called at a set-up attempt.
    public static func peripheralSlots(
        shuntBus: @escaping () throws -> any I2CBus, shunt: INA226Configuration,
        oledBus: @escaping () throws -> any I2CBus, oledAddress: UInt8, oledHeight: Int,
        gpioChip: @escaping () throws -> any GPIOChip, lines: RelayBoardLines
    ) -> (shunt: DeviceSlot<INA226>, oled: DeviceSlot<SSD1306>, relays: DeviceSlot<RelayBoard>) {
        (DeviceSlot("INA226") { INA226(bus: try shuntBus(), configuration: shunt) },
         DeviceSlot("OLED") { SSD1306(bus: try oledBus(), address: oledAddress, height: oledHeight) },
         DeviceSlot("relays") { RelayBoard(chip: try gpioChip(), lines: lines) })
    }
}
