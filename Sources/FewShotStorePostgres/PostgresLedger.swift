import DPAccounting
import FewShotCore
import FewShotStore
import Foundation
import Logging
import PostgresNIO

/// The privacy-budget ledger on PostgreSQL: the same operations and guarantees as the SQLite
/// ledger (see FewShotStore's PrivacyLedger.swift), with the data set's row lock in place of SQLite's
/// single writer and a lease in place of a local pid check.
extension PostgresStore {
    public func reserve(
        dataset reference: String, plan: GenerationPlan, accountant: any PrivacyAccountant, job: String?, seededNoise: Bool
    ) throws -> Reservation {
        let new = try FewShotStore.NewReservation(plan)
        let (id, subsampleKey) = (new.id, new.subsampleKey)
        let planText = try JSONCoding.string(plan)
        let slots = try plan.demonstrations.map {
            (label: $0.label, tokenEvent: try JSONCoding.string($0.tokenEvent), maxTokens: $0.maxTokens,
             event: try JSONCoding.string($0.plannedEvent), group: $0.group)
        }
        let lease = Double(address.leaseSeconds)
        return try withBudgetCheck(dataset: reference, adding: new.charges, accountant: accountant) { [self] connection, dataset in
            let created = Date()
            let owner = OwnerProcess.current
            try await connection.query("""
                INSERT INTO generation (id, dataset, status, plan, accountant, owner_host, owner_pid, owner_start, owner_token,
                                        lease_expires, subsample_key, seeded_noise, created, updated)
                VALUES (\(id), \(dataset.fingerprint), 'running', \(planText), \(accountant.name), \(owner.host), \(owner.pid),
                        \(owner.startTime), \(ownerToken), clock_timestamp() + make_interval(secs => \(lease)), \(subsampleKey),
                        \(seededNoise), \(created), \(created))
                """, logger: logger)
            for (position, slot) in slots.enumerated() {
                try await connection.query("""
                    INSERT INTO demonstration_slot (generation, position, label, token_event, max_tokens, event, example_group)
                    VALUES (\(id), \(position), \(slot.label), \(slot.tokenEvent), \(slot.maxTokens), \(slot.event), \(slot.group))
                    """, logger: logger)
            }
            if let job {
                try await connection.query("INSERT INTO generation_job (generation, request) VALUES (\(id), \(job))", logger: logger)
            }
            return Reservation(id: id, dataset: dataset.fingerprint, plan: plan, accountant: accountant.name, created: created)
        }
    }

    /// Runs `record` in a transaction if `adding` fits the data set's budget (or it has none), else
    /// throws ``BudgetExceeded`` and records nothing. As on SQLite, the accountant first runs outside
    /// the transaction on a snapshot of the ledger; the transaction locks the data set's row and re-reads
    /// the snapshot. If it changed meanwhile, the check runs again on the new one while the lock is held
    /// (which blocks only other reservations on this data set, never checkpoints), so under contention a
    /// reservation waits its turn once instead of starting over behind every one that overtakes it.
    func withBudgetCheck<T: Sendable>(
        dataset reference: String, adding: [LedgerCharge], accountant: any PrivacyAccountant,
        record: @escaping @Sendable (PostgresConnection, DatasetRecord) async throws -> T
    ) throws -> T {
        let snapshot = try withConnection { [self] in try await ledgerSnapshot($0, reference) }
        try FewShotStore.checkBudget(snapshot, adding: adding, accountant: accountant)
        return try transaction { [self] connection in
            try await lockDataset(connection, snapshot.dataset.fingerprint)
            let current = try await ledgerSnapshot(connection, reference)
            if current != snapshot { try FewShotStore.checkBudget(current, adding: adding, accountant: accountant) }
            return try await record(connection, current.dataset)
        }
    }

    /// Takes the data set's row lock until the transaction ends: reservations, budget changes and
    /// label-count releases of one data set are serialised by it, in every process on every host.
    /// `NO KEY UPDATE`, not `UPDATE`: it excludes the others that take it, but not the key-share lock a
    /// row referencing the data set takes (a completing generation's stored set), which need not wait.
    func lockDataset(_ connection: PostgresConnection, _ fingerprint: String) async throws {
        try await connection.query("SELECT fingerprint FROM dataset WHERE fingerprint = \(fingerprint) FOR NO KEY UPDATE", logger: logger)
    }

    func ledgerSnapshot(_ connection: PostgresConnection, _ reference: String) async throws -> FewShotStore.LedgerSnapshot {
        let dataset = try await resolveDataset(connection, reference)
        return FewShotStore.LedgerSnapshot(
            dataset: dataset, budget: try await fetchBudget(connection, dataset.fingerprint),
            committed: try await charges(connection, dataset: dataset.fingerprint).map(\.committed))
    }

