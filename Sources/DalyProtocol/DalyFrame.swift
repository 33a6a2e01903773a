/// One 13-byte frame of the Daly A5 protocol, in either direction (protocol §2.2).
///
/// `A5 <address> <command> 08 D0..D7 <checksum>`; the checksum is the low byte of the sum of bytes 0...11.
public struct DalyFrame: Hashable, Sendable, CustomStringConvertible {
    public static let length = 13
    public static let startByte: UInt8 = 0xA5
    public static let dataLength: UInt8 = 0x08

    /// Byte 1: the host address (0x3F + board) in a request, the board number (0x01 for a single unit) in a response.
    public var address: UInt8
    /// Byte 2, kept raw because a corrupted or unknown ID must still be representable.
    public var commandByte: UInt8
    /// Bytes 4...11.
    public var data: [UInt8]

    public init(address: UInt8, commandByte: UInt8, data: [UInt8] = Array(repeating: 0, count: 8)) {
        precondition(data.count == 8, "a Daly frame carries exactly 8 data bytes")
        self.address = address
        self.commandByte = commandByte
        self.data = data
    }

    public init(address: UInt8, command: DalyCommand, data: [UInt8] = Array(repeating: 0, count: 8)) {
        self.init(address: address, commandByte: command.rawValue, data: data)
    }

    /// The command, if the ID is one this codec knows.
    public var command: DalyCommand? { DalyCommand(rawValue: commandByte) }

    /// The 13 bytes on the wire.
    public var bytes: [UInt8] {
        var out: [UInt8] = [Self.startByte, address, commandByte, Self.dataLength]
        out.append(contentsOf: data)
        out.append(Self.checksum(out))
        return out
    }

    /// The low byte of the sum of `bytes` (the checksum over frame bytes 0...11).
    public static func checksum<C: Collection>(_ bytes: C) -> UInt8 where C.Element == UInt8 {
        UInt8(truncatingIfNeeded: bytes.reduce(0) { $0 &+ Int($1) })
    }

    /// Parses exactly 13 bytes, checking start byte, length byte and checksum (nothing about address or command).
    public init(validating bytes: some Collection<UInt8>) throws(DalyFrameError) {
        let raw = Array(bytes)
        guard raw.count == Self.length else { throw .wrongLength(raw.count) }
        guard raw[0] == Self.startByte else { throw .missingStartByte(raw[0]) }
        guard raw[3] == Self.dataLength else { throw .wrongDataLength(raw[3]) }
        let expected = Self.checksum(raw[0..<12])
        guard raw[12] == expected else { throw .checksumMismatch(expected: expected, actual: raw[12]) }
        self.init(address: raw[1], commandByte: raw[2], data: Array(raw[4..<12]))
    }

    /// Big-endian unsigned 16-bit value at data offset `offset`.
    public func u16(_ offset: Int) -> UInt16 { UInt16(data[offset]) << 8 | UInt16(data[offset + 1]) }

    /// Big-endian unsigned 32-bit value at data offset `offset`.
    public func u32(_ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(data[offset + $1]) }
    }

    public var description: String { bytes.hexString }
}

/// Why 13 bytes are not a Daly frame.
public enum DalyFrameError: Error, Equatable, Sendable {
    case wrongLength(Int)
    case missingStartByte(UInt8)
    case wrongDataLength(UInt8)
    case checksumMismatch(expected: UInt8, actual: UInt8)
}

extension Collection where Element == UInt8 {
    /// "A5 01 90 08 ..." for logs and errors.
    public var hexString: String {
        map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
    }
}

extension UInt16 {
    /// The two big-endian bytes of this value.
    public var bigEndianBytes: [UInt8] { [UInt8(self >> 8), UInt8(self & 0xFF)] }
}

extension UInt32 {
    /// The four big-endian bytes of this value.
    public var bigEndianBytes: [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: self >> $0) } }
}
