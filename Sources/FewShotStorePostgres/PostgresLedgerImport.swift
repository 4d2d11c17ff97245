import FewShotStore
import Foundation
import PostgresNIO

extension PostgresStore {
    /// Copies a whole store (``LedgerExport``, from ``FewShotStore``) into this one, which must not hold
    /// any data set yet, in one transaction: all of it or nothing. This store's secret becomes the
    /// export's, so every data set keeps its public id (published records name it). Generations keep
    /// their status; none is running (the export refuses that), so none needs an owner here.
    /// This instance caches the secret it had: close it and open the store again afterwards.
    package func importLedger(_ export: LedgerExport) throws {
        let location = self.location
        try transaction { [self] connection in
            let existing = try await connection.query("SELECT count(*) AS n FROM dataset", logger: logger).collect()
            let count = try existing.first?.cells.value("n", Int.self) ?? 0
            guard count == 0 else { throw PostgresStoreError.targetNotEmpty(location: location, datasets: count) }
            try await connection.query("UPDATE store_secret SET secret = \(export.secret) WHERE id = 1", logger: logger)
            for dataset in export.datasets {
                try await connection.query("""
                    INSERT INTO dataset (fingerprint, public_id, name, label_counts, registered)
                    VALUES (\(dataset.fingerprint), \(dataset.publicID), \(dataset.name), \(try JSONCoding.string(dataset.labelCounts)), \(dataset.registered))
                    """, logger: logger)
            }
            for (dataset, budget) in export.budgets {
                try await connection.query("""
                    INSERT INTO budget (dataset, epsilon, delta, updated) VALUES (\(dataset), \(budget.epsilon), \(budget.delta), now())
                    """, logger: logger)
            }
            for release in export.labelCounts {
                try await connection.query("""
                    INSERT INTO label_count_release (dataset, counts, noise_multiplier, released)
                    VALUES (\(release.dataset), \(release.counts), \(release.noiseMultiplier), \(release.released))
                    """, logger: logger)
            }
            for generation in export.generations {
                let key = generation.subsampleKey.flatMap { $0.count == 32 ? $0 : nil } ?? FewShotStore.newSubsampleKey()
                try await connection.query("""
                    INSERT INTO generation (id, dataset, status, plan, accountant, owner_host, owner_pid, owner_start, owner_token,
                                            lease_expires, failure_reason, subsample_key, seeded_noise, created, updated)
                    VALUES (\(generation.id), \(generation.dataset), \(generation.status.rawValue), \(generation.plan), \(generation.accountant),
                            \(generation.ownerHost), \(generation.ownerPID), \(generation.ownerStart), '', now(), \(generation.failureReason),
                            \(key), \(generation.seededNoise), \(generation.created), \(generation.updated))
                    """, logger: logger)
                for slot in generation.slots {
                    try await connection.query("""
                        INSERT INTO demonstration_slot (generation, position, label, token_event, event, example_group, max_tokens,
                                                        released_count, released, finished, charged_tokens)
                        VALUES (\(generation.id), \(slot.position), \(slot.label), \(slot.tokenEvent), \(slot.event), \(slot.exampleGroup),
                                \(slot.maxTokens), \(slot.releasedCount), \(slot.released), \(slot.finished), \(slot.chargedTokens))
                        """, logger: logger)
                }
                if let job = generation.job {
                    try await connection.query("INSERT INTO generation_job (generation, request) VALUES (\(generation.id), \(job))", logger: logger)
                }
            }
            for set in export.sets {
                try await connection.query("""
                    INSERT INTO demonstration_set (id, dataset, created, record) VALUES (\(set.id), \(set.dataset), \(set.created), \(set.record))
                    """, logger: logger)
            }
        }
    }
}
