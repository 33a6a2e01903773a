/// One chip on an I2C bus: the bus and the chip's address bound together, so that a driver (INA226, SSD1306)
/// talks to its chip without repeating the address in every transaction, as ESPHome's `i2c::I2CDevice` does.
public struct I2CDevice: CustomStringConvertible {
    public let bus: any I2CBus
    public let address: UInt8

    public init(bus: any I2CBus, address: UInt8) {
        self.bus = bus
        self.address = address
    }

    /// One transaction with the chip (``I2CBus/transfer(address:write:readCount:)``).
    public func transfer(write: [UInt8], readCount: Int) throws(I2CError) -> [UInt8] {
        try bus.transfer(address: address, write: write, readCount: readCount)
    }

    /// Writes bytes (a register pointer and its value, or a command/data stream).
    public func write(_ bytes: [UInt8]) throws(I2CError) {
        try bus.write(address: address, bytes)
    }

    /// Reads a big-endian 16-bit register.
    public func readRegister16(_ register: UInt8) throws(I2CError) -> UInt16 {
        try bus.readRegister16(address: address, register: register)
    }

    /// Writes a big-endian 16-bit register.
    public func writeRegister16(_ register: UInt8, _ value: UInt16) throws(I2CError) {
        try bus.writeRegister16(address: address, register: register, value: value)
    }

    /// Whether the chip acknowledges its address (a one-byte read).
    public var acknowledges: Bool {
        (try? transfer(write: [], readCount: 1)) != nil
    }

    /// "0x3c on /dev/i2c-1", for messages.
    public var description: String { "0x\(String(address, radix: 16)) on \(bus.path)" }
}
