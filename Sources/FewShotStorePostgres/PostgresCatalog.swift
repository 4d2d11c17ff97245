import DPAccounting
import FewShotCore
import FewShotStore
import Foundation
import PostgresNIO

/// Data sets, budgets, label-count releases, demonstration sets and jobs on PostgreSQL: the same
/// operations and rules as the SQLite store's Datasets.swift, LabelCountReleases.swift,
/// DemonstrationSets.swift and GenerationJobs.swift. Text is ordered bytewise (`COLLATE "C"`), as SQLite orders it.
extension PostgresStore {
    @discardableResult
    public func registerDataset(fingerprint: String, name: String, labelCounts: [String: Int]) throws -> DatasetRecord {
        try DatasetRecord.validate(fingerprint: fingerprint)
        let counts = try JSONCoding.string(labelCounts)
        let publicID = publicDatasetID(fingerprint: fingerprint)
        return try withConnection { [self] connection in
            try await connection.query("""
                INSERT INTO dataset (fingerprint, public_id, name, label_counts, registered) VALUES (\(fingerprint), \(publicID), \(name), \(counts), \(Date()))
                ON CONFLICT (fingerprint) DO UPDATE SET name = EXCLUDED.name, label_counts = EXCLUDED.label_counts
                """, logger: logger)
            guard let record = try await fetchDataset(connection, fingerprint) else { throw StoreError.unknownDataset(publicID) }
            return record
        }
    }

    public func datasets() throws -> [DatasetRecord] {
        try withConnection { [self] connection in
            try await connection.query("SELECT \(unescaped: Self.datasetColumns) FROM dataset ORDER BY name COLLATE \"C\", fingerprint", logger: logger)
                .collect().map(Self.decodeDataset)
        }
    }

    public func dataset(matching reference: String) throws -> DatasetRecord {
        try withConnection { [self] in try await resolvePublicDataset($0, reference) }
    }

    public func dataset(fingerprint: String) throws -> DatasetRecord? {
        try withConnection { [self] in try await fetchDataset($0, fingerprint) }
    }

    public func setBudget(dataset reference: String, epsilon: Double, delta: Double) throws {
        try PrivacyBudget(epsilon: epsilon, delta: delta).validate()
        try transaction { [self] connection in
            let fingerprint = try await resolveDataset(connection, reference).fingerprint
            try await lockDataset(connection, fingerprint)
            try await connection.query("""
                INSERT INTO budget (dataset, epsilon, delta, updated) VALUES (\(fingerprint), \(epsilon), \(delta), \(Date()))
                ON CONFLICT (dataset) DO UPDATE SET epsilon = EXCLUDED.epsilon, delta = EXCLUDED.delta, updated = EXCLUDED.updated
                """, logger: logger)
        }
    }

    public func budget(dataset reference: String) throws -> PrivacyBudget? {
        try withConnection { [self] connection in
            guard let dataset = try? await resolveDataset(connection, reference) else { return nil }
            return try await fetchBudget(connection, dataset.fingerprint)
        }
    }

    public func budget(fingerprint: String) throws -> PrivacyBudget? {
        try withConnection { [self] in try await fetchBudget($0, fingerprint) }
    }

    // MARK: Label counts

    public func releasedLabelCounts(dataset reference: String) throws -> LabelCountRelease? {
        try withConnection { [self] connection in
            try await fetchLabelCountRelease(connection, try await resolveDataset(connection, reference).fingerprint)
        }
    }

    /// As on SQLite the release is checked against the budget before anything is drawn, and stored and
    /// charged in the transaction that holds the data set's lock; `draw` runs on the caller's thread
    /// before that transaction (a draw that loses to another process's release is dropped unseen).
    public func releaseLabelCounts(
        dataset reference: String, noiseMultiplier: Double, accountant: any PrivacyAccountant, draw: (Double) -> LabelCountRelease
    ) throws -> LabelCountRelease {
        if let known = try releasedLabelCounts(dataset: reference) { return known }
        let charge = LedgerCharge.labelCountRelease(noiseMultiplier: noiseMultiplier)
        let snapshot = try withConnection { [self] in try await ledgerSnapshot($0, reference) }
        try FewShotStore.checkBudget(snapshot, adding: [charge], accountant: accountant)
        let release = draw(noiseMultiplier)
        precondition(release.isReleased && release.noiseMultiplier == noiseMultiplier, "only a DP release of the stated noise is stored")
        let counts = try JSONCoding.string(release.counts)
        return try withBudgetCheck(dataset: reference, adding: [charge], accountant: accountant) { [self] connection, dataset in
            if let known = try await fetchLabelCountRelease(connection, dataset.fingerprint) { return known }
            try await connection.query("""
                INSERT INTO label_count_release (dataset, counts, noise_multiplier, released)
                VALUES (\(dataset.fingerprint), \(counts), \(release.noiseMultiplier), \(Date()))
                """, logger: logger)
            return release
        }
    }

