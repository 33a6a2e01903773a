import DalyProtocol

/// The reads a poll does not send: rated parameters, alarm thresholds, clock, production date, text.
extension DalyClient {
    public func ratedParameters() throws(DalyClientError) -> RatedParameters {
        try decodeSingle(.ratedParameters, RatedParameters.init(frame:))
    }

    public func cellVoltageThresholds() throws(DalyClientError) -> VoltageThresholds {
        try decodeSingle(.cellVoltageThresholds, VoltageThresholds.init(frame:))
    }

    public func packVoltageThresholds() throws(DalyClientError) -> VoltageThresholds {
        try decodeSingle(.packVoltageThresholds, VoltageThresholds.init(frame:))
    }

    public func rtcAndSOC() throws(DalyClientError) -> RTCAndSOC { try decodeSingle(.rtcAndSOC, RTCAndSOC.init(frame:)) }

    public func batteryDetails() throws(DalyClientError) -> BatteryDetails {
        try decodeSingle(.batteryDetails, BatteryDetails.init(frame:))
    }

    /// 0x57 (battery code) or 0x63 (version string): numbered ASCII frames joined.
    public func text(_ command: DalyCommand) throws(DalyClientError) -> String {
        let frames = try exchange(DalyRequest.read(command, to: configuration.bus))
        return try decoded(command) { () throws(DalyResponseError) in try DalyTextReply.text(from: frames, command: command) }
    }
}
