import Controller
import DalyProtocol
import Testing

@Suite("Bank configuration: packs and the single-pack bms")
struct PackSettingsTests {
    @Test("no packs: the top-level bms is a bank of one pack, board included")
    func singlePackBank() throws {
        let config = try GatewayConfiguration.parse(yaml: """
            bms:
              port: /dev/ttyAMA0
              board: 3
            """)
        #expect(config.packs.isEmpty)
        #expect(config.bank.count == 1)
        #expect(config.bank[0].id == "pack1" && config.bank[0].name == "Pack 1" && config.bank[0].capacityAh == nil)
        #expect(config.bank[0].bms == config.bms)
        #expect(config.bms.busAddress == (try DalyBusAddress(board: 3)))
        #expect(try GatewayConfiguration.parse(yaml: "").bank.map(\.bms) == [BMSSettings()])
    }

    @Test("a packs list: three boards on one bus and a pack on its own UART")
    func packsList() throws {
        let config = try GatewayConfiguration.parse(yaml: """
            packs:
              - id: rack-a
                name: Rack A
                bms: {port: /dev/ttyUSB0, board: 1}
                capacity_ah: 280
              - id: rack-b
                bms: {port: /dev/ttyUSB0, board: 2, timeout_ms: 300}
                capacity_ah: 280
              - id: rack_c
                bms: {port: /dev/ttyUSB0, board: 3}
              - id: van
                name: Van battery
                bms: {port: /dev/ttyAMA0, address: "0x80", invert_current: true}
                capacity_ah: 100
            """)
        #expect(config.bank == config.packs)
        #expect(config.packs.map(\.id) == ["rack-a", "rack-b", "rack_c", "van"])
        #expect(config.packs.map(\.name) == ["Rack A", "rack-b", "rack_c", "Van battery"])
        #expect(config.packs.map(\.capacityAh) == [280, 280, nil, 100])
        #expect(config.packs.map { $0.bms.busAddress?.requestAddress } == [0x40, 0x41, 0x42, 0x80])
        #expect(config.packs[1].bms.timeoutMilliseconds == 300 && config.packs[3].bms.invertCurrent)
    }

    @Test("bad banks are refused with one line naming the key", arguments: [
        ("packs:\n  - {id: a}\nbms: {port: /dev/x}\n", "packs", "either packs: or"),
        ("packs:\n  - {name: A}\n", "packs[0].id", "required"),
        ("packs:\n  - {id: Rack A}\n", "packs[0].id", "not a slug"),
        ("packs:\n  - {id: -a}\n", "packs[0].id", "not a slug"),
        ("packs:\n  - {id: " + String(repeating: "a", count: 33) + "}\n", "packs[0].id", "not a slug"),
        ("packs:\n  - {id: a}\n  - {id: a, bms: {board: 2}}\n", "packs[1].id", "already packs[0]"),
        ("packs:\n  - {id: a}\n  - {id: b}\n", "packs[1].bms.board", "board 1 on /dev/ttyUSB0 is already packs[0]"),
        ("packs:\n  - {id: a, bms: {board: 2, address: \"0x80\"}}\n", "packs[0].bms.board", "0x80 only reaches board 1"),
        ("packs:\n  - {id: a, bms: {board: 17}}\n", "packs[0].bms.board", "1...16"),
        ("packs:\n  - {id: a, bms: {board: 1}}\n  - {id: b, bms: {board: 2, addres: \"0x40\"}}\n", "packs[1].bms.addres",
         "unknown key"),
        ("packs:\n  - {id: a, bms: {board: 1, address: \"0x80\"}}\n  - {id: b, bms: {board: 2}}\n",
         "packs[1].bms.address", "share one host address"),
        ("packs:\n  - {id: a, capacity_ah: 0}\n", "packs[0].capacity_ah", "must be"),
        ("packs:\n  - {id: a, name: \" \"}\n", "packs[0].name", "must not be empty"),
        ("packs:\n  - {id: a, colour: red}\n", "packs[0].colour", "unknown key"),
        ("bms: {board: 0}\n", "bms.board", "1...16"),
    ])
    func refused(yaml: String, key: String, message: String) {
        #expect {
            try GatewayConfiguration.parse(yaml: yaml)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == key && error.message.contains(message)
        }
    }

    @Test("seventeen packs are one too many for a bank")
    func tooManyPacks() {
        let yaml = "packs:\n" + (1...17).map { "  - {id: p\($0), bms: {port: /dev/ttyUSB\($0)}}\n" }.joined()
        let error = #expect(throws: ConfigurationError.self) { try GatewayConfiguration.parse(yaml: yaml) }
        #expect(error?.key == "packs")
        #expect(error?.message == "must list 1...16 packs, not 17")
    }

    @Test("a packs configuration survives a round trip through YAML")
    func roundTrip() throws {
        var config = GatewayConfiguration()
        var bms = BMSSettings()
        bms.board = 2
        config.packs = [PackSettings(id: "a", name: "A", capacityAh: 100), PackSettings(id: "b", name: "B", bms: bms)]
        var yaml = try config.yaml()
        // The defaults' `bms:` section stands beside `packs:` in an encoded config; a user file gives only one.
        yaml = yaml.replacingOccurrences(of: "bms:\n  port: /dev/ttyUSB0\n  address: '0x40'\n  board: 1\n  attempts: 3\n"
                                         + "  timeout_ms: 500\n  invert_current: false\npacks:", with: "packs:")
        #expect(try GatewayConfiguration.parse(yaml: yaml).packs == config.packs)
    }
}
