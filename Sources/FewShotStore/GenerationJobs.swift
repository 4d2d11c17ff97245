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
    /// `running`, `failed` (resumable), `completed` or `abandoned`.
    public var status: String
    public var failureReason: String
    public var demonstrations: Int
    public var finishedDemonstrations: Int
    public var releasedTokens: Int
    public var plannedTokens: Int
    public var created: Date
    public var updated: Date

    package init(
        id: String, dataset: String, request: String, status: String, failureReason: String, demonstrations: Int,
        finishedDemonstrations: Int, releasedTokens: Int, plannedTokens: Int, created: Date, updated: Date
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
            SELECT g.id, d.publicID AS dataset, g.status, g.failureReason, g.created, g.updated, j.request,
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
            releasedTokens: row["released"], plannedTokens: row["planned"], created: row["created"], updated: row["updated"])
    }
}
