import CLinuxHardware
import DeviceKit
import Glibc
import Workers

/// An I2C adapter at /dev/i2c-N (the i2c-dev driver): combined write/read transactions through ioctl(I2C_RDWR).
public final class LinuxI2CBus: I2CBus {
    private let node: DeviceNode
    public var path: String { node.path }
    private var fd: Int32 { node.fd }

    /// Opens the adapter and checks that it is one (ioctl I2C_FUNCS).
    public init(path: String) throws(I2CError) {
        node = try DeviceNode(opening: path, kinds: OpenFailureKinds(missing: .busMissing, permissionDenied: .permissionDenied,
                                                             wrongDevice: .notAnAdapter, other: .io),
                              missing: "no such I2C bus: enable I2C (raspi-config) and load i2c-dev, or fix the bus number",
                              group: "i2c", identify: { gw_i2c_functionality($0) >= 0 ? nil : "not an I2C adapter (\(Errno(errno)))" }) {
            I2CError(kind: $0, path: path, message: $1)
        }
    }

    public func transfer(address: UInt8, write: [UInt8], readCount: Int) throws(I2CError) -> [UInt8] {
        var input = [UInt8](repeating: 0, count: readCount)
        let result = write.withUnsafeBufferPointer { output in
            input.withUnsafeMutableBufferPointer { input in
                gw_i2c_transfer(fd, UInt16(address), output.baseAddress, UInt16(output.count), input.baseAddress,
                                UInt16(readCount))
            }
        }
        guard result == 0 else {
            let code = errno
            if code == ENXIO || code == EREMOTEIO || code == EIO {
                throw I2CError(kind: .noAcknowledge, path: path, address: address,
                               message: "no device acknowledges: check wiring, power and the address")
            }
            throw I2CError(kind: .io, path: path, address: address, message: "transfer failed: \(errnoMessage(code))")
        }
        return input
    }
}
