import DalyProtocol

/// Which host addresses a simulated BMS answers (`--address-mode`).
public enum DalyAddressMode: String, Sendable, CaseIterable {
    case pc = "0x40", bluetooth = "0x80", both

    public func accepts(_ address: UInt8) -> Bool {
        switch self {
        case .pc: address == DalyHostAddress.pc.rawValue
        case .bluetooth: address == DalyHostAddress.bluetooth.rawValue
        case .both: address == DalyHostAddress.pc.rawValue || address == DalyHostAddress.bluetooth.rawValue
        }
    }
}

/// The firmware of the simulated BMS: turns one request into its reply frames and applies writes to the state.
///
/// Pure: no I/O and no clock. Requests with another host address, for another board or with an unknown command
/// get no reply (nil), as on a real unit. Multi-frame replies follow the host address: ceil(n/3) cell frames for
/// 0x40, all 16 for 0x80. Board 1 answers the host addresses of its `addressMode` and replies from 0x01; board N
/// (2...16, on a shared bus) answers only 0x3F + N and replies from N.
public struct DalyBMSResponder: Sendable {
    public var addressMode: DalyAddressMode
    /// Real units leave non-zero garbage in reserved bytes and in unused slots of the last cell frame.
    public var garbageReservedBytes: Bool
    /// This unit's board number (Daly's PC tool "Board No"), 1...16.
    public var board: Int

    public init(addressMode: DalyAddressMode = .both, garbageReservedBytes: Bool = false, board: Int = 1) {
        self.addressMode = addressMode
        self.garbageReservedBytes = garbageReservedBytes
        self.board = board
    }

    /// True when a request with this address byte is for this board.
    public func isAddressed(by requestAddress: UInt8) -> Bool {
        if board == 1 { return addressMode.accepts(requestAddress) }
        return DalyBusAddress(requestAddress: requestAddress)?.board == board
    }

    /// The reply to `request`, or nil when the BMS stays silent.
    public func respond(to request: DalyFrame, state: inout DalyBMSState) -> [DalyFrame]? {
        guard !state.asleep, isAddressed(by: request.address), let command = request.command else { return nil }
        let host = DalyHostAddress(rawValue: request.address)
        let datas = replyData(command, request: request, host: host, state: &state)
        return datas.map { DalyFrame(address: UInt8(clamping: board), command: command, data: $0) }
    }

    private var junk: UInt8 { garbageReservedBytes ? 0x8E : 0 }

