import DeviceKit
import Synchronization

/// A chip on the simulated I2C bus, answering at register/byte-stream level as the real part does.
public protocol SimulatedI2CDevice: AnyObject, Sendable {
    /// Handles one transaction: the bytes written, then `readCount` bytes to return.
    func transfer(write: [UInt8], readCount: Int) -> [UInt8]
}

/// An I2C adapter whose devices are simulated chips: the drivers run the same code as on /dev/i2c-N, only the
/// lowest byte-moving layer differs. Unpopulated addresses do not acknowledge, like a real bus.
public final class SimulatedI2CBus: I2CBus, Sendable {
    public let path: String
    private let devices: Mutex<[UInt8: any SimulatedI2CDevice]>

    public init(path: String = "sim:i2c", devices: [UInt8: any SimulatedI2CDevice] = [:]) {
        self.path = path
        self.devices = Mutex(devices)
    }

    public func attach(_ device: any SimulatedI2CDevice, at address: UInt8) {
        devices.withLock { $0[address] = device }
    }

    public func detach(at address: UInt8) {
        _ = devices.withLock { $0.removeValue(forKey: address) }
    }

    public func transfer(address: UInt8, write: [UInt8], readCount: Int) throws(I2CError) -> [UInt8] {
        guard let device = devices.withLock({ $0[address] }) else {
            throw I2CError(kind: .noAcknowledge, path: path, address: address, message: "no device acknowledges")
        }
        return device.transfer(write: write, readCount: readCount)
    }
}
