import Foundation
import GRDB

/// A state directory that cannot be used; the message says which file and what to do.
public struct StateStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One history row: what the status page charts (one a minute, averaged to hours for the long term).
public struct HistorySample: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public var time: Double
    public var packVoltage: Double?
    public var packCurrent: Double?
    public var dalySOC: Double?
    public var shuntVoltage: Double?
    public var shuntCurrent: Double?
    public var power: Double
    public var calculatedSOC: Double
    public var cellMin: Double?
    public var cellMax: Double?
    public var temperatureMax: Double?
    public var load: Double
    public var balancer: Double

    public init(time: Double, packVoltage: Double?, packCurrent: Double?, dalySOC: Double?, shuntVoltage: Double?,
                shuntCurrent: Double?, power: Double, calculatedSOC: Double, cellMin: Double?, cellMax: Double?,
                temperatureMax: Double?, load: Bool, balancer: Bool) {
        self.time = time
        self.packVoltage = packVoltage
        self.packCurrent = packCurrent
        self.dalySOC = dalySOC
        self.shuntVoltage = shuntVoltage
        self.shuntCurrent = shuntCurrent
        self.power = power
        self.calculatedSOC = calculatedSOC
        self.cellMin = cellMin
        self.cellMax = cellMax
        self.temperatureMax = temperatureMax
        self.load = load ? 1 : 0
        self.balancer = balancer ? 1 : 0
    }

    public static let databaseTableName = "history_minute"
    static let columns = ["time", "packVoltage", "packCurrent", "dalySOC", "shuntVoltage", "shuntCurrent", "power",
                          "calculatedSOC", "cellMin", "cellMax", "temperatureMax", "load", "balancer"]
}

/// One row of the event log.
public struct StoredEvent: Codable, Equatable, Sendable, FetchableRecord {
    public var id: Int64
    public var time: Double
    public var kind: String
    public var payload: String
}

/// DalyGate's SQLite state (GRDB, WAL): the persistent controller state, the event log and the reading history.
///
/// Writes go through one serial queue so that the controller's tick never waits for the disk.
public final class StateStore: Sendable {
    public let path: String
    private let pool: DatabasePool
    private let writer = DispatchQueue(label: "dalygate.state-writer")
    /// Reader connections and each connection's page cache (KiB): what SQLite may hold in memory.
    static let readers = 2, cacheKiB = 128

