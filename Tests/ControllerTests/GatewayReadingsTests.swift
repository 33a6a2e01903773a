@testable import Controller
import DeviceKit
import Testing

/// The Controller's own copies of what the drivers measure, which the snapshot carries to HTTP and MQTT: they must
/// say exactly what the driver values said, so /display.png and /metrics are unchanged by the indirection.
@Suite("Gateway readings in the snapshot")
struct GatewayReadingsTests {
    @Test("the display image draws the same PNG as the framebuffer it was taken from")
    func displayImage() {
        var framebuffer = MonochromeFramebuffer(width: 128, height: 32)
        for (x, y) in [(0, 0), (5, 9), (127, 31), (64, 17)] { framebuffer[x, y] = true }
        let image = DisplayImage(framebuffer)
        #expect(image.png(scale: 2) == PNGEncoder.encode(framebuffer, scale: 2))
        #expect(image.png(scale: 1) != DisplayImage().png(scale: 1))
    }

    @Test("the BMS link's counters carry every failure kind, zeros included, in the client's order")
    func statistics() {
        var statistics = DalyClientStatistics()
        statistics.polls = 7
        statistics.failures[.checksum] = 3
        let link = BMSLinkStatistics(statistics)
        #expect(link.polls == 7)
        #expect(link.failures.map(\.kind) == DalyClientError.Kind.allCases.map(\.rawValue))
        #expect(link.failures.first { $0.kind == "checksum" }?.count == 3)
        #expect(link.failures.filter { $0.kind != "checksum" }.allSatisfy { $0.count == 0 })
    }

    @Test("the shunt measurement keeps the driver's values and power")
    func shunt() {
        let measurement = ShuntMeasurement(ShuntReading(voltage: 13.2, current: -2.5))
        #expect(measurement == ShuntMeasurement(voltage: 13.2, current: -2.5))
        #expect(measurement.power == ShuntReading(voltage: 13.2, current: -2.5).power)
    }
}
