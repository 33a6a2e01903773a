import DalyProtocol
import DeviceKit
import LinuxHardware
import Simulator
import Testing

/// The simulated BMS's wire timing: replies take their 9600 8N1 byte times after the reply latency, and reach the
/// reader in UART-FIFO-sized chunks (each readable once its last byte has crossed), not one wake-up per byte.
@Suite("Simulated BMS wire")
struct SimulatedBMSWireTests {
    @Test("a 13-byte reply is readable in one piece, no sooner than latency + 13 byte times after the request")
    func replyArrivesWholeAfterItsWireTime() async throws {
        let harness = try SimulatedBMSHarness(simulator: .init(speed: 1))
        let port = try TermiosSerialPort(path: harness.bms.pty.slavePath)
        let box = UncheckedBox(port)
        let (elapsed, chunks) = try await harness.run { _, _ -> (Duration, [[UInt8]]) in
            let request = DalyRequest.read(.packMeasurements)
            let sent = ContinuousClock.now
            try box.value.write(request.bytes)
            var chunks: [[UInt8]] = []
            while chunks.joined().count < 13 {
                let bytes = try box.value.read(upTo: 64, deadline: sent + .seconds(2))
                if bytes.isEmpty { break }
                chunks.append(bytes)
            }
            return (sent.duration(to: .now), chunks)
        }
        let config = SimulatedDalyBMSConfiguration(speed: 1)
        // Request and reply both cross the wire: 26 byte times, plus the unit's latency.
        #expect(elapsed >= config.replyLatency + config.byteTime * 26)
        #expect(chunks.map(\.count) == [13], "the reply came in pieces \(chunks.map(\.count))")
    }
}
