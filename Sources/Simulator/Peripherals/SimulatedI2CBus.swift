import Dispatch
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
    /// Addresses whose chip holds the bus (the `hang` fault), and how many transfers are blocked on them.
    private let hung = Mutex<(addresses: Set<UInt8>, waiting: Int)>(([], 0))
    private let released = DispatchSemaphore(value: 0)

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

    /// From now on, every transfer to `address` blocks until ``releaseAll()``.
    public func hang(at address: UInt8) {
        _ = hung.withLock { $0.addresses.insert(address) }
    }

    /// Lets every blocked transfer go (it then fails: no acknowledge), so the simulator can shut down.
    public func releaseAll() {
        let waiting = hung.withLock { h -> Int in
            h.addresses.removeAll()
            defer { h.waiting = 0 }
            return h.waiting
        }
        for _ in 0..<waiting { released.signal() }
    }

    public func transfer(address: UInt8, write: [UInt8], readCount: Int) throws(I2CError) -> [UInt8] {
        let blocks = hung.withLock { h -> Bool in
            guard h.addresses.contains(address) else { return false }
            h.waiting += 1
            return true
        }
        if blocks {
            released.wait()
            throw I2CError(kind: .noAcknowledge, path: path, address: address, message: "the bus was held (simulated hang)")
        }
        guard let device = devices.withLock({ $0[address] }) else {
            throw I2CError(kind: .noAcknowledge, path: path, address: address, message: "no device acknowledges")
        }
        return device.transfer(write: write, readCount: readCount)
    }
}
