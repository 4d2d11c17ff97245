import Foundation
import GRDB

/// The embedded SQLite store (the default ``LedgerStore``; `FewShotStorePostgres` is the shared one): private data sets (fingerprints, public ids and label counts only), their privacy
/// budgets, the ledger of generations and their checkpoints, and the demonstration sets produced.
///
/// Guarantees:
/// - A file that is not SQLite, is corrupt, or is an SQLite database of another program is refused
///   with ``StoreError`` before anything is written to it.
/// - The database is in WAL mode with full synchronous commits; every ledger change is one
///   `BEGIN IMMEDIATE` transaction, so processes sharing the file are serialized and a reservation
///   is durable before its caller may release a token.
/// - On open, generations left "running" by a process that has ended are marked failed (resumable).
/// - A data set's content fingerprint never leaves the store: records, errors and listings name it by
///   its public id (``DatasetRecord/publicID``), and references from users resolve public ids only.
public final class FewShotStore: Sendable {
    public let path: String
    let pool: DatabasePool
    /// Makes the public ids of data sets (see ``DatasetKey``).
    let datasetKey: DatasetKey

    /// Opens the store at `path`, creating it (and its directory) if absent.
    public init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        do {
            pool = try Self.retryingWhileBusy {
                try Self.refuseForeignFile(at: path)
                var configuration = Configuration()
                configuration.busyMode = .timeout(60)
                let pool = try DatabasePool(path: path, configuration: configuration)
                // GRDB sets synchronous = NORMAL with WAL; a reservation must survive power loss before
                // any token is released, so every commit of the (single, persistent) writer syncs.
                try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
                return pool
            }
        } catch let error as DatabaseError {
            throw StoreError.notAStore(path: path, reason: error.message ?? "\(error)")
        }
        try Self.migrate(pool, path: path)
        datasetKey = try pool.read { try DatasetKey.read($0) }
        try reapEndedGenerations()
    }

    /// Checks an existing non-empty file read-only: it must be SQLite, readable, and either carry
    /// our application_id or be an empty database. Nothing is written to it. SQLite's errors are
    /// thrown as they are (the caller reports them as ``StoreError/notAStore(path:reason:)``).
    private static func refuseForeignFile(at path: String) throws {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let walSize = ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? NSNumber)?.intValue ?? 0
        if size == 0 && walSize == 0 { return }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(60)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let (applicationID, objects) = try queue.read { db -> (Int32, Int) in
            let id = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
            return (id, count)
        }
        try queue.close()
        if applicationID == StoreSchema.applicationID || (applicationID == 0 && objects == 0) { return }
        throw StoreError.foreignDatabase(path: path, applicationID: applicationID, tableCount: objects)
    }

    /// Runs `body`, retrying it (at most 10 times, 50 ms apart) when SQLite reports the file busy or
    /// locked. While another connection creates a new store (switching it to WAL), SQLite returns
    /// that at once instead of waiting in the busy handler; a moment later the file opens normally.
    private static func retryingWhileBusy<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try body()
            } catch let error as DatabaseError where attempt < 10 && [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    /// Runs the migrations. Two processes may open a new file at once; the loser's migration
    /// transaction fails (the winner already applied it), so it re-reads and tries again.
    private static func migrate(_ pool: DatabasePool, path: String) throws {
        let migrator = StoreSchema.migrator
        var attempt = 0
        while true {
            attempt += 1
            do {
                if try pool.read({ try migrator.hasBeenSuperseded($0) }) { throw StoreError.newerSchema(path: path) }
                try migrator.migrate(pool)
                return
            } catch let error as DatabaseError {
                if attempt >= 5 { throw StoreError.notAStore(path: path, reason: error.message ?? "\(error)") }
                if try pool.read({ try migrator.hasCompletedMigrations($0) }) { return }
            }
        }
    }

    /// Runs SQLite's full integrity check; throws ``StoreError/notAStore(path:reason:)`` with its report if the file is damaged.
    public func verifyIntegrity() throws {
        let report = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        guard report == ["ok"] else { throw StoreError.notAStore(path: path, reason: "integrity check: " + report.prefix(5).joined(separator: "; ")) }
    }

    /// Closes the database connections; the store must not be used afterwards.
    public func close() throws {
        // Fold the WAL into the main file so that the file alone is a complete copy. Best effort:
        // if another process is reading, part of the WAL stays, which SQLite still reads correctly.
        _ = try? pool.writeWithoutTransaction { try $0.checkpoint(.passive) }
        try pool.close()
    }

    package static func newID() -> String { UUID().uuidString.lowercased() }

    /// The data set `reference` names among `matches` (those whose public id, name or public-id prefix
    /// matched it), the same on both stores: the exact public id, else the only match; none or
    /// several are refused by name.
    package static func pickDataset(_ matches: [DatasetRecord], _ reference: String) throws -> DatasetRecord {
        if let exact = matches.first(where: { $0.publicID == reference.lowercased() }) { return exact }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw StoreError.unknownDataset(reference)
        default: throw StoreError.ambiguousDataset(reference, matches: matches.map { "\($0.name) (\($0.publicID.prefix(12)))" })
        }
    }

    /// The row among `rows` (fetched for id `reference` or ids starting with it) that `reference`
    /// names: the exact id, else the only prefix match. Throws ``StoreError/unknownGeneration(_:)`` when
    /// none or several match. Both stores resolve generation references with it.
    package static func pickGeneration<Row>(_ rows: [Row], _ reference: String, id: (Row) throws -> String) throws -> Row {
        if let exact = try rows.first(where: { try id($0) == reference }) { return exact }
        if rows.count == 1 { return rows[0] }
        if rows.isEmpty { throw StoreError.unknownGeneration(reference) }
        throw StoreError.unknownGeneration("\(reference) (ambiguous: \(rows.count) generations start with it)")
    }

    /// What a reservation records before it is checked against the budget, the same on both stores: a
    /// validated plan, a new generation id, the plan's charges under that id and a new subsample key.
    package struct NewReservation: Sendable {
        package var id: String
        package var charges: [LedgerCharge]
        package var subsampleKey: Data

        package init(_ plan: GenerationPlan) throws {
            try plan.validate()
            id = FewShotStore.newID()
            charges = LedgerCharge.planned(plan, generation: id)
            subsampleKey = FewShotStore.newSubsampleKey()
        }
    }

    /// A new secret for a generation's partition subsamples: 32 bytes from the system's secure generator.
    package static func newSubsampleKey() -> Data {
        var random = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) })
    }
}
