import DPAccounting
import Foundation
import GRDB

/// Everything a store holds, row by row, to move it to another backend (`fewshot store migrate`):
/// the secret behind the data sets' public ids (so they stay the same), data sets, budgets,
/// label-count releases, every generation with its slots and job, and the demonstration sets.
/// Never shown: it holds content fingerprints and the secret.
package struct LedgerExport: Sendable {
    package struct Generation: Sendable {
        package var id: String
        package var dataset: String
        package var status: GenerationStatus
        package var plan: String
        package var accountant: String
        package var ownerHost: String
        package var ownerPID: Int32
        package var ownerStart: String
        package var failureReason: String
        package var created: Date
        package var updated: Date
        package var subsampleKey: Data?
        package var seededNoise: Bool
        package var job: String?
        package var slots: [Slot]
    }

    package struct Slot: Sendable {
        package var position: Int
        package var label: String?
        package var tokenEvent: String
        package var event: String?
        package var exampleGroup: Int?
        package var maxTokens: Int
        package var releasedCount: Int
        package var released: String
        package var finished: Bool
        package var chargedTokens: Int?
    }

    package struct LabelCounts: Sendable {
        package var dataset: String
        package var counts: String
        package var noiseMultiplier: Double
        package var released: Date
    }

    package struct StoredSet: Sendable {
        package var id: String
        package var dataset: String
        package var created: Date
        package var record: String
    }

    package var secret: Data
    package var datasets: [DatasetRecord]
    package var budgets: [(dataset: String, budget: PrivacyBudget)]
    package var labelCounts: [LabelCounts]
    package var generations: [Generation]
    package var sets: [StoredSet]
}

extension FewShotStore {
    /// The whole store (see ``LedgerExport``), read in one transaction. Refused while a generation is
    /// running: its process still writes here, so stop every process that uses the store first.
    package func exportLedger() throws -> LedgerExport {
        try reapEndedGenerations()
        return try pool.read { db in
            if let running = try String.fetchOne(db, sql: "SELECT id FROM generation WHERE status = 'running'") {
                let generation = try Self.fetchGeneration(db, running)
                throw StoreError.generationOwnedByLiveProcess(id: running, host: generation.owner.host, pid: generation.owner.pid)
            }
            guard let secret = try Data.fetchOne(db, sql: "SELECT secret FROM store_secret WHERE id = 1") else { throw StoreError.damagedSecret }
            let datasets = try Row.fetchAll(db, sql: "SELECT * FROM dataset ORDER BY registered, fingerprint").map(Self.decodeDataset)
            let budgets = try Row.fetchAll(db, sql: "SELECT dataset, epsilon, delta FROM budget").map {
                (dataset: $0["dataset"] as String, budget: PrivacyBudget(epsilon: $0["epsilon"], delta: $0["delta"]))
            }
            let labelCounts = try Row.fetchAll(db, sql: "SELECT * FROM label_count_release").map {
                LedgerExport.LabelCounts(dataset: $0["dataset"], counts: $0["counts"], noiseMultiplier: $0["noiseMultiplier"], released: $0["released"])
            }
            let generations = try Row.fetchAll(db, sql: """
                SELECT g.*, j.request FROM generation g LEFT JOIN generation_job j ON j.generation = g.id ORDER BY g.created, g.id
                """).map { row in
                let id: String = row["id"]
                let slots = try Row.fetchAll(db, sql: "SELECT * FROM demonstration_slot WHERE generation = ? ORDER BY position", arguments: [id]).map {
                    LedgerExport.Slot(
                        position: $0["position"], label: $0["label"], tokenEvent: $0["tokenEvent"], event: $0["event"],
                        exampleGroup: $0["exampleGroup"], maxTokens: $0["maxTokens"], releasedCount: $0["releasedCount"],
                        released: $0["released"], finished: $0["finished"], chargedTokens: $0["chargedTokens"])
                }
                return LedgerExport.Generation(
                    id: id, dataset: row["dataset"], status: row["status"], plan: row["plan"], accountant: row["accountant"],
                    ownerHost: row["ownerHost"], ownerPID: row["ownerPID"], ownerStart: row["ownerStart"],
                    failureReason: row["failureReason"], created: row["created"], updated: row["updated"],
                    subsampleKey: row["subsampleKey"], seededNoise: row["seededNoise"], job: row["request"], slots: slots)
            }
            let sets = try Row.fetchAll(db, sql: "SELECT id, dataset, created, record FROM demonstration_set ORDER BY created, id").map {
                LedgerExport.StoredSet(id: $0["id"], dataset: $0["dataset"], created: $0["created"], record: $0["record"])
            }
            return LedgerExport(secret: secret, datasets: datasets, budgets: budgets, labelCounts: labelCounts, generations: generations, sets: sets)
        }
    }
}
