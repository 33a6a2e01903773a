import DeviceKit
import Synchronization

/// A GPIO chip whose outputs can be observed and whose inputs can be set, with the kernel's rules: a line can be
/// requested by one consumer at a time, offsets must exist, outputs take their initial value at request, an input
/// with pull-down reads low until driven.
public final class SimulatedGPIOChip: GPIOChip, Sendable {
    public let path: String
    public let lineCount: UInt32

    struct Line {
        var consumer: String?
        var isOutput = false
        var level = false
        /// Level applied from outside (a switch); nil leaves the line to its bias.
        var externalLevel: Bool?
        /// An injected fault (``SimulatedLineFault``).
        var fault: SimulatedLineFault?
    }

    private let lines: Mutex<[UInt32: Line]>

    public init(path: String = "sim:gpiochip0", lineCount: UInt32 = 32) {
        self.path = path
        self.lineCount = lineCount
        lines = Mutex([:])
    }

    public func info() throws(GPIOError) -> GPIOChipInfo {
        GPIOChipInfo(name: "gpiochip0", label: "dalygate-sim", lines: lineCount)
    }

    /// The level an output drives (false for lines nobody drives).
    public func outputLevel(_ offset: UInt32) -> Bool {
        lines.withLock { $0[offset].map { $0.isOutput && $0.level } ?? false }
    }

    /// Who holds a line.
    public func consumer(of offset: UInt32) -> String? { lines.withLock { $0[offset]?.consumer } }

    /// Drives an input from outside, like a switch wired to it.
    public func setInput(_ offset: UInt32, _ level: Bool) {
        lines.withLock { $0[offset, default: Line()].externalLevel = level }
    }

    /// Injects a fault into a line (nil clears it).
    public func setFault(_ offset: UInt32, _ fault: SimulatedLineFault?) {
        lines.withLock { $0[offset, default: Line()].fault = fault }
    }

    public func request(_ configs: [GPIOLineConfiguration], consumer: String) throws(GPIOError) -> any GPIOLineRequest {
        try lines.withLock { (table: inout [UInt32: Line]) throws(GPIOError) -> SimulatedGPIOLineRequest in
            for config in configs {
                guard config.offset < lineCount else {
                    throw GPIOError(kind: .lineInvalid, path: path, message: "line \(config.offset) does not exist"
                                    + " (the chip has \(lineCount))")
                }
                if table[config.offset]?.fault == .dead {
                    throw GPIOError(kind: .io, path: path, message: "line \(config.offset) does not answer (simulated dead line)")
                }
                if let holder = table[config.offset]?.consumer {
                    throw GPIOError(kind: .lineBusy, path: path, message: "line \(config.offset) is in use by \(holder)")
                }
            }
            for config in configs {
                var line = table[config.offset, default: Line()]
                line.consumer = consumer
                switch config.direction {
                case .output(let initial):
                    line.isOutput = true
                    line.level = initial
                case .input:
                    line.isOutput = false
                    line.level = false
                }
                table[config.offset] = line
            }
            return SimulatedGPIOLineRequest(chip: self, offsets: configs.map(\.offset))
        }
    }

    fileprivate func values(_ offsets: [UInt32]) throws(GPIOError) -> [UInt32: Bool] {
        try lines.withLock { (table: inout [UInt32: Line]) throws(GPIOError) -> [UInt32: Bool] in
            for offset in offsets where table[offset]?.fault == .dead {
                throw GPIOError(kind: .io, path: path, message: "line \(offset) does not answer (simulated dead line)")
            }
            return Dictionary(uniqueKeysWithValues: offsets.map { offset in
                let line = table[offset] ?? Line()
                return (offset, line.isOutput ? line.level : (line.externalLevel ?? false))
            })
        }
    }

    fileprivate func set(_ values: [UInt32: Bool]) throws(GPIOError) {
        try lines.withLock { (table: inout [UInt32: Line]) throws(GPIOError) in
            for offset in values.keys where table[offset]?.isOutput != true {
                throw GPIOError(kind: .io, path: path, message: "line \(offset) is not an output")
            }
            for offset in values.keys {
                switch table[offset]?.fault {
                case .dead?: throw GPIOError(kind: .io, path: path, message: "line \(offset) does not answer (simulated dead line)")
                case .stuck?: throw GPIOError(kind: .io, path: path, message: "line \(offset) is stuck: the write did not take (simulated)")
                case nil: break
                }
            }
            for (offset, level) in values { table[offset]?.level = level }
        }
    }

    fileprivate func release(_ offsets: [UInt32]) {
        lines.withLock { table in
            for offset in offsets {
                table[offset]?.consumer = nil
                table[offset]?.isOutput = false
            }
        }
    }
}

/// Lines of the simulated chip held by one consumer; released when this object goes away, like closing the fd.
final class SimulatedGPIOLineRequest: GPIOLineRequest {
    private let chip: SimulatedGPIOChip
    private let offsets: [UInt32]

    init(chip: SimulatedGPIOChip, offsets: [UInt32]) {
        self.chip = chip
        self.offsets = offsets
    }

    deinit { chip.release(offsets) }

    func values(_ requested: [UInt32]) throws(GPIOError) -> [UInt32: Bool] {
        for offset in requested where !offsets.contains(offset) {
            throw GPIOError(kind: .lineInvalid, path: chip.path, message: "line \(offset) was not requested")
        }
        return try chip.values(requested)
    }

    func set(_ values: [UInt32: Bool]) throws(GPIOError) {
        for offset in values.keys where !offsets.contains(offset) {
            throw GPIOError(kind: .lineInvalid, path: chip.path, message: "line \(offset) was not requested")
        }
        try chip.set(values)
    }
}

/// A fault of one simulated GPIO line.
public enum SimulatedLineFault: Sendable, Equatable {
    /// Requests, reads and writes fail.
    case dead
    /// Writes fail; reads return the level it had.
    case stuck
}
