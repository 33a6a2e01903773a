/// Why a checksum-valid frame is still not an acceptable answer to a request (protocol §2.2, §3).
public enum DalyResponseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The request came back (address byte is a host address): the BMS is falling asleep or asleep. Decoding it
    /// would give 0 V, −3000 A, 0 % (maland16 #11/#22, python-daly-bms #48).
    case echo
    /// The address byte is neither the BMS (0x01) nor a host address.
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
        case .wrongAddress(let a): "reply from address 0x\(String(a, radix: 16)), not the BMS (0x01)"
        case .wrongCommand(let e, let a):
            "reply for command 0x\(String(a, radix: 16)) while waiting for 0x\(String(e, radix: 16))"
        case .implausible(let why): "implausible reply: \(why)"
        case .notAcknowledged(let why): "write not acknowledged: \(why)"
        }
    }
}

/// Checks a frame from the wire against the request it should answer: BMS address 0x01 and the same command.
public enum DalyResponseValidator {
    /// Throws unless `frame` is a BMS response to `request`'s command.
    public static func check(_ frame: DalyFrame, answers request: DalyFrame) throws(DalyResponseError) {
        if frame.address != DalyHostAddress.bmsAddress {
            // Daly2MQTT's rule: byte 1 >= 0x20 is a host address, i.e. our own request coming back.
            if frame == request || frame.address >= 0x20 { throw .echo }
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
