import DeviceKit

/// juepi's peripheral set, simulated: an INA226 at 0x40 and an SSD1306 at 0x3C on one I2C bus, and a GPIO chip.
public final class SimulatedPeripherals: Sendable {
    public let i2c: SimulatedI2CBus
    public let ina226: SimulatedINA226
    public let oled: SimulatedSSD1306
    public let gpio: SimulatedGPIOChip

    public init(shuntOhms: Double = 0.002, oledHeight: Int = 32, inaAddress: UInt8 = 0x40, oledAddress: UInt8 = 0x3C) {
        ina226 = SimulatedINA226(shuntOhms: shuntOhms)
        oled = SimulatedSSD1306(height: oledHeight)
        i2c = SimulatedI2CBus(devices: [inaAddress: ina226, oledAddress: oled])
        gpio = SimulatedGPIOChip()
    }
}
