import Controller
import Testing

/// Values that would silently switch a safety off are refused with the key named, not accepted by `config check`.
@Suite("Configuration: safety ranges")
struct SafetyRangeConfigTests {
    @Test("a value that defeats a safety names its key", arguments: [
        ("automation:\n  shunt_stale_s: .inf\n", "automation.shunt_stale_s"),
        ("automation:\n  shunt_stale_s: 1e300\n", "automation.shunt_stale_s"),
        ("automation:\n  stale_after_s: .inf\n", "automation.stale_after_s"),
        ("automation:\n  manual_min_dwell_s: 1e308\n", "automation.manual_min_dwell_s"),
        ("automation:\n  relay_min_dwell_s: .inf\n", "automation.relay_min_dwell_s"),
        ("soc_sync:\n  alarm_gap_pct: 1e9\n", "soc_sync.alarm_gap_pct"),
        ("soc_sync:\n  alarm_gap_pct: 0.5\n", "soc_sync.alarm_gap_pct"),
        ("mqtt:\n  json_prefix: ''\n", "mqtt.json_prefix"),
        ("mqtt:\n  json_prefix: '#/'\n", "mqtt.json_prefix"),
        ("mqtt:\n  json_prefix: a/+/\n", "mqtt.json_prefix"),
        ("mqtt:\n  prefix: 'x/#/'\n", "mqtt.prefix"),
    ])
    func refused(yaml: String, key: String) {
        do {
            _ = try GatewayConfiguration.parse(yaml: yaml)
            Issue.record("accepted \(yaml)")
        } catch {
            #expect(error.key == key, "\(error)")
        }
    }

    @Test("sane values at the edges of the ranges are accepted")
    func accepted() throws {
        let yaml = "automation:\n  shunt_stale_s: 3600\n  stale_after_s: 600\n  manual_min_dwell_s: 0\n  relay_min_dwell_s: 86400\n"
            + "soc_sync:\n  alarm_gap_pct: 2\nmqtt:\n  prefix: HB7/UG/BMS/\n  json_prefix: dalygate/\n"
        let configuration = try GatewayConfiguration.parse(yaml: yaml)
        #expect(configuration.automation.shuntStaleAfterSeconds == 3600 && configuration.socSync.alarmGapPercent == 2)
    }
}
