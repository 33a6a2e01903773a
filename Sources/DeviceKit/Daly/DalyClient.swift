import DalyProtocol

/// Talks to one Daly BMS over a serial port: full polls, single queries and verified writes.
///
/// Each exchange drains stale input, sends one 13-byte request and reads frames through a resynchronising scanner
/// until the reply is complete, the per-frame timeout passes, or the BMS shows it is asleep (it echoes the
/// request). Replies are checked strictly (checksum, length, BMS address 0x01, same command) and placed by frame
/// number. A failed attempt is counted by kind and retried up to `attempts` times. Not thread-safe: it belongs to
/// the one thread that owns the port.
public final class DalyClient {
    public let port: any SerialPort
    public let configuration: DalyClientConfiguration
    public private(set) var statistics = DalyClientStatistics()

    private var scanner = DalyFrameScanner()
    private let clock = ContinuousClock()
    /// Counts from the last good 0x94, used to size 0x95/0x96 replies when a query is sent on its own.
    private var lastStatus: StatusInfo?

    public init(port: any SerialPort, configuration: DalyClientConfiguration = .init()) {
        self.port = port
        self.configuration = configuration
    }

    // MARK: Poll

    /// One full poll of the configured commands in order (0x90 → 0x98 by default). Like juepi's `update()` it
    /// stops at the first command that fails after its retries.
    public func poll() throws(DalyClientError) -> DalyReading {
        statistics.polls += 1
        do {
            var reading = DalyReading(currentSign: configuration.currentSign)
            for command in configuration.commands {
                try read(command, into: &reading)
            }
            return reading
        } catch {
            statistics.failedPolls += 1
            throw error
        }
    }

    private func read(_ command: DalyCommand, into reading: inout DalyReading) throws(DalyClientError) {
        switch command {
        case .packMeasurements: reading.pack = try decodeSingle(command, PackMeasurement.init(frame:))
        case .minMaxCellVoltage: reading.cellRange = try decodeSingle(command, CellVoltageRange.init(frame:))
        case .minMaxTemperature: reading.temperatureRange = try decodeSingle(command, TemperatureRange.init(frame:))
        case .mosfetStatus: reading.mosfets = try decodeSingle(command, MosfetStatus.init(frame:))
        case .statusInfo: reading.status = try statusInfo()
        case .cellVoltages: reading.cellMillivolts = try cellVoltages()
        case .temperatures: reading.temperaturesCelsius = try temperatures()
        case .balanceState: reading.balance = try decodeSingle(command, BalanceState.init(frame:))
        case .failureCodes: reading.alarms = try decodeSingle(command, AlarmFlags.init(frame:))
        default: _ = try exchange(DalyRequest.read(command, to: configuration.bus))
        }
    }

    // MARK: Single queries

    /// 0x94, remembered for sizing later 0x95/0x96 queries.
    public func statusInfo() throws(DalyClientError) -> StatusInfo {
        let status = try decodeSingle(.statusInfo, StatusInfo.init(frame:))
        lastStatus = status
        return status
    }

    /// 0x95: every cell voltage in mV, placed by frame number. Queries 0x94 first if the cell count is unknown.
    public func cellVoltages() throws(DalyClientError) -> [UInt16] {
        let cells = try knownStatus().cellCount
        return try assemble(.cellVoltages, count: cells, perFrame: CellVoltageFrame.cellsPerFrame) { frame throws(DalyResponseError) in
            let decoded = try CellVoltageFrame(frame: frame)
            return (decoded.number, decoded.millivolts)
        }
    }

    /// 0x96: every temperature sensor in °C. Queries 0x94 first if the sensor count is unknown.
    public func temperatures() throws(DalyClientError) -> [Int] {
        let sensors = try knownStatus().temperatureSensorCount
        guard sensors > 0 else { return [] }
        return try assemble(.temperatures, count: sensors, perFrame: TemperatureFrame.sensorsPerFrame) { frame throws(DalyResponseError) in
            let decoded = try TemperatureFrame(frame: frame)
            return (decoded.number, decoded.celsius)
        }
    }