    /// Opens (creating if needed) `directory/dalygate.sqlite`. Throws a clear error for a directory that cannot
    /// be created or written, or a database file that is corrupt; it never starts over silently.
    public init(directory: String) throws(StateStoreError) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw StateStoreError("state directory \(directory) is a file, not a directory") }
        } else {
            do {
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw StateStoreError("cannot create state directory \(directory): \(error.localizedDescription)")
            }
        }
        guard fm.isWritableFile(atPath: directory) else {
            throw StateStoreError("state directory \(directory) is not writable: fix its permissions or choose --state-dir")
        }
        path = (directory as NSString).appendingPathComponent("dalygate.sqlite")
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            // Every connection keeps a page cache of its own (SQLite's default: 2 MiB), and GRDB opens up to five
            // readers: up to 12 MiB that a history graph's reads fill and never give back. The database is a few MiB
            // (minute rows for `history_days`); a day's graph reads about 30 pages, and the kernel's page cache holds
            // the file anyway, so two readers and the writer with 128 KiB each serve the API as well. A larger cache
            // is memory that fills over the first hours of a run and then stays (the soak's RSS bound sees it).
            configuration.maximumReaderCount = Self.readers
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -\(Self.cacheKiB)") }
            pool = try DatabasePool(path: path, configuration: configuration)
            let check = try pool.read { try String.fetchOne($0, sql: "PRAGMA quick_check") }
            guard check == "ok" else {
                throw StateStoreError("state database \(path) is corrupt (\(check ?? "no answer")): move it away to start afresh")
            }
            try Self.migrator.migrate(pool)
            try pool.write { try $0.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('opened', ?)", arguments: [Date().timeIntervalSince1970]) }
        } catch let error as StateStoreError {
            throw error
        } catch let error as DatabaseError {
            if error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
                throw StateStoreError("state database \(path) is corrupt (\(error.message ?? "not a database")):"
                                      + " move it away to start afresh")
            }
            if error.resultCode == .SQLITE_READONLY || error.resultCode == .SQLITE_CANTOPEN || error.resultCode == .SQLITE_PERM {
                throw StateStoreError("state database \(path) cannot be written (\(error.message ?? "read-only")): fix its permissions")
            }
            throw StateStoreError("state database \(path): \(error.message ?? "\(error)")")
        } catch {
            throw StateStoreError("state database \(path): \(error)")
        }
    }

    private static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .any)
            }
            try db.create(table: "state") { t in
                t.primaryKey("id", .integer)
                t.column("json", .text).notNull()
                t.column("saved", .double).notNull()
            }
            try db.create(table: "events") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .double).notNull().indexed()
                t.column("kind", .text).notNull()
                t.column("payload", .text).notNull()
            }
            for table in ["history_minute", "history_hour"] {
                try db.create(table: table) { t in
                    t.primaryKey("time", .double)
                    for column in HistorySample.columns.dropFirst() { t.column(column, .double) }
                }
            }
        }
        return migrator
    }()

    // MARK: State

    public func loadState() throws(StateStoreError) -> PersistentState? {
        do {
            guard let json = try pool.read({ try String.fetchOne($0, sql: "SELECT json FROM state WHERE id = 1") }) else { return nil }
            return try JSONDecoder().decode(PersistentState.self, from: Data(json.utf8))
        } catch {
            throw StateStoreError("state database \(path) holds an unreadable controller state (\(error)):"
                                  + " move it away to start afresh")
        }
    }

    /// Saves on the writer queue; `completion` (if any) runs there afterwards.
    public func saveState(_ state: PersistentState, completion: (@Sendable (Bool) -> Void)? = nil) {
        guard let data = try? JSONEncoder().encode(state) else { return }
        let json = String(decoding: data, as: UTF8.self)
        writer.async { [pool] in
            let ok = (try? pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO state(id, json, saved) VALUES (1, ?, ?)",
                               arguments: [json, Date().timeIntervalSince1970])
            }) != nil
            completion?(ok)
        }
    }

    /// Waits until every queued write is done (for shutdown and tests).
    public func flush() { writer.sync {} }

    // MARK: Events

    public func appendEvent(_ event: ControllerEvent) {
        let (time, kind, payload) = (event.time.timeIntervalSince1970, event.kind.rawValue, event.payloadText)
        writer.async { [pool] in
            _ = try? pool.write { try $0.execute(sql: "INSERT INTO events(time, kind, payload) VALUES (?, ?, ?)",
                                                 arguments: [time, kind, payload]) }
        }
    }

    /// Newest first, optionally before an id and of some kinds.
    public func events(limit: Int, before: Int64? = nil, kinds: [String] = []) -> [StoredEvent] {
        (try? pool.read { db in
            var sql = "SELECT id, time, kind, payload FROM events WHERE 1"
            var arguments: [any DatabaseValueConvertible] = []
            if let before {
                sql += " AND id < ?"
                arguments.append(before)
            }
            if !kinds.isEmpty {
                sql += " AND kind IN (\(kinds.map { _ in "?" }.joined(separator: ",")))"
                arguments += kinds as [any DatabaseValueConvertible]
            }
            sql += " ORDER BY id DESC LIMIT ?"
            arguments.append(limit)
            return try StoredEvent.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
        }) ?? []
    }

    // MARK: History

    public func appendHistory(_ sample: HistorySample, keepMinutesFor days: Int) {
        writer.async { [pool] in
            _ = try? pool.write { db in
                try sample.insert(db, onConflict: .replace)
                let hour = (sample.time / 3600).rounded(.down) * 3600
                try Self.rollUp(db, hour: hour)
                let cutoff = sample.time - Double(days) * 86400
                try db.execute(sql: "DELETE FROM history_minute WHERE time < ?", arguments: [cutoff])
            }
        }
    }

    /// Recomputes the hourly average of `hour` from its minute rows.
    private static func rollUp(_ db: Database, hour: Double) throws {
        let columns = HistorySample.columns.dropFirst()
        try db.execute(sql: """
            INSERT OR REPLACE INTO history_hour(time, \(columns.joined(separator: ", ")))
            SELECT ?, \(columns.map { "avg(\($0))" }.joined(separator: ", "))
            FROM history_minute WHERE time >= ? AND time < ?
            """, arguments: [hour, hour, hour + 3600])
    }

    /// Samples between `from` and `to` (Unix seconds) averaged over `step` seconds; hourly rows fill in where the
    /// minute rows have been pruned.
    public func history(from: Double, to: Double, step: Double) -> [HistorySample] {
        let columns = HistorySample.columns.dropFirst()
        let step = max(60, step)
        return (try? pool.read { db in
            let sql = """
                SELECT (CAST(time / ? AS INTEGER) * ?) AS time, \(columns.map { "avg(\($0)) AS \($0)" }.joined(separator: ", "))
                FROM (SELECT * FROM history_minute WHERE time >= ? AND time <= ?
                      UNION ALL
                      SELECT * FROM history_hour WHERE time >= ? AND time <= ?
                        AND time < coalesce((SELECT min(time) FROM history_minute), 1e18) - 3600)
                GROUP BY CAST(time / ? AS INTEGER) ORDER BY time
                """
            return try HistorySample.fetchAll(db, sql: sql, arguments: [step, step, from, to, from, to, step])
        }) ?? []
    }
}
