/// Why a checksum-valid frame is still not an acceptable answer to a request (protocol §2.2, §3).
public enum DalyResponseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The request came back (address byte is a host address): the BMS is falling asleep or asleep. Decoding it
    /// would give 0 V, −3000 A, 0 % (maland16 #11/#22, python-daly-bms #48).
    case echo
    /// The address byte is a board number (1...16), but of another board on the same bus: a late reply to an
    /// earlier request, or two boards set to the same number.
    case otherBoard(Int)
    /// The address byte is neither a board (0x01...0x10) nor a host address.
    case wrongAddress(UInt8)
    /// A valid frame, but for another command (a stale frame from an earlier request).
    case wrongCommand(expected: UInt8, actual: UInt8)
    /// Decodes, but to values no BMS reports (for example the 0x0000 current that means −3000 A).
    case implausible(String)
    /// A write was answered but not acknowledged (0xD9/0xDA D0 differs from the request; 0x21 D0 is not 1).
    case notAcknowledged(String)

    public var description: String {
        switch self {
        case .echo: "the BMS echoed the request (it is asleep or falling asleep)"
        case .otherBoard(let board): "reply from board \(board), not the board that was asked"
        case .wrongAddress(let a): "reply from address 0x\(String(a, radix: 16)), not a BMS board (0x01...0x10)"
        case .wrongCommand(let e, let a):
            "reply for command 0x\(String(a, radix: 16)) while waiting for 0x\(String(e, radix: 16))"
        case .implausible(let why): "implausible reply: \(why)"
        case .notAcknowledged(let why): "write not acknowledged: \(why)"
        }
    }
}

/// Checks a frame from the wire against the request it should answer: the addressed board's reply address (0x01
/// for a single unit, N for board N) and the same command.
public enum DalyResponseValidator {
    /// The reply address byte that answers a request with `requestAddress`: the board number it selects, or 0x01
    /// for an address byte that selects no board (a single unit's own address is 0x01 whatever the host sent).
    public static func replyAddress(answering requestAddress: UInt8) -> UInt8 {
        DalyBusAddress(requestAddress: requestAddress)?.replyAddress ?? DalyHostAddress.bmsAddress
    }

    /// Throws unless `frame` is a response of the addressed board to `request`'s command.
    public static func check(_ frame: DalyFrame, answers request: DalyFrame) throws(DalyResponseError) {
        if frame.address != replyAddress(answering: request.address) {
            // Daly2MQTT's rule: byte 1 >= 0x20 is a host address, i.e. our own request coming back. Board replies
            // (0x01...0x10) stay below it, so the rule holds on a shared bus too.
            if frame == request || frame.address >= 0x20 { throw .echo }
            if DalyBusAddress.boardRange.contains(Int(frame.address)) { throw .otherBoard(Int(frame.address)) }
            throw .wrongAddress(frame.address)
        }
        guard frame.commandByte == request.commandByte else {
            throw .wrongCommand(expected: request.commandByte, actual: frame.commandByte)
        }
    }

    /// Throws `.wrongCommand` when a decoder is handed a frame of another command.
    static func require(_ frame: DalyFrame, is command: DalyCommand) throws(DalyResponseError) {
        guard frame.commandByte == command.rawValue else {
            throw .wrongCommand(expected: command.rawValue, actual: frame.commandByte)
        }
    }
}