    private func replyData(
        _ command: DalyCommand, request: DalyFrame, host: DalyHostAddress, state: inout DalyBMSState
    ) -> [[UInt8]] {
        let cells = state.cellMillivolts
        switch command {
        case .packMeasurements:
            return [PackMeasurement(voltageDecivolts: state.packDecivolts, currentRaw: state.currentRaw,
                                    socPermille: state.socPermille).data]
        case .minMaxCellVoltage:
            let maxIndex = cells.indices.max { cells[$0] < cells[$1] } ?? 0
            let minIndex = cells.indices.min { cells[$0] < cells[$1] } ?? 0
            return [CellVoltageRange(maxMillivolts: cells[maxIndex], maxCell: UInt8(maxIndex + 1),
                                     minMillivolts: cells[minIndex], minCell: UInt8(minIndex + 1))
                .data(reserved: [junk, junk == 0 ? 0 : 0x60])]
        case .minMaxTemperature:
            let temps = state.temperaturesCelsius
            let maxIndex = temps.indices.max { temps[$0] < temps[$1] }
            let minIndex = temps.indices.min { temps[$0] < temps[$1] }
            return [TemperatureRange(maxCelsius: maxIndex.map { temps[$0] } ?? 0, maxSensor: UInt8((maxIndex ?? -1) + 1),
                                     minCelsius: minIndex.map { temps[$0] } ?? 0, minSensor: UInt8((minIndex ?? -1) + 1))
                .data(reserved: [junk, 0, junk, 0])]
        case .mosfetStatus:
            state.heartbeat &+= 1
            return [MosfetStatus(state: state.chargeState, chargeMOS: state.chargeMOS, dischargeMOS: state.dischargeMOS,
                                 heartbeat: state.heartbeat, remainingMilliampHours: state.remainingMilliampHours).data]
        case .statusInfo:
            return [StatusInfo(cellCount: cells.count, temperatureSensorCount: state.temperaturesCelsius.count,
                               charger: state.current > 0.05, load: state.current < -0.05, dio: state.dio,
                               cycles: state.cycles).data(reserved: junk)]
        case .cellVoltages:
            let frames = host.replyFrameCount(for: .cellVoltages, cells: cells.count, temperatureSensors: 0)
            return (1...frames).map { number in
                let slots = ((number - 1) * 3..<number * 3).map { index -> UInt16 in
                    if index < cells.count { return cells[index] }
                    // Past the last cell: zero, or leftovers in the last data frame as one 16S capture showed.
                    return garbageReservedBytes && index / 3 == (cells.count - 1) / 3 ? 0x0D13 : 0
                }
                return CellVoltageFrame(number: number, millivolts: slots).data(reserved: number * 3 <= cells.count + 2 ? junk : 0)
            }
        case .temperatures:
            let temps = state.temperaturesCelsius
            let frames = host.replyFrameCount(for: .temperatures, cells: 0, temperatureSensors: temps.count)
            guard frames > 0 else { return [] }
            return (1...frames).map { number in
                TemperatureFrame(number: number, celsius: ((number - 1) * 7..<number * 7).map {
                    $0 < temps.count ? temps[$0] : -40
                }).data
            }
        case .balanceState:
            return [BalanceState(balancingCells: state.balancingCells).data(reserved: [junk, 0])]
        case .failureCodes:
            var flags = state.alarms
            if garbageReservedBytes {
                flags.bytes[3] |= 0xA0
                flags.bytes[6] |= 0x50
            }
            return [flags.data]
        case .setDischargeMOS:
            state.dischargeMOS = request.data[0] != 0
            return [writeAcknowledgement(request.data[0], cells: cells)]
        case .setChargeMOS:
            state.chargeMOS = request.data[0] != 0
            return [writeAcknowledgement(request.data[0], cells: cells)]
        case .setSOC:
            // Take the SOC from D6..D7 whatever the date bytes hold (protocol §2.6: layouts differ between tools).
            state.socPermille = min(request.u16(6), 1000)
            if request.data[1] != 0 { state.clock = DalyDateTime(bytes: request.data[0..<6]) }
            return [[1, 0, 0, 0, 0, 0, 0, 0]]
        case .reset:
            state.chargeMOS = true
            state.dischargeMOS = true
            state.heartbeat = 0
            return [[0, 0, 0, 0, 0, 0, 0, 0]]
        case .ratedParameters:
            return [RatedParameters(capacityMilliampHours: state.ratedCapacityMilliampHours,
                                    nominalCellMillivolts: state.nominalCellMillivolts).data]
        case .batteryDetails:
            return [state.productionDate.data]
        case .batteryCode:
            return DalyTextReply.frames(of: state.batteryCode, count: 5)
        case .cellVoltageThresholds:
            return [state.cellThresholds.data]
        case .packVoltageThresholds:
            return [state.effectivePackThresholds.data]
        case .rtcAndSOC:
            return [RTCAndSOC(date: state.clock, socPermille: state.socPermille).data]
        case .versionString:
            return DalyTextReply.frames(of: state.versionString, count: 2)
        }
    }

    /// 0xD9/0xDA reply: D0 echoes the requested state, the rest are leftovers that look like cell mV.
    private func writeAcknowledgement(_ requested: UInt8, cells: [UInt16]) -> [UInt8] {
        let leftovers = (cells + [0, 0, 0]).prefix(3).flatMap(\.bigEndianBytes)
        return [requested] + leftovers + [0xC0]
    }
}
