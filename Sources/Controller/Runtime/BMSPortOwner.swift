import DalyProtocol
import DeviceKit
import Foundation

/// One BMS port of the bank and the clients of its boards: polled board after board by whichever thread the
/// controller hands it to (one at a time), reopened every ``reopenInterval`` while it is closed.
final class BMSPortOwner {
    let path: String
    /// Index into the bank's packs of each board, in poll order.
    let packs: [Int]
    private(set) var clients: [DalyClient]?
    private let open: (() throws -> [DalyClient])?
    private var lastOpenAttempt = ContinuousClock.now - .seconds(3600)
    private(set) var openError: String?
    /// Set by a poll: the port was opened, or failed and was closed (for the log, on the controller's thread).
    private(set) var notes: [String] = []

    static let reopenInterval = Duration.seconds(10)

    init(path: String, packs: [Int], clients: [DalyClient]?, open: (() throws -> [DalyClient])?) {
        self.path = path
        self.packs = packs
        self.clients = clients
        self.open = open
    }

    /// One poll of every board in turn: each pack's reading or why there is none.
    func pollAll() -> [(pack: Int, result: Result<DalyReading, PollFailure>)] {
        notes = []
        if clients == nil, let open, lastOpenAttempt.duration(to: .now) >= Self.reopenInterval {
            lastOpenAttempt = .now
            do {
                clients = try open()
                openError = nil
                notes.append("BMS port \(path) opened")
            } catch {
                openError = "\(error)"
            }
        }
        guard let clients else {
            return packs.map { ($0, .failure(PollFailure(message: openError ?? "BMS port not open"))) }
        }
        var results: [(pack: Int, result: Result<DalyReading, PollFailure>)] = []
        var portFailed = false
        for (index, client) in clients.enumerated() {
            if portFailed {
                results.append((packs[index], .failure(PollFailure(message: openError ?? "BMS port not open"))))
                continue
            }
            do {
                results.append((packs[index], .success(try client.poll())))
            } catch {
                results.append((packs[index], .failure(PollFailure(message: error.description))))
                if error.kind == .io {
                    notes.append("BMS port failed, reopening: \(error)")
                    openError = error.description
                    portFailed = true
                }
            }
        }
        if portFailed { self.clients = nil }
        return results
    }

    /// The client of the board that is pack `pack`, if the port is open.
    func client(forPack pack: Int) -> DalyClient? {
        guard let clients, let index = packs.firstIndex(of: pack) else { return nil }
        return clients[index]
    }
}

/// Why one pack's poll gave no reading.
struct PollFailure: Error {
    var message: String
}
