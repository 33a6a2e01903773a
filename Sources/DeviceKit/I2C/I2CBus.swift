/// An I2C adapter: what the INA226 and SSD1306 drivers need from /dev/i2c-N, and what the simulator provides.
public protocol I2CBus: AnyObject {
    /// The adapter path, for error messages.
    var path: String { get }
    /// One transaction: write `write` to the device at `address`, then (if `readCount` > 0) read `readCount` bytes
    /// after a repeated start. Throws `.noAcknowledge` when nothing answers at the address.
    func transfer(address: UInt8, write: [UInt8], readCount: Int) throws(I2CError) -> [UInt8]
}

extension I2CBus {
    /// Writes bytes (a register pointer and its value, or an SSD1306 command/data stream).
    public func write(address: UInt8, _ bytes: [UInt8]) throws(I2CError) {
        _ = try transfer(address: address, write: bytes, readCount: 0)
    }

    /// Reads a big-endian 16-bit register (pointer write, repeated start, two-byte read), as the INA226 wants.
    public func readRegister16(address: UInt8, register: UInt8) throws(I2CError) -> UInt16 {
        let bytes = try transfer(address: address, write: [register], readCount: 2)
        return UInt16(bytes[0]) << 8 | UInt16(bytes[1])
    }

    /// Writes a big-endian 16-bit register.
    public func writeRegister16(address: UInt8, register: UInt8, value: UInt16) throws(I2CError) {
        try write(address: address, [register, UInt8(value >> 8), UInt8(value & 0xFF)])
    }
}

/// An I2C failure, typed so that "no such bus", "no chip at that address" and "permission denied" read differently.
public struct I2CError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The adapter device does not exist (i2c-dev not loaded, wrong bus number, I2C not enabled).
        case busMissing
        case permissionDenied
        /// The path exists but is not an I2C adapter.
        case notAnAdapter
        /// No device acknowledged the address.
        case noAcknowledge
        /// A chip answers, but a register no longer holds what set-up wrote (a power cycle reset it).
        case lostSetUp
        case io
    }

    public var kind: Kind
    public var path: String
    public var address: UInt8?
    public var message: String

    public init(kind: Kind, path: String, address: UInt8? = nil, message: String) {
        self.kind = kind
        self.path = path
        self.address = address
        self.message = message
    }

    public var description: String {
        let at = address.map { " at 0x" + String($0, radix: 16, uppercase: true) } ?? ""
        return "\(path)\(at): \(message)"
    }
}
