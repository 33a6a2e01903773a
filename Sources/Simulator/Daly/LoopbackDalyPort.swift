import DalyProtocol
import DeviceKit
import Synchronization

/// A serial port whose far end is the simulated BMS firmware, answering at once with no wire in between.
///
/// For lockstep simulations (a whole day on a virtual clock in seconds) and codec benchmarks: the real DalyClient
/// runs unchanged, only timing is left out. Use `SimulatedDalyBMS` when pacing and faults matter.
public final class LoopbackDalyPort: SerialPort, Sendable {
    public let path = "loopback:daly"
    private let state: Mutex<(bms: DalyBMSState, scanner: DalyFrameScanner, pending: [UInt8])>
    private let responder: DalyBMSResponder

    public init(state: DalyBMSState, responder: DalyBMSResponder = DalyBMSResponder()) {
        self.state = Mutex((state, DalyFrameScanner(), []))
        self.responder = responder
    }

    /// Reads or changes the BMS state.
    public func withState<R: Sendable>(_ body: (inout DalyBMSState) -> R) -> R { state.withLock { body(&$0.bms) } }

    public func write(_ bytes: [UInt8]) throws(SerialPortError) {
        state.withLock { s in
            s.scanner.append(bytes)
            while let request = s.scanner.next() {
                for frame in responder.respond(to: request, state: &s.bms) ?? [] { s.pending += frame.bytes }
            }
        }
    }

    public func read(upTo maxCount: Int, deadline: ContinuousClock.Instant) throws(SerialPortError) -> [UInt8] {
        state.withLock { s in
            let out = Array(s.pending.prefix(maxCount))
            s.pending.removeFirst(out.count)
            return out
        }
    }

    @discardableResult
    public func discardInput() throws(SerialPortError) -> Int {
        state.withLock { s in
            defer { s.pending.removeAll() }
            return s.pending.count
        }
    }
}