    // MARK: Writes

    /// 0xDA: switches the charge MOSFET; verified by the echoed D0.
    public func setChargeMOS(_ on: Bool) throws(DalyClientError) {
        try write(DalyRequest.setChargeMOS(on, to: configuration.bus), acknowledgement: on ? 1 : 0)
    }

    /// 0xD9: switches the discharge MOSFET; verified by the echoed D0.
    public func setDischargeMOS(_ on: Bool) throws(DalyClientError) {
        try write(DalyRequest.setDischargeMOS(on, to: configuration.bus), acknowledgement: on ? 1 : 0)
    }

    /// 0x21: sets the BMS's SOC (and clock); acknowledged by D0 = 1.
    public func setSOC(percent: Double, date: DalyDateTime = .zero) throws(DalyClientError) {
        try write(DalyRequest.setSOC(percent: percent, date: date, to: configuration.bus), acknowledgement: 1)
    }

    /// 0x00: restarts the BMS. Units may or may not answer; returns whether one did. Never retried.
    @discardableResult
    public func reset() throws(DalyClientError) -> Bool {
        do {
            _ = try exchange(DalyRequest.reset(to: configuration.bus), attempts: 1)
            return true
        } catch where error.kind == .timeout {
            return false
        }
    }

    private func write(_ request: DalyFrame, acknowledgement: UInt8) throws(DalyClientError) {
        _ = try exchange(request) { frame throws(DalyResponseError) in
            guard frame.data[0] == acknowledgement else {
                throw .notAcknowledged("D0 is \(frame.data[0]), expected \(acknowledgement)")
            }
        }
    }

    // MARK: Exchange

    private func knownStatus() throws(DalyClientError) -> StatusInfo {
        if let lastStatus { return lastStatus }
        return try statusInfo()
    }

    func decodeSingle<T>(
        _ command: DalyCommand, _ decode: (DalyFrame) throws(DalyResponseError) -> T
    ) throws(DalyClientError) -> T {
        var value: T?
        _ = try exchange(DalyRequest.read(command, to: configuration.bus)) { frame throws(DalyResponseError) in
            value = try decode(frame)
        }
        return value!
    }

    private func assemble<Item: Sendable>(
        _ command: DalyCommand, count: Int, perFrame: Int,
        _ decode: (DalyFrame) throws(DalyResponseError) -> (Int, [Item])
    ) throws(DalyClientError) -> [Item] {
        var assembler = MultiFrameAssembler<Item>(count: count, perFrame: perFrame)
        _ = try exchange(DalyRequest.read(command, to: configuration.bus), count: count) {
            frame throws(DalyResponseError) in
            let (number, items) = try decode(frame)
            assembler.add(number: number, items: items)
        }
        guard let values = assembler.result else {
            throw failure(.shortFrame, command, attempts: 1, detail: "frames \(assembler.missingFrames) missing")
        }
        return values
    }

    func decoded<T>(_ command: DalyCommand, _ body: () throws(DalyResponseError) -> T) throws(DalyClientError) -> T {
        do {
            return try body()
        } catch {
            statistics.failures[.implausible, default: 0] += 1
            throw failure(.implausible, command, attempts: 1, detail: "\(error)")
        }
    }

