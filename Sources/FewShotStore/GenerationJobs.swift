import Foundation
import GRDB

/// A generation that was started as a server job, as the ledger sees it: its stored request and the
/// generation's state. Holds no private text (released tokens are DP output and are not included).
public struct GenerationJobRecord: Sendable, Hashable {
    public var id: String
    /// The data set's public id (``DatasetRecord/publicID``).
    public var dataset: String
    /// The job's request as stored (JSON written by the server).
    public var request: String
    /// `failed` is resumable.
    public var status: GenerationStatus
    public var failureReason: String
    public var demonstrations: Int
    public var finishedDemonstrations: Int
    public var releasedTokens: Int
    public var plannedTokens: Int
    /// Someone asked (through any replica's admin API) for this running job to stop; the process that
    /// runs it sees the flag and stops after its current token. Cleared when the job is resumed.
    public var cancelRequested: Bool
    public var created: Date
    public var updated: Date

    package init(
        id: String, dataset: String, request: String, status: GenerationStatus, failureReason: String, demonstrations: Int,
        finishedDemonstrations: Int, releasedTokens: Int, plannedTokens: Int, cancelRequested: Bool = false, created: Date, updated: Date
    ) {
        self.id = id
        self.dataset = dataset
        self.request = request
        self.status = status
        self.failureReason = failureReason
        self.demonstrations = demonstrations
        self.finishedDemonstrations = finishedDemonstrations
        self.releasedTokens = releasedTokens
        self.plannedTokens = plannedTokens
        self.cancelRequested = cancelRequested
        self.created = created
        self.updated = updated
    }
}

extension FewShotStore {
    /// Every generation started as a job, newest first; first marks as failed those whose process ended.
    public func generationJobs() throws -> [GenerationJobRecord] {
        try reapEndedGenerations()
        return try pool.read { db in
            try String.fetchAll(db, sql: """
                SELECT j.generation FROM generation_job j JOIN generation g ON g.id = j.generation ORDER BY g.created DESC
                """).map { try Self.generationJob(db, $0) }
        }
    }

    /// One job by generation id (or a unique prefix); throws ``StoreError/unknownGeneration(_:)`` if no job has it.
    public func generationJob(_ reference: String) throws -> GenerationJobRecord {
        try reapEndedGenerations()
        return try pool.read { db in
            let id = try Self.fetchGeneration(db, reference).id
            return try Self.generationJob(db, id)
        }
    }

    static func generationJob(_ db: Database, _ id: String) throws -> GenerationJobRecord {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT g.id, d.publicID AS dataset, g.status, g.failureReason, g.created, g.updated, j.request, j.cancelRequested,
                   count(s.position) AS demonstrations, coalesce(sum(s.finished), 0) AS finished,
                   coalesce(sum(s.releasedCount), 0) AS released, coalesce(sum(s.maxTokens), 0) AS planned
            FROM generation g JOIN generation_job j ON j.generation = g.id JOIN dataset d ON d.fingerprint = g.dataset
            LEFT JOIN demonstration_slot s ON s.generation = g.id
            WHERE g.id = ? GROUP BY g.id
            """, arguments: [id]) else {
            throw StoreError.unknownGeneration("\(id) (not a job)")
        }
        return GenerationJobRecord(
            id: row["id"], dataset: row["dataset"], request: row["request"], status: row["status"],
            failureReason: row["failureReason"], demonstrations: row["demonstrations"], finishedDemonstrations: row["finished"],
            releasedTokens: row["released"], plannedTokens: row["planned"], cancelRequested: row["cancelRequested"],
            created: row["created"], updated: row["updated"])
    }

    public func cancelRequested(generation id: String) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT j.cancelRequested FROM generation_job j JOIN generation g ON g.id = j.generation
                WHERE j.generation = ? AND g.status = 'running'
                """, arguments: [id]) ?? false
        }
    }

    /// Asks the process running job `reference` to stop it: sets the job's cancel flag if the job is
    /// running, and returns whether it was. The runner (on any host) polls the flag; the ledger is
    /// unchanged until it stops and abandons the rest of its reservation.
    public func requestCancel(generation reference: String) throws -> Bool {
        try pool.write { db in
            let id = try Self.fetchGeneration(db, reference).id
            try db.execute(sql: """
                UPDATE generation_job SET cancelRequested = 1
                WHERE generation = ? AND (SELECT status FROM generation WHERE id = ?) = 'running'
                """, arguments: [id, id])
            return db.changesCount > 0
        }
    }
}
