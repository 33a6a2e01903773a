import DalyProtocol
import DeviceKit

/// Where the Daly BMS is and how to talk to it.
public struct BMSSettings: ConfigSection, Equatable, Sendable {
    public var port = "/dev/ttyUSB0"
    /// "0x40" (default) or "0x80".
    public var address = "0x40"
    /// Board number on a shared RS485 bus (1...16, set in Daly's PC tool); 1 for a BMS on its own UART.
    public var board = 1
    public var timeoutMilliseconds = 500
    public var attempts = 3
    public var invertCurrent = false

    public init() {}

    public static var keys: [ConfigKey<Self>] { [
        .key("port", \.port), .key("address", \.address), .key("board", \.board), .key("attempts", \.attempts),
        .key("timeout_ms", \.timeoutMilliseconds), .key("invert_current", \.invertCurrent),
    ] }

    public func validate() throws {
        guard let hostAddress else { throw ConfigurationError(key: "bms.address", message: "must be 0x40 or 0x80") }
        do {
            _ = try DalyBusAddress(host: hostAddress, board: board)
        } catch {
            throw ConfigurationError(key: "bms.board", message: "\(error)")
        }
        guard (10...10_000).contains(timeoutMilliseconds) else {
            throw ConfigurationError(key: "bms.timeout_ms", message: "must be 10...10000")
        }
        guard (1...10).contains(attempts) else { throw ConfigurationError(key: "bms.attempts", message: "must be 1...10") }
    }

    public var hostAddress: DalyHostAddress? { DalyHostAddress(parsing: address) }

    /// The board and host address family, as DalyClientConfiguration takes them (nil if the address is invalid).
    public var busAddress: DalyBusAddress? { hostAddress.flatMap { try? DalyBusAddress(host: $0, board: board) } }
}

/// The INA226 shunt monitor (juepi §1.3, §1.7).
public struct ShuntSettings: ConfigSection, Equatable, Sendable {
    public var i2c = "/dev/i2c-1"
    public var address = 0x40
    public var shuntOhms = 0.002
    public var maxCurrent = 5.0
    public var minCurrent = 0.005
    public var invert = false

    public init() {}

    public static var keys: [ConfigKey<Self>] { [
        .key("i2c", \.i2c), .key("address", \.address), .key("invert", \.invert), .key("shunt_ohms", \.shuntOhms),
        .key("max_current_a", \.maxCurrent), .key("min_current_a", \.minCurrent),
    ] }

    public func validate() throws {
        guard (0x03...0x77).contains(address) else { throw ConfigurationError(key: "shunt.address", message: "must be 0x03...0x77") }
        guard shuntOhms > 0 else { throw ConfigurationError(key: "shunt.shunt_ohms", message: "must be positive") }
        guard maxCurrent > 0 else { throw ConfigurationError(key: "shunt.max_current_a", message: "must be positive") }
    }

    public var driverConfiguration: INA226Configuration {
        var c = INA226Configuration()
        c.address = UInt8(address)
        c.shuntOhms = shuntOhms
        c.maximumCurrent = maxCurrent
        c.minimumCurrent = minCurrent
        c.invertCurrent = invert
        return c
    }
}

/// The SSD1306 OLED and the GPIO lines of the relays and the display switch (juepi §1.2).
public struct PanelSettings: ConfigSection, Equatable, Sendable {
    public var i2c = "/dev/i2c-1"
    public var oledAddress = 0x3C
    public var oledHeight = 32
    /// DISPLAY_REFRESH_INTERVAL: seconds per page.
    public var pageSeconds = 5
    public var gpioChip = "/dev/gpiochip0"
    public var loadLine: UInt32 = 5
    public var balancerLine: UInt32 = 3
    public var displaySwitchLine: UInt32 = 7

    public init() {}

    public static var keys: [ConfigKey<Self>] { [
        .key("i2c", \.i2c), .key("oled_address", \.oledAddress), .key("oled_height", \.oledHeight),
        .key("page_s", \.pageSeconds), .key("gpio_chip", \.gpioChip), .key("load_line", \.loadLine),
        .key("balancer_line", \.balancerLine), .key("display_switch_line", \.displaySwitchLine),
    ] }

    public func validate() throws {
        guard oledHeight == 32 || oledHeight == 64 else {
            throw ConfigurationError(key: "panel.oled_height", message: "must be 32 or 64")
        }
        guard pageSeconds >= 1 else { throw ConfigurationError(key: "panel.page_s", message: "must be at least 1") }
        guard Set([loadLine, balancerLine, displaySwitchLine]).count == 3 else {
            throw ConfigurationError(key: "panel.load_line", message: "the three GPIO lines must differ")
        }
    }

    public var relayLines: RelayBoardLines {
        RelayBoardLines(load: loadLine, balancer: balancerLine, displaySwitch: displaySwitchLine)
    }
}