    public func checkpoint(_ reservation: Reservation, demonstration position: Int, released: [Token], finished: Bool) throws {
        try BlockingBridge.run { [self] in try await checkpointNow(reservation, position: position, released: released, finished: finished) }
    }

    /// The per-token write: one statement (so one round trip and one commit) that renews the lease,
    /// fenced by status and owner, and records the tokens if the slot accepts them; only when it
    /// records nothing is the reason looked up, to report it as the SQLite store does.
    public func checkpoint(_ reservation: Reservation, demonstration position: Int, released: [Token], finished: Bool) async throws {
        try await checkpointNow(reservation, position: position, released: released, finished: finished)
    }

    func checkpointNow(_ reservation: Reservation, position: Int, released: [Token], finished: Bool) async throws {
        let text = try JSONCoding.string(released)
        let count = released.count
        let lease = Double(address.leaseSeconds)
        let rows = try await client.query("""
            WITH owned AS (
                UPDATE generation SET updated = \(Date()), lease_expires = clock_timestamp() + make_interval(secs => \(lease))
                WHERE id = \(reservation.id) AND status = 'running' AND owner_token = \(ownerToken)
                RETURNING id)
            UPDATE demonstration_slot SET released_count = \(count), released = \(text), finished = \(finished)
            WHERE generation = (SELECT id FROM owned) AND position = \(position)
              AND NOT finished AND released_count <= \(count) AND max_tokens >= \(count)
            RETURNING position
            """, logger: logger).collect()
        if rows.count == 1 { return }
        try await asyncTransaction { [self] connection in
            try await requireOwnedRunning(connection, reservation.id, operation: "checkpoint")
            let slots = try await connection.query("""
                SELECT max_tokens, released_count, finished FROM demonstration_slot
                WHERE generation = \(reservation.id) AND position = \(position)
                """, logger: logger).collect()
            let slot = try slots.first.map { row in
                let cells = row.cells
                return (maxTokens: try cells.value("max_tokens", Int.self), releasedCount: try cells.value("released_count", Int.self),
                        finished: try cells.value("finished", Bool.self))
            }
            try FewShotStore.validateCheckpoint(slot, generation: reservation.id, position: position, count: count)
            throw StoreError.invalidCheckpoint("demonstration \(position) of generation \(reservation.id) changed while checkpointing")
        }
    }

    @discardableResult
    public func complete(_ reservation: Reservation, demonstrations record: DemonstrationSetRecord) throws -> DemonstrationSetRecord {
        var stored = try transaction { [self] connection in
            let generation = try await requireOwnedRunning(connection, reservation.id, operation: "complete")
            try await chargeStartedDemonstrations(connection, reservation.id)
            let stored = record.completed(
                by: reservation, slots: try await slots(connection, generation: reservation.id), seededNoise: generation.seededNoise)
            try await connection.query("""
                INSERT INTO demonstration_set (id, dataset, created, record)
                VALUES (\(stored.id), \(stored.dataset), \(stored.created), \(try JSONCoding.string(stored)))
                """, logger: logger)
            try await connection.query("UPDATE generation SET status = 'completed', updated = \(Date()) WHERE id = \(reservation.id)", logger: logger)
            return stored
        }
        stored.dataset = publicDatasetID(fingerprint: stored.dataset)
        return stored
    }

    /// Every started demonstration (finished or interrupted mid-way) is charged in full; one never started, nothing.
    func chargeStartedDemonstrations(_ connection: PostgresConnection, _ id: String) async throws {
        try await connection.query("""
            UPDATE demonstration_slot SET charged_tokens = CASE WHEN released_count > 0 OR finished THEN max_tokens ELSE 0 END
            WHERE generation = \(id)
            """, logger: logger)
    }

    @discardableResult
    public func abandon(generation reference: String) throws -> Reservation {
        try reapEndedGenerations()
        return try transaction { [self] connection in
            let generation = try await fetchGeneration(connection, reference, lock: true)
            try generation.permit("abandon", ours: generation.ownerToken == ownerToken, failedToo: true)
            try await chargeStartedDemonstrations(connection, generation.id)
            try await connection.query("UPDATE generation SET status = 'abandoned', updated = \(Date()) WHERE id = \(generation.id)", logger: logger)
            return generation.reservation
        }
    }

    public func markFailed(_ reservation: Reservation, reason: String) throws {
        try transaction { [self] connection in
            try await requireOwnedRunning(connection, reservation.id, operation: "mark failed")
            try await connection.query("""
                UPDATE generation SET status = 'failed', failure_reason = \(reason), updated = \(Date()) WHERE id = \(reservation.id)
                """, logger: logger)
        }
    }

