import CLinuxHardware
import DeviceKit
import Glibc
import Workers

/// A GPIO chip at /dev/gpiochipN through the kernel's v2 character-device uAPI (no sysfs, no libgpiod).
public final class LinuxGPIOChip: GPIOChip {
    private let node: DeviceNode
    public var path: String { node.path }
    private var fd: Int32 { node.fd }

    public init(path: String) throws(GPIOError) {
        node = try DeviceNode(opening: path, kinds: OpenFailureKinds(missing: .chipMissing, permissionDenied: .permissionDenied,
                                                             wrongDevice: .notAChip, other: .io),
                              missing: "no such GPIO chip: check the chip number (gpiodetect)", group: "gpio",
                              identify: { Self.info(of: $0) == nil ? "not a GPIO chip (\(errnoMessage()))" : nil }) {
            GPIOError(kind: $0, path: path, message: $1)
        }
    }

    public func info() throws(GPIOError) -> GPIOChipInfo {
        guard let info = Self.info(of: fd) else { throw GPIOError(kind: .io, path: path, message: errnoMessage()) }
        return info
    }

    /// The chip's name, label and line count (GPIO_GET_CHIPINFO_IOCTL); nil with errno set if the node is no chip.
    private static func info(of fd: Int32) -> GPIOChipInfo? {
        var name = [CChar](repeating: 0, count: 32), label = [CChar](repeating: 0, count: 32)
        var lines: UInt32 = 0
        guard gw_gpio_chip_info(fd, &name, name.count, &label, label.count, &lines) == 0 else { return nil }
        return GPIOChipInfo(name: String(nulTerminated: name), label: String(nulTerminated: label), lines: lines)
    }

    public func request(_ lines: [GPIOLineConfiguration], consumer: String) throws(GPIOError) -> any GPIOLineRequest {
        var outputMask: UInt64 = 0, initial: UInt64 = 0, pullDown: UInt64 = 0
        for (index, line) in lines.enumerated() {
            let bit = UInt64(1) << UInt64(index)
            switch line.direction {
            case .output(let value):
                outputMask |= bit
                if value { initial |= bit }
            case .input(let pulled):
                if pulled { pullDown |= bit }
            }
        }
        let offsets = lines.map(\.offset)
        let requestFD = gw_gpio_request_lines(fd, offsets, UInt32(offsets.count), outputMask, initial, pullDown, consumer)
        guard requestFD >= 0 else {
            let code = errno
            let kind: GPIOError.Kind = code == EBUSY ? .lineBusy : code == EINVAL ? .lineInvalid : .io
            throw GPIOError(kind: kind, path: path, message: "cannot request lines \(offsets): \(errnoMessage(code))")
        }
        return LinuxGPIOLineRequest(fd: requestFD, offsets: offsets, path: path)
    }
}

/// Lines held through a v2 line-request descriptor; closing it releases them.
final class LinuxGPIOLineRequest: GPIOLineRequest {
    private let fd: Int32
    private let offsets: [UInt32]
    private let path: String

    init(fd: Int32, offsets: [UInt32], path: String) {
        self.fd = fd
        self.offsets = offsets
        self.path = path
    }

    deinit { close(fd) }

    private func mask(_ requested: [UInt32]) throws(GPIOError) -> UInt64 {
        var mask: UInt64 = 0
        for offset in requested {
            guard let index = offsets.firstIndex(of: offset) else {
                throw GPIOError(kind: .lineInvalid, path: path, message: "line \(offset) was not requested")
            }
            mask |= UInt64(1) << UInt64(index)
        }
        return mask
    }

    func values(_ requested: [UInt32]) throws(GPIOError) -> [UInt32: Bool] {
        var bits: UInt64 = 0
        guard gw_gpio_get_values(fd, try mask(requested), &bits) == 0 else {
            throw GPIOError(kind: .io, path: path, message: "reading lines failed: \(errnoMessage())")
        }
        return Dictionary(uniqueKeysWithValues: requested.map { offset in
            (offset, bits & (UInt64(1) << UInt64(offsets.firstIndex(of: offset)!)) != 0)
        })
    }

    func set(_ values: [UInt32: Bool]) throws(GPIOError) {
        var bits: UInt64 = 0
        for (offset, on) in values where on { bits |= try mask([offset]) }
        guard gw_gpio_set_values(fd, try mask(Array(values.keys)), bits) == 0 else {
            throw GPIOError(kind: .io, path: path, message: "driving lines failed: \(errnoMessage())")
        }
    }
}
