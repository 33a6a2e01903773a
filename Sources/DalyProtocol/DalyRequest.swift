/// Builds the 13-byte requests a host sends (protocol §2.3 and §2.6): reads carry eight zero bytes, writes carry
/// their argument in the data bytes.
public enum DalyRequest {
    /// A read request: `A5 <host> <command> 08 00*8 <checksum>`.
    public static func read(_ command: DalyCommand, from host: DalyHostAddress = .pc) -> DalyFrame {
        read(command, to: DalyBusAddress(host))
    }

    /// A read request for one board on a shared bus: `A5 <0x3F + board> <command> 08 00*8 <checksum>`.
    public static func read(_ command: DalyCommand, to bus: DalyBusAddress) -> DalyFrame {
        DalyFrame(address: bus.requestAddress, command: command)
    }

    /// 0xD9: switch the discharge MOSFET; D0 = 1 on, 0 off.
    public static func setDischargeMOS(_ on: Bool, from host: DalyHostAddress = .pc) -> DalyFrame {
        setDischargeMOS(on, to: DalyBusAddress(host))
    }

    /// 0xD9 for one board on a shared bus.
    public static func setDischargeMOS(_ on: Bool, to bus: DalyBusAddress) -> DalyFrame {
        switchFrame(.setDischargeMOS, on: on, address: bus.requestAddress)
    }

    /// 0xDA: switch the charge MOSFET; D0 = 1 on, 0 off.
    public static func setChargeMOS(_ on: Bool, from host: DalyHostAddress = .pc) -> DalyFrame {
        setChargeMOS(on, to: DalyBusAddress(host))
    }

    /// 0xDA for one board on a shared bus.
    public static func setChargeMOS(_ on: Bool, to bus: DalyBusAddress) -> DalyFrame {
        switchFrame(.setChargeMOS, on: on, address: bus.requestAddress)
    }

    /// 0x21: set SOC (0...100 %, 0.1 % steps) with the date in D0..D5 (YY MM DD hh mm ss, year − 2000) and
    /// SOC × 10 big-endian in D6..D7, the layout of maland16 #19 and dbus-serialbattery.
    public static func setSOC(
        percent: Double, date: DalyDateTime = .zero, from host: DalyHostAddress = .pc
    ) -> DalyFrame {
        setSOC(percent: percent, date: date, to: DalyBusAddress(host))
    }

    /// 0x21 for one board on a shared bus.
    public static func setSOC(percent: Double, date: DalyDateTime = .zero, to bus: DalyBusAddress) -> DalyFrame {
        let permille = UInt16((min(max(percent, 0), 100) * 10).rounded())
        return DalyFrame(address: bus.requestAddress, command: .setSOC, data: date.bytes + permille.bigEndianBytes)
    }

    /// 0x00: BMS reset/restart.
    public static func reset(from host: DalyHostAddress = .pc) -> DalyFrame {
        reset(to: DalyBusAddress(host))
    }

    /// 0x00 for one board on a shared bus.
    public static func reset(to bus: DalyBusAddress) -> DalyFrame {
        DalyFrame(address: bus.requestAddress, command: .reset)
    }

    private static func switchFrame(_ command: DalyCommand, on: Bool, address: UInt8) -> DalyFrame {
        var data = [UInt8](repeating: 0, count: 8)
        data[0] = on ? 1 : 0
        return DalyFrame(address: address, command: command, data: data)
    }
}

/// The six date bytes of 0x21 and 0x61: YY MM DD hh mm ss with the year counted from 2000.
public struct DalyDateTime: Hashable, Sendable, Codable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    /// All zero: several units accept a SOC write with no date (maland16 #19).
    public static let zero = DalyDateTime(year: 2000, month: 0, day: 0, hour: 0, minute: 0, second: 0)

    public var bytes: [UInt8] {
        [year - 2000, month, day, hour, minute, second].map { UInt8(clamping: $0) }
    }

    public init(bytes: ArraySlice<UInt8>) {
        let b = Array(bytes)
        self.init(year: 2000 + Int(b[0]), month: Int(b[1]), day: Int(b[2]), hour: Int(b[3]), minute: Int(b[4]),
                  second: Int(b[5]))
    }
}