    // MARK: Demonstration sets

    public func demonstrationSets(dataset reference: String?) throws -> [DemonstrationSetRecord] {
        try withConnection { [self] connection in
            let fingerprint = try await reference.asyncMap { try await resolveDataset(connection, $0).fingerprint }
            return try await connection.query("""
                SELECT record FROM demonstration_set WHERE (\(fingerprint)::text IS NULL OR dataset = \(fingerprint))
                ORDER BY created DESC, id COLLATE "C"
                """, logger: logger).collect().map { try publicRecord(try $0.cells.value("record")) }
        }
    }

    public func demonstrationSet(_ reference: String) throws -> DemonstrationSetRecord {
        try withConnection { [self] in try publicRecord(try await resolveSet($0, reference).record) }
    }

    public func deleteDemonstrationSet(_ reference: String) throws {
        try transaction { [self] connection in
            let id = try await resolveSet(connection, reference).id
            try await connection.query("DELETE FROM demonstration_set WHERE id = \(id)", logger: logger)
        }
    }

    func publicRecord(_ stored: String) throws -> DemonstrationSetRecord {
        var record = try JSONCoding.decode(DemonstrationSetRecord.self, stored)
        record.dataset = publicDatasetID(fingerprint: record.dataset)
        return record
    }

    func resolveSet(_ connection: PostgresConnection, _ reference: String) async throws -> (id: String, record: String) {
        let rows = try await connection.query("""
            SELECT id, record FROM demonstration_set
            WHERE id = \(reference) OR (length(\(reference)) >= 4 AND substr(id, 1, length(\(reference))) = \(reference.lowercased()))
            """, logger: logger).collect().map { (id: try $0.cells.value("id", String.self), record: try $0.cells.value("record", String.self)) }
        if let exact = rows.first(where: { $0.id == reference }) { return exact }
        switch rows.count {
        case 1: return rows[0]
        case 0: throw StoreError.unknownDemonstrationSet(reference)
        default: throw StoreError.unknownDemonstrationSet("\(reference) (ambiguous: \(rows.count) sets start with it)")
        }
    }

    // MARK: Jobs

    public func generationJobs() throws -> [GenerationJobRecord] {
        try reapEndedGenerations()
        return try withConnection { [self] connection in
            let ids = try await connection.query("""
                SELECT j.generation AS id FROM generation_job j JOIN generation g ON g.id = j.generation ORDER BY g.created DESC
                """, logger: logger).collect().map { try $0.cells.value("id", String.self) }
            var jobs: [GenerationJobRecord] = []
            for id in ids { jobs.append(try await generationJob(connection, id)) }
            return jobs
        }
    }

    public func generationJob(_ reference: String) throws -> GenerationJobRecord {
        try reapEndedGenerations()
        return try withConnection { [self] connection in
            try await generationJob(connection, try await fetchGeneration(connection, reference).id)
        }
    }

    func generationJob(_ connection: PostgresConnection, _ id: String) async throws -> GenerationJobRecord {
        let rows = try await connection.query("""
            SELECT g.id, d.public_id, g.status, g.failure_reason, g.created, g.updated, j.request, j.cancel_requested,
                   count(s.position) AS demonstrations, coalesce(sum(CASE WHEN s.finished THEN 1 ELSE 0 END), 0) AS finished,
                   coalesce(sum(s.released_count), 0) AS released, coalesce(sum(s.max_tokens), 0) AS planned
            FROM generation g JOIN generation_job j ON j.generation = g.id JOIN dataset d ON d.fingerprint = g.dataset
            LEFT JOIN demonstration_slot s ON s.generation = g.id
            WHERE g.id = \(id) GROUP BY g.id, d.public_id, j.request, j.cancel_requested
            """, logger: logger).collect()
        guard let row = rows.first?.cells else { throw StoreError.unknownGeneration("\(id) (not a job)") }
        return GenerationJobRecord(
            id: try row.value("id"), dataset: try row.value("public_id"), request: try row.value("request"), status: try row.generationStatus("status"),
            failureReason: try row.value("failure_reason"), demonstrations: try row.value("demonstrations"),
            finishedDemonstrations: try row.value("finished"), releasedTokens: try row.value("released"),
            plannedTokens: try row.value("planned"), cancelRequested: try row.value("cancel_requested"),
            created: try row.value("created"), updated: try row.value("updated"))
    }