    /// Sends `request` and returns its reply frames, retrying failed attempts. `accept` sees every frame of an
    /// attempt that passed the header checks; if it throws, the attempt fails (and the frame is not used).
    func exchange(
        _ request: DalyFrame, count: Int? = nil, attempts: Int? = nil,
        accept: (DalyFrame) throws(DalyResponseError) -> Void = { _ throws(DalyResponseError) in }
    ) throws(DalyClientError) -> [DalyFrame] {
        let command = request.command ?? .reset
        let counts = (cells: count ?? lastStatus?.cellCount ?? 1, sensors: count ?? lastStatus?.temperatureSensorCount ?? 1)
        let expectation = DalyReplyExpectation.forCommand(command, cells: counts.cells, sensors: counts.sensors,
                                                          host: configuration.hostAddress)
        let tries = attempts ?? configuration.attempts
        var last: DalyClientError.Kind = .timeout
        var detail = ""
        for attempt in 1...tries {
            if attempt > 1 { statistics.retries += 1 }
            switch try attemptExchange(request, expectation: expectation, accept: accept) {
            case .success(let frames):
                statistics.framesAccepted += frames.count
                return frames
            case .failure(let kind, let why):
                statistics.failures[kind, default: 0] += 1
                (last, detail) = (kind, why)
            }
        }
        throw failure(last, command, attempts: tries, detail: detail)
    }

    private enum AttemptResult {
        case success([DalyFrame])
        case failure(DalyClientError.Kind, String)
    }

    private func attemptExchange(
        _ request: DalyFrame, expectation: DalyReplyExpectation,
        accept: (DalyFrame) throws(DalyResponseError) -> Void
    ) throws(DalyClientError) -> AttemptResult {
        let command = request.command ?? .reset
        do {
            statistics.discardedBytes += try port.discardInput() + scanner.bufferedCount + scanner.discardedBytes
            scanner = DalyFrameScanner()
            statistics.requests += 1
            try port.write(request.bytes)
        } catch {
            throw failure(.io, command, attempts: 1, detail: error.message)
        }

        var collector = DalyReplyCollector(expectation)
        var sawWrongCommand = false
        var heardBoard: Int?
        var rejection: DalyResponseError?
        var deadline = clock.now.advanced(by: configuration.timeout)
        while true {
            let bytes: [UInt8]
            do {
                bytes = try port.read(upTo: 512, deadline: deadline)
            } catch {
                throw failure(.io, command, attempts: 1, detail: error.message)
            }
            if bytes.isEmpty {
                // Deadline passed. With all required frames in, missing padding frames are no failure.
                if collector.hasRequired { return .success(collector.ordered) }
                let heard = heardBoard.map { "; only board \($0) answered" } ?? ""
                return .failure(classifyTimeout(sawWrongCommand: sawWrongCommand, rejection: rejection),
                                "frames \(collector.missing) missing" + heard)
            }
            scanner.append(bytes)
            while let frame = scanner.next() {
                do {
                    try DalyResponseValidator.check(frame, answers: request)
                    try accept(frame)
                    collector.add(frame)
                    deadline = clock.now.advanced(by: configuration.timeout)
                } catch .echo {
                    return .failure(.asleep, "request echoed")
                } catch .wrongCommand {
                    sawWrongCommand = true
                } catch .otherBoard(let board) {
                    // A late reply of another board on the bus: not ours, never used; keep listening.
                    heardBoard = board
                } catch {
                    rejection = error
                }
            }
            if collector.isFinished { return .success(collector.ordered) }
            if collector.hasRequired {
                deadline = min(deadline, clock.now.advanced(by: configuration.paddingIdle))
            }
        }
    }

    /// A client error for `command` on this client's port and board.
    func failure(
        _ kind: DalyClientError.Kind, _ command: DalyCommand, attempts: Int, detail: String = ""
    ) -> DalyClientError {
        DalyClientError(kind: kind, command: command, path: port.path, attempts: attempts, detail: detail,
                        board: configuration.board)
    }

    /// Why an attempt ended without its reply, from what this attempt's scanner saw.
    private func classifyTimeout(sawWrongCommand: Bool, rejection: DalyResponseError?) -> DalyClientError.Kind {
        if let rejection {
            if case .notAcknowledged = rejection { return .notAcknowledged }
            return .implausible
        }
        if scanner.checksumFailures > 0 { return .checksum }
        if scanner.bufferedCount > 0 || scanner.discardedBytes > 0 { return .shortFrame }
        if sawWrongCommand { return .wrongCommand }
        return .timeout
    }
}
