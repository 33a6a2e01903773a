import Controller
import DalyProtocol
import HTTPGateway
import MQTTBridge

/// The bodies of DalyGate's fuzz targets (`make fuzz`), shared with the regression tests that replay every input a
/// fuzzer ever crashed on. Each feeds arbitrary bytes to a parser of untrusted input and checks its promises; a broken
/// promise stops the process, which is what a fuzzer reports.
public enum FuzzTargets {
    /// The Daly frame scanner and every typed decoder: no crash, and no frame whose checksum fails.
    public static func dalyFrames(_ bytes: [UInt8]) {
        var scanner = DalyFrameScanner()
        // Feed in two uneven pieces, as a UART delivers them.
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        for piece in [bytes[..<cut], bytes[cut...]] {
            scanner.append(piece)
            while let frame = scanner.next() {
                let raw = frame.bytes
                precondition(raw.count == 13 && raw[0] == 0xA5 && raw[3] == 0x08, "scanner yielded a malformed frame")
                precondition(DalyFrame.checksum(raw[0..<12]) == raw[12], "scanner yielded a frame whose checksum fails")
                decodeEverything(frame)
            }
        }
    }

    private static func decodeEverything(_ frame: DalyFrame) {
        _ = try? PackMeasurement(frame: frame)
        _ = try? CellVoltageRange(frame: frame)
        _ = try? TemperatureRange(frame: frame)
        _ = try? MosfetStatus(frame: frame)
        if let status = try? StatusInfo(frame: frame) {
            precondition(StatusInfo.cellRange.contains(status.cellCount), "accepted an impossible cell count")
        }
        if let cells = try? CellVoltageFrame(frame: frame) {
            var assembler = MultiFrameAssembler<UInt16>(count: Int(frame.data[7] % 49), perFrame: 3)
            assembler.add(number: cells.number, items: cells.millivolts)
            _ = assembler.result
        }
        _ = try? TemperatureFrame(frame: frame)
        if let balance = try? BalanceState(frame: frame) { _ = balance.balancingCells(cellCount: Int(frame.data[6] % 49)) }
        if let alarms = try? AlarmFlags(frame: frame) { _ = alarms.active.map(AlarmText.sentence) }
        _ = try? DalyTextReply.text(from: [frame], command: frame.command ?? .batteryCode)
    }

    /// The HTTP write-body parser: no crash; whatever it accepts is in range.
    public static func httpCommand(_ bytes: [UInt8]) {
        for output in Output.allCases {
            if case .setMode(_, _, let hold)? = try? CommandParsing.output(output, body: bytes), let hold {
                precondition(hold >= 1 && hold <= 31_536_000, "accepted a hold time out of range")
            }
        }
        if case .setBMSSOC(let percent)? = try? CommandParsing.soc(body: bytes) {
            precondition((0...100).contains(percent), "accepted a SOC out of range")
        }
    }

    /// The HTTP request head (method, path, query, every header) through the whole API: see ``RequestHeadTarget``.
    public static func httpRequestHead(_ bytes: [UInt8]) {
        RequestHeadTarget.run(bytes)
    }

    /// The MQTT command parsers (juepi's topics and the JSON ones): no crash; accepted values are in range. The first
    /// byte picks a topic, the rest is the payload.
    public static func mqttPayload(_ bytes: [UInt8]) {
        let juepi = JuepiTopics(prefix: "dalygate/")
        let json = JSONTopics(prefix: "dalygate/")
        let topics = juepi.commandTopics + json.commandTopics + ["dalygate/Ctrl_", "other/topic"]
        let topic = topics[Int(bytes.first ?? 0) % topics.count]
        let payload = Array(bytes.dropFirst())
        _ = juepi.parse(topic: topic, payload: payload)
        if case .setBMSSOC(let percent)? = json.parse(topic: topic, payload: payload) {
            precondition((0...100).contains(percent), "accepted a SOC out of range")
        }
    }
}
