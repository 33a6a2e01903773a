import DalyProtocol
import DeviceKit

/// Where the Daly BMS is and how to talk to it.
public struct BMSSettings: Codable, Equatable, Sendable {
    public var port = "/dev/ttyUSB0"
    /// "0x40" (default) or "0x80".
    public var address = "0x40"
    /// Board number on a shared RS485 bus (1...16, set in Daly's PC tool); 1 for a BMS on its own UART.
    public var board = 1
    public var timeoutMilliseconds = 500
    public var attempts = 3
    public var invertCurrent = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case port, address, board, attempts
        case timeoutMilliseconds = "timeout_ms"
        case invertCurrent = "invert_current"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BMSSettings()
        port = try c.value(.port, or: d.port)
        address = try c.value(.address, or: d.address)
        board = try c.value(.board, or: d.board)
        timeoutMilliseconds = try c.value(.timeoutMilliseconds, or: d.timeoutMilliseconds)
        attempts = try c.value(.attempts, or: d.attempts)
        invertCurrent = try c.value(.invertCurrent, or: d.invertCurrent)
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
public struct ShuntSettings: Codable, Equatable, Sendable {
    public var i2c = "/dev/i2c-1"
    public var address = 0x40
    public var shuntOhms = 0.002
    public var maxCurrent = 5.0
    public var minCurrent = 0.005
    public var invert = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case i2c, address, invert
        case shuntOhms = "shunt_ohms"
        case maxCurrent = "max_current_a"
        case minCurrent = "min_current_a"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ShuntSettings()
        i2c = try c.value(.i2c, or: d.i2c)
        address = try c.value(.address, or: d.address)
        shuntOhms = try c.value(.shuntOhms, or: d.shuntOhms)
        maxCurrent = try c.value(.maxCurrent, or: d.maxCurrent)
        minCurrent = try c.value(.minCurrent, or: d.minCurrent)
        invert = try c.value(.invert, or: d.invert)
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
public struct PanelSettings: Codable, Equatable, Sendable {
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case i2c
        case oledAddress = "oled_address"
        case oledHeight = "oled_height"
        case pageSeconds = "page_s"
        case gpioChip = "gpio_chip"
        case loadLine = "load_line"
        case balancerLine = "balancer_line"
        case displaySwitchLine = "display_switch_line"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PanelSettings()
        i2c = try c.value(.i2c, or: d.i2c)
        oledAddress = try c.value(.oledAddress, or: d.oledAddress)
        oledHeight = try c.value(.oledHeight, or: d.oledHeight)
        pageSeconds = try c.value(.pageSeconds, or: d.pageSeconds)
        gpioChip = try c.value(.gpioChip, or: d.gpioChip)
        loadLine = try c.value(.loadLine, or: d.loadLine)
        balancerLine = try c.value(.balancerLine, or: d.balancerLine)
        displaySwitchLine = try c.value(.displaySwitchLine, or: d.displaySwitchLine)
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
