import DeviceKit

/// The shunt's last measurement as the gateway reports it: the Controller's own value, so HTTP and MQTT read it
/// without knowing the INA226 driver.
public struct ShuntMeasurement: Sendable, Equatable {
    public var voltage: Double, current: Double
    public init(voltage: Double, current: Double) { (self.voltage, self.current) = (voltage, current) }

    init(_ reading: ShuntReading) { self.init(voltage: reading.voltage, current: reading.current) }

    /// V × I, positive while charging.
    public var power: Double { voltage * current }
}

/// What the OLED shows, pixel for pixel (SSD1306 page layout), so /display.png is drawn without the display driver.
public struct DisplayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height / 8` pages of `width` bytes, bit n of a byte is row n of its page.
    public let bytes: [UInt8]

    /// A blank image of the default OLED's size.
    public init(width: Int = 128, height: Int = 32) {
        self.init(MonochromeFramebuffer(width: width, height: height))
    }

    init(_ framebuffer: MonochromeFramebuffer) {
        width = framebuffer.width
        height = framebuffer.height
        bytes = framebuffer.bytes
    }

    /// The image as a 1-bit PNG, each pixel `scale` × `scale`.
    public func png(scale: Int) -> [UInt8] {
        var framebuffer = MonochromeFramebuffer(width: width, height: height)
        for page in 0..<framebuffer.pages {
            for column in 0..<width { framebuffer.setByte(page: page, column: column, bytes[page * width + column]) }
        }
        return PNGEncoder.encode(framebuffer, scale: scale)
    }
}

/// The BMS link's counters, summed over the bank, for /metrics: requests, retries and failed attempts by kind.
public struct BMSLinkStatistics: Sendable, Equatable {
    public var polls: Int
    public var failedPolls: Int
    public var requests: Int
    public var retries: Int
    /// Failed attempts for every kind the BMS client knows (`timeout`, `checksum`, …), in its order, zeros included.
    public var failures: [Failures]

    /// One kind of failed attempt and how often it happened.
    public struct Failures: Sendable, Equatable {
        public var kind: String
        public var count: Int
    }

    init(_ statistics: DalyClientStatistics) {
        polls = statistics.polls
        failedPolls = statistics.failedPolls
        requests = statistics.requests
        retries = statistics.retries
        failures = DalyClientError.Kind.allCases.map { Failures(kind: $0.rawValue, count: statistics.count($0)) }
    }
}