    public func resumable(dataset reference: String?) throws -> [ResumableGeneration] {
        try reapEndedGenerations()
        return try withConnection { [self] connection in
            let fingerprint = try await reference.asyncMap { try await resolveDataset(connection, $0).fingerprint }
            let rows = try await connection.query("""
                SELECT id FROM generation WHERE status = 'failed' AND (\(fingerprint)::text IS NULL OR dataset = \(fingerprint))
                ORDER BY created, id
                """, logger: logger).collect()
            var result: [ResumableGeneration] = []
            for row in rows { result.append(try await resumableGeneration(connection, try row.cells.value("id", String.self))) }
            return result
        }
    }

    public func resume(generation reference: String, seededNoise: Bool) throws -> ResumableGeneration {
        try reapEndedGenerations()
        let lease = Double(address.leaseSeconds)
        return try transaction { [self] connection in
            let generation = try await fetchGeneration(connection, reference, lock: true)
            try generation.permitResume()
            let owner = OwnerProcess.current
            try await connection.query("""
                UPDATE generation SET status = 'running', owner_host = \(owner.host), owner_pid = \(owner.pid), owner_start = \(owner.startTime),
                    owner_token = \(ownerToken), lease_expires = clock_timestamp() + make_interval(secs => \(lease)), failure_reason = '',
                    updated = \(Date()), seeded_noise = seeded_noise OR \(seededNoise)
                WHERE id = \(generation.id)
                """, logger: logger)
            try await connection.query("UPDATE generation_job SET cancel_requested = false WHERE generation = \(generation.id)", logger: logger)
            return try await resumableGeneration(connection, generation.id)
        }
    }

    /// Made with the reservation (every PostgreSQL store generation has one), so only read here.
    public func subsampleKey(generation id: String) throws -> Data {
        try withConnection { [self] connection in
            let rows = try await connection.query("SELECT subsample_key FROM generation WHERE id = \(id)", logger: logger).collect()
            guard let row = rows.first else { throw StoreError.unknownGeneration(id) }
            return try row.cells.value("subsample_key", Data.self)
        }
    }

    public func budgetStatus(dataset reference: String, accountant: any PrivacyAccountant, delta: Double?) throws -> BudgetStatus {
        typealias Read = (DatasetRecord, PrivacyBudget?, LabelCountRelease?, [SlotCharge], Int)
        let read = try withConnection { [self] (connection: PostgresConnection) async throws -> Read in
            let dataset = try await resolveDataset(connection, reference)
            let active = try await connection.query("""
                SELECT count(*) AS active FROM generation WHERE dataset = \(dataset.fingerprint) AND status IN ('running', 'failed')
                """, logger: logger).collect()
            let budget = try await fetchBudget(connection, dataset.fingerprint)
            let release = try await fetchLabelCountRelease(connection, dataset.fingerprint)
            let all = try await charges(connection, dataset: dataset.fingerprint)
            let count = try active.first?.cells.value("active", Int.self) ?? 0
            return (dataset, budget, release, all, count)
        }
        return try FewShotStore.budgetStatus(
            dataset: read.0, budget: read.1, release: read.2, charges: read.3, activeGenerations: read.4,
            accountant: accountant, delta: delta)
    }

    /// Marks as failed every running generation whose owner is gone: its lease expired (the owner
    /// stopped renewing it: killed, hung, or its host is down), or it ran on this host and its process
    /// has ended (known at once, without waiting for the lease).
    func reapEndedGenerations() throws {
        try withConnection { [logger, ownerToken] connection in try await Self.reapEndedGenerations(connection, owner: ownerToken, logger: logger) }
    }

    static func reapEndedGenerations(_ connection: PostgresConnection, owner ownerToken: String, logger: Logger) async throws {
        try await connection.query("""
            UPDATE generation SET status = 'failed', updated = now(),
                failure_reason = 'process ' || owner_pid || ' on ' || owner_host || ' stopped renewing its lease while generating (its lease expired: it ended, hung or lost the database)'
            WHERE status = 'running' AND lease_expires < now()
            """, logger: logger)
        let local = try await connection.query("""
            SELECT id, owner_pid, owner_start FROM generation
            WHERE status = 'running' AND owner_host = \(OwnerProcess.current.host) AND owner_token <> \(ownerToken)
            """, logger: logger).collect()
        for row in local {
            let cells = row.cells
            let owner = OwnerProcess(
                host: OwnerProcess.current.host, pid: try cells.value("owner_pid", Int32.self), startTime: try cells.value("owner_start", String.self))
            guard owner.hasEnded else { continue }
            try await connection.query("""
                UPDATE generation SET status = 'failed', updated = now(),
                    failure_reason = \("process \(owner.pid) on \(owner.host) ended while generating")
                WHERE id = \(try cells.value("id", String.self)) AND status = 'running'
                """, logger: logger)
        }
    }
}