    public func cancelRequested(generation id: String) throws -> Bool {
        try withConnection { [self] connection in
            let rows = try await connection.query("""
                SELECT 1 AS asked FROM generation_job j JOIN generation g ON g.id = j.generation
                WHERE j.generation = \(id) AND g.status = 'running' AND j.cancel_requested
                """, logger: logger).collect()
            return !rows.isEmpty
        }
    }

    public func requestCancel(generation reference: String) throws -> Bool {
        try withConnection { [self] connection in
            let id = try await fetchGeneration(connection, reference).id
            let rows = try await connection.query("""
                UPDATE generation_job j SET cancel_requested = true FROM generation g
                WHERE j.generation = \(id) AND g.id = j.generation AND g.status = 'running'
                RETURNING j.generation
                """, logger: logger).collect()
            return !rows.isEmpty
        }
    }

    // MARK: Rows

    static let datasetColumns = "fingerprint, public_id, name, label_counts, registered"

    func fetchDataset(_ connection: PostgresConnection, _ fingerprint: String) async throws -> DatasetRecord? {
        try await connection.query("SELECT \(unescaped: Self.datasetColumns) FROM dataset WHERE fingerprint = \(fingerprint)", logger: logger)
            .collect().first.map(Self.decodeDataset)
    }

    func fetchBudget(_ connection: PostgresConnection, _ fingerprint: String) async throws -> PrivacyBudget? {
        try await connection.query("SELECT epsilon, delta FROM budget WHERE dataset = \(fingerprint)", logger: logger).collect().first.map {
            PrivacyBudget(epsilon: try $0.cells.value("epsilon"), delta: try $0.cells.value("delta"))
        }
    }

    func fetchLabelCountRelease(_ connection: PostgresConnection, _ fingerprint: String) async throws -> LabelCountRelease? {
        try await connection.query("SELECT counts, noise_multiplier FROM label_count_release WHERE dataset = \(fingerprint)", logger: logger)
            .collect().first.map {
                LabelCountRelease(
                    counts: try JSONCoding.decode([String: Int].self, try $0.cells.value("counts")),
                    noiseMultiplier: try $0.cells.value("noise_multiplier"), isReleased: true)
            }
    }

    /// A data set by exact fingerprint (callers inside fewshot that hold the data), else by what users give.
    func resolveDataset(_ connection: PostgresConnection, _ reference: String) async throws -> DatasetRecord {
        if let exact = try await fetchDataset(connection, reference) { return exact }
        return try await resolvePublicDataset(connection, reference)
    }

    /// A data set by public id, unique public-id prefix (4+ characters) or name.
    func resolvePublicDataset(_ connection: PostgresConnection, _ reference: String) async throws -> DatasetRecord {
        let lowered = reference.lowercased()
        let matches = try await connection.query("""
            SELECT \(unescaped: Self.datasetColumns) FROM dataset
            WHERE public_id = \(lowered) OR name = \(reference) OR (length(\(reference)) >= 4 AND substr(public_id, 1, length(\(reference))) = \(lowered))
            """, logger: logger).collect().map(Self.decodeDataset)
        return try FewShotStore.pickDataset(matches, reference)
    }

    static func decodeDataset(_ row: PostgresRow) throws -> DatasetRecord {
        let cells = row.cells
        return DatasetRecord(
            fingerprint: try cells.value("fingerprint"), publicID: try cells.value("public_id"), name: try cells.value("name"),
            labelCounts: try JSONCoding.decode([String: Int].self, try cells.value("label_counts")), registered: try cells.value("registered"))
    }
}
