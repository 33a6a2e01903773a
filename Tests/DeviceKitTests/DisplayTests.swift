import DeviceKit
import Foundation
import Simulator
import Testing

@Suite("SSD1306 display and juepi's pages")
struct DisplayTests {
    static let status: DisplayStatus = {
        var s = DisplayStatus()
        s.httpOK = true
        s.mqttOK = false
        s.bmsOK = true
        s.inaOK = true
        s.dalySOC = 77.1
        s.dalyVoltage = 13.2
        s.dalyCurrent = -1.5
        s.dalyCellDifferenceV = 0.012
        s.calculatedSOC = 55.04
        s.inaVoltage = 13.257
        s.inaCurrent = 1.234
        s.inaPower = 16.36
        s.chargeFET = true
        s.dischargeFET = false
        s.load = true
        s.balancer = true
        s.uptimeSeconds = 86399
        s.alarms = ["levelOneCellVoltageTooHigh", "levelOneChargeTempTooHigh", "failureOfRealtimeClockModule"]
        return s
    }()

    @Test("the pages read as juepi's, numbers formatted like Arduino's String(float, n)")
    func pageText() {
        let s = Self.status
        #expect(DisplayPages.lines(page: 0, status: s) == ["HTTP: OK", "MQTT: FAIL", "BMS:  OK", "INA:  OK"])
        #expect(DisplayPages.lines(page: 1, status: s)
                == ["Daly SoC: 77.1", "Daly Vbat: 13.20", "Daly Ibat: -1.50", "Daly Vdiff: 0.012"])
        #expect(DisplayPages.lines(page: 2, status: s)
                == ["Calc SoC: 55.0", "INA Vbat: 13.26", "INA Ibat: 1.23", "INA PWR:  16.4"])
        #expect(DisplayPages.lines(page: 3, status: s)
                == ["Charge FET: on", "Disch FET:  off", "SSR1:       on", "Uptime:     86399"])
        #expect(DisplayPages.lines(page: 4, status: s)
                == ["SSR2 (bal): on", "Alarms: 3", "Cell V high L1", "Chg temp high L1"])
        for page in 0..<DisplayPages.count {
            #expect(DisplayPages.lines(page: page, status: s).allSatisfy { $0.count <= 21 })
        }
    }

    @Test("values not known yet show as --")
    func unknownValues() {
        #expect(DisplayPages.lines(page: 1, status: DisplayStatus())[0] == "Daly SoC: --")
        #expect(DisplayPages.lines(page: 3, status: DisplayStatus())[0] == "Charge FET: --")
        #expect(DisplayPages.fixed(-0.004, 2) == "0.00")
        #expect(DisplayPages.fixed(2.5, 0) == "2")
    }

    @Test("the init sequence is the datasheet's for a 128x32 panel")
    func initSequence() {
        let oled = SSD1306(bus: SimulatedI2CBus(), height: 32)
        #expect(oled.initSequence == [0xAE, 0xD5, 0x80, 0xA8, 0x1F, 0xD3, 0x00, 0x40, 0x8D, 0x14, 0x20, 0x00, 0xA1,
                                      0xC8, 0xDA, 0x02, 0x81, 0x8F, 0xD9, 0xF1, 0xDB, 0x40, 0xA4, 0xA6, 0x2E, 0xAF])
        #expect(SSD1306(bus: SimulatedI2CBus(), height: 64).initSequence[4] == 0x3F)
    }

    @Test("after initialise the simulated panel is on, charge pump enabled, and blank")
    func initialise() throws {
        let hardware = SimulatedPeripherals()
        try SSD1306(bus: hardware.i2c).initialize()
        #expect(hardware.oled.isOn)
        #expect(hardware.oled.contrast == 0x8F)
        #expect(hardware.oled.visible == MonochromeFramebuffer())
    }

    @Test("what the driver sends is what the panel shows, on 128x32 and 128x64", arguments: [32, 64])
    func roundTrip(height: Int) throws {
        let panel = SimulatedSSD1306(height: height)
        let oled = SSD1306(bus: SimulatedI2CBus(devices: [0x3C: panel]), height: height)
        try oled.initialize()
        var frame = MonochromeFramebuffer(width: 128, height: height)
        frame.drawLines(DisplayPages.lines(page: 1, status: Self.status))
        frame[127, height - 1] = true
        try oled.show(frame)
        #expect(panel.visible == frame)
        try oled.setPower(false)
        #expect(panel.visible == MonochromeFramebuffer(width: 128, height: height))
    }

    @Test("page addressing mode with single-command control bytes also lands in the right place")
    func pageAddressingMode() {
        let panel = SimulatedSSD1306()
        _ = panel.transfer(write: [0x00, 0xA1, 0xC8, 0x8D, 0x14, 0xAF], readCount: 0)
        // Co=1 control bytes: page 2, column 0x12, then data 0xFF.
        _ = panel.transfer(write: [0x80, 0xB2, 0x80, 0x02, 0x80, 0x11, 0x40, 0xFF], readCount: 0)
        #expect(panel.visible[0x12, 16] && panel.visible[0x12, 23] && !panel.visible[0x13, 16])
    }

    @Test("glyphs are drawn from their rows: 'A' and '1'")
    func glyphs() {
        var frame = MonochromeFramebuffer(width: 12, height: 8)
        frame.draw("A1", x: 0, y: 0)
        #expect(frame.asciiArt == [
            ".###....#...", "#...#..##...", "#...#...#...", "#####...#...", "#...#...#...", "#...#...#...",
            "#...#..###..", "............",
        ])
    }

    @Test("each page renders pixel for pixel as its golden bitmap", arguments: 0..<DisplayPages.count)
    func goldenPages(page: Int) throws {
        let panel = SimulatedSSD1306()
        let oled = SSD1306(bus: SimulatedI2CBus(devices: [0x3C: panel]))
        try oled.initialize()
        var frame = MonochromeFramebuffer()
        frame.drawLines(DisplayPages.lines(page: page, status: Self.status))
        try oled.show(frame)
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/oled-page-\(page).txt")
        let actual = panel.visible.asciiArt
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try (actual.joined(separator: "\n") + "\n").write(to: golden, atomically: true, encoding: .utf8)
            try Data(PNGEncoder.encode(panel.visible, scale: 4)).write(to: golden.deletingPathExtension().appendingPathExtension("png"))
        }
        let expected = try String(contentsOf: golden, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(expected.count == 32)
        for (row, (want, got)) in zip(expected, actual).enumerated() { #expect(want == got, "row \(row)") }
    }

    @Test("PNG: signature, IHDR for 1-bit grayscale, and checksums that decoders verify")
    func png() {
        var frame = MonochromeFramebuffer()
        frame.drawLines(["PNG"])
        let png = PNGEncoder.encode(frame)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(png[12..<16]) == Array("IHDR".utf8))
        #expect(Array(png[16..<26]) == [0, 0, 0, 128, 0, 0, 0, 32, 1, 0])
        #expect(Array(png.suffix(12)) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
        #expect(PNGEncoder.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(PNGEncoder.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test("rotation: a page every 5 ticks while on, one clear when switched off")
    func rotation() {
        var rotation = DisplayRotation(interval: 5)
        #expect(rotation.tick(enabled: false) == .nothing)
        #expect(rotation.tick(enabled: true) == .show(page: 0))
        for _ in 0..<4 { #expect(rotation.tick(enabled: true) == .show(page: 0)) }
        #expect(rotation.tick(enabled: true) == .show(page: 1))
        #expect(rotation.tick(enabled: false) == .clear)
        #expect(rotation.tick(enabled: false) == .nothing)
        #expect(rotation.tick(enabled: true) == .show(page: 1))
        for _ in 0..<(5 * 4) { _ = rotation.tick(enabled: true) }
        #expect(rotation.page == 0)
    }
}