// MARK: - Rows

extension PostgresStore {
    /// The generation whose id is `reference` or starts with it (at least 4 characters); `lock` takes its row lock.
    func fetchGeneration(_ connection: PostgresConnection, _ reference: String, lock: Bool = false) async throws -> GenerationRow {
        let rows = try await connection.query("""
            SELECT id, dataset, status, plan, accountant, owner_host, owner_pid, owner_start, owner_token, failure_reason, created, updated,
                   seeded_noise
            FROM generation WHERE id = \(reference) OR (length(\(reference)) >= 4 AND substr(id, 1, length(\(reference))) = \(reference.lowercased()))
            \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger).collect().map { $0.cells }
        let row = try FewShotStore.pickGeneration(rows, reference) { try $0.value("id", String.self) }
        return GenerationRow(
            id: try row.value("id"), dataset: try row.value("dataset"), status: try row.generationStatus("status"),
            plan: try JSONCoding.decode(GenerationPlan.self, try row.value("plan")), accountant: try row.value("accountant"),
            owner: OwnerProcess(host: try row.value("owner_host"), pid: try row.value("owner_pid"), startTime: try row.value("owner_start")),
            ownerToken: try row.value("owner_token", String.self), failureReason: try row.value("failure_reason"),
            created: try row.value("created"), updated: try row.value("updated"), seededNoise: try row.value("seeded_noise"))
    }

    /// Locks the generation's row, checks that this process runs it, and returns it.
    @discardableResult
    func requireOwnedRunning(_ connection: PostgresConnection, _ id: String, operation: String) async throws -> GenerationRow {
        let generation = try await fetchGeneration(connection, id, lock: true)
        try generation.permit(operation, ours: generation.ownerToken == ownerToken)
        return generation
    }

    func slots(_ connection: PostgresConnection, generation id: String) async throws -> [SlotRow] {
        try await connection.query("""
            SELECT label, token_event, event, max_tokens, released, finished, charged_tokens
            FROM demonstration_slot WHERE generation = \(id) ORDER BY position
            """, logger: logger).collect().map { row in
            let cells = row.cells
            return SlotRow(
                label: try cells.value("label"), tokenEvent: try JSONCoding.decode(PrivacyEvent.self, try cells.value("token_event")),
                event: try (try cells.value("event", String?.self)).map { try JSONCoding.decode(PrivacyEvent.self, $0) },
                maxTokens: try cells.value("max_tokens"), released: try JSONCoding.decode([Token].self, try cells.value("released")),
                finished: try cells.value("finished"), chargedTokens: try cells.value("charged_tokens"))
        }
    }

    /// Every charge on a data set, as ``FewShotStore``'s `charges`: its label-count release, then each
    /// planned demonstration of its generations in the order they were reserved.
    func charges(_ connection: PostgresConnection, dataset fingerprint: String) async throws -> [SlotCharge] {
        let rows = try await connection.query("""
            SELECT s.generation, s.label, s.token_event, s.event, s.max_tokens, s.released_count, s.finished, s.charged_tokens, s.example_group
            FROM demonstration_slot s JOIN generation g ON g.id = s.generation
            WHERE g.dataset = \(fingerprint) ORDER BY g.created, s.generation, s.position
            """, logger: logger).collect()
        var events = StoredEventDecoder()
        let release = try await fetchLabelCountRelease(connection, fingerprint).map { [SlotCharge(labelCountRelease: $0)] } ?? []
        return try release + rows.map { row in
            let cells = row.cells
            return SlotCharge(
                generation: try cells.value("generation"), label: try cells.value("label"), group: try cells.value("example_group"),
                event: try (try cells.value("event", String?.self)).map { try events.decode($0) }, tokenEvent: try events.decode(try cells.value("token_event")),
                maxTokens: try cells.value("max_tokens"), releasedCount: try cells.value("released_count"),
                finished: try cells.value("finished"), chargedTokens: try cells.value("charged_tokens"))
        }
    }

    func resumableGeneration(_ connection: PostgresConnection, _ id: String) async throws -> ResumableGeneration {
        let generation = try await fetchGeneration(connection, id)
        let progress = try await slots(connection, generation: id).map(\.progress)
        return ResumableGeneration(
            reservation: generation.reservation, progress: progress, failureReason: generation.failureReason,
            updated: generation.updated, seededNoise: generation.seededNoise)
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
