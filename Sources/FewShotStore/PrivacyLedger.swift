import DPAccounting
import FewShotCore
import Foundation
import GRDB

/// The privacy-budget ledger: reservations, checkpoints, completion and abandonment of generations.
///
/// Guarantees (each write is one IMMEDIATE transaction, so concurrent callers in any process
/// are serialized):
/// - ``reserve(dataset:plan:accountant:)`` records the full planned cost before any token may be
///   released, and refuses (recording nothing) when spent + reserved + planned would exceed the budget.
///   The accountant runs outside the write transaction on a snapshot of the ledger, which the
///   transaction verifies before recording (``withBudgetCheck(dataset:adding:accountant:record:)``).
/// - Spending is always recomputed by the accountant from stored events; epsilons are never added.
/// - A started demonstration (one that checkpointed a token) is charged its full planned event, on
///   completion, on failure and on abandonment alike: where it stopped can depend on the data or on
///   what was read from its checkpoints, so the stopping point is not data-independent. A
///   demonstration never started is charged nothing.
/// - A generation's subsample key (``subsampleKey(generation:)``) is created with its reservation and
///   never leaves the store but to the generator; whether any run of it used seeded noise is recorded
///   and survives resume (``ResumableGeneration/seededNoise``).
/// - Nothing returns budget except abandoning the unreleased part of a reservation; deleting
///   demonstration sets never does.
extension FewShotStore {
    /// Reserves the planned cost of a generation on a data set, atomically against the budget.
    /// Throws ``BudgetExceeded`` (recording nothing) if it does not fit. Without a budget the
    /// reservation is recorded and never refused. `job` (a server job's request, no private text) is
    /// stored in the same transaction; see ``generationJobs()``.
    public func reserve(
        dataset reference: String, plan: GenerationPlan, accountant: any PrivacyAccountant, job: String?, seededNoise: Bool
    ) throws -> Reservation {
        let new = try NewReservation(plan)
        let (id, subsampleKey) = (new.id, new.subsampleKey)
        return try withBudgetCheck(dataset: reference, adding: new.charges, accountant: accountant) { db, dataset in
            let reservation = Reservation(id: id, dataset: dataset.fingerprint, plan: plan, accountant: accountant.name, created: Date())
            let owner = OwnerProcess.current
            try db.execute(sql: """
                INSERT INTO generation (id, dataset, status, plan, accountant, ownerHost, ownerPID, ownerStart, created, updated, subsampleKey, seededNoise)
                VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [reservation.id, dataset.fingerprint, try JSONCoding.string(plan), accountant.name,
                                 owner.host, owner.pid, owner.startTime, reservation.created, reservation.created, subsampleKey, seededNoise])
            for (position, demonstration) in plan.demonstrations.enumerated() {
                try db.execute(sql: """
                    INSERT INTO demonstration_slot (generation, position, label, tokenEvent, maxTokens, event, exampleGroup)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [reservation.id, position, demonstration.label,
                                     try JSONCoding.string(demonstration.tokenEvent), demonstration.maxTokens,
                                     try JSONCoding.string(demonstration.plannedEvent), demonstration.group])
            }
            if let job {
                try db.execute(sql: "INSERT INTO generation_job (generation, request) VALUES (?, ?)", arguments: [reservation.id, job])
            }
            return reservation
        }
    }

    /// What a budget check reads: the data set, its budget and its committed charges.
    package struct LedgerSnapshot: Equatable, Sendable {
        package var dataset: DatasetRecord
        package var budget: PrivacyBudget?
        package var committed: [LedgerCharge]

        package init(dataset: DatasetRecord, budget: PrivacyBudget?, committed: [LedgerCharge]) {
            self.dataset = dataset
            self.budget = budget
            self.committed = committed
        }
    }

    static func ledgerSnapshot(_ db: Database, _ reference: String) throws -> LedgerSnapshot {
        let dataset = try resolveDataset(db, reference)
        return LedgerSnapshot(
            dataset: dataset, budget: try fetchBudget(db, dataset.fingerprint),
            committed: try charges(db, dataset: dataset.fingerprint).map(\.committed))
    }

    /// Runs `record` in a write transaction if `adding` fits the data set's budget (or it has none),
    /// else throws ``BudgetExceeded`` and records nothing.
    ///
    /// The accountant (seconds for an event it has not seen) runs outside the write transaction, on
    /// a snapshot of the ledger read before; the transaction then re-reads the snapshot and records
    /// only if nothing changed, else the check starts over with the new ledger. So check-and-record
    /// is still atomic across processes, and one slow check does not hold SQLite's write lock while
    /// other generations checkpoint their tokens.
    func withBudgetCheck<T>(
        dataset reference: String, adding: [LedgerCharge], accountant: any PrivacyAccountant,
        record: (Database, DatasetRecord) throws -> T
    ) throws -> T {
        while true {
            let snapshot = try pool.read { try Self.ledgerSnapshot($0, reference) }
            try Self.checkBudget(snapshot, adding: adding, accountant: accountant)
            let result: T? = try pool.write { db in
                guard try Self.ledgerSnapshot(db, reference) == snapshot else { return nil }
                return try record(db, snapshot.dataset)
            }
            if let result { return result }
        }
    }

    package static func checkBudget(_ snapshot: LedgerSnapshot, adding: [LedgerCharge], accountant: any PrivacyAccountant) throws {
        let dataset = snapshot.dataset
        guard let budget = snapshot.budget else {
            for charge in adding where !accountant.supports(charge.event) {
                throw StoreError.unsupportedEvent(accountant: accountant.name, event: "\(charge.event)")
            }
            return
        }
        let labels = Set(dataset.labelCounts.keys)
        var known: [PrivacyEvent: Double] = [:]
        let charges = snapshot.committed
        let resulting = try LedgerAccounting.datasetEpsilon(charges + adding, labels: labels, accountant: accountant, delta: budget.delta, known: &known)
        if !(resulting <= budget.epsilon) {
            let committed = try LedgerAccounting.datasetEpsilon(charges, labels: labels, accountant: accountant, delta: budget.delta, known: &known)
            let asked = try LedgerAccounting.datasetEpsilon(adding, labels: labels, accountant: accountant, delta: budget.delta, known: &known)
            throw BudgetExceeded(
                dataset: dataset.publicID, datasetName: dataset.name, budgetEpsilon: budget.epsilon,
                delta: budget.delta, committedEpsilon: committed, remainingEpsilon: max(0, budget.epsilon - committed),
                askedEpsilon: asked, resultingEpsilon: resulting)
        }
    }

    /// Records the tokens released so far for one planned demonstration (all of them, not just the
    /// new ones). Call it before a token leaves the process: what is not checkpointed was not released.
    /// `finished` records that the demonstration stopped.
    public func checkpoint(_ reservation: Reservation, demonstration position: Int, released: [Token], finished: Bool) throws {
        try pool.write { db in try Self.checkpoint(db, reservation, position: position, released: released, finished: finished) }
    }

    /// ``checkpoint(_:demonstration:released:finished:)`` for async callers: the write (a synced
    /// SQLite commit per token) waits on GRDB's writer, not on a thread of Swift's cooperative pool.
    public func checkpoint(_ reservation: Reservation, demonstration position: Int, released: [Token], finished: Bool) async throws {
        try await pool.write { db in try Self.checkpoint(db, reservation, position: position, released: released, finished: finished) }
    }

    static func checkpoint(_ db: Database, _ reservation: Reservation, position: Int, released: [Token], finished: Bool) throws {
        try Self.requireOwnedRunning(db, reservation.id, operation: "checkpoint")
        let slot = try Row.fetchOne(
            db, sql: "SELECT maxTokens, releasedCount, finished FROM demonstration_slot WHERE generation = ? AND position = ?",
            arguments: [reservation.id, position]
        ).map { (maxTokens: $0["maxTokens"] as Int, releasedCount: $0["releasedCount"] as Int, finished: $0["finished"] as Bool) }
        try validateCheckpoint(slot, generation: reservation.id, position: position, count: released.count)
        try db.execute(sql: """
            UPDATE demonstration_slot SET releasedCount = ?, released = ?, finished = ? WHERE generation = ? AND position = ?
            """, arguments: [released.count, try JSONCoding.string(released), finished, reservation.id, position])
        try db.execute(sql: "UPDATE generation SET updated = ? WHERE id = ?", arguments: [Date(), reservation.id])
    }

    /// Turns the reservation into spending and stores the demonstration set (id = the generation id).
    /// Every started demonstration is charged its full planned tokens; one never started, nothing.
    @discardableResult
    public func complete(_ reservation: Reservation, demonstrations record: DemonstrationSetRecord) throws -> DemonstrationSetRecord {
        try pool.write { db in
            let generation = try Self.requireOwnedRunning(db, reservation.id, operation: "complete")
            try Self.chargeStartedDemonstrations(db, reservation.id)
            var stored = record.completed(
                by: reservation, slots: try Self.slots(db, generation: reservation.id), seededNoise: generation.seededNoise)
            try db.execute(sql: "INSERT INTO demonstration_set (id, dataset, created, record) VALUES (?, ?, ?, ?)",
                           arguments: [stored.id, stored.dataset, stored.created, try JSONCoding.string(stored)])
            try db.execute(sql: "UPDATE generation SET status = 'completed', updated = ? WHERE id = ?", arguments: [Date(), reservation.id])
            // Returned as every read returns it: named by the data set's public id, not its fingerprint.
            stored.dataset = datasetKey.publicID(fingerprint: stored.dataset)
            return stored
        }
    }

    /// Gives up a generation that is failed or run by this process (id or unique prefix): every started
    /// demonstration (finished or interrupted mid-way) stays charged in full, one never started is returned.
    @discardableResult
    public func abandon(generation reference: String) throws -> Reservation {
        try reapEndedGenerations()
        return try pool.write { db in
            let generation = try Self.fetchGeneration(db, reference)
            let id = generation.id
            try generation.permit("abandon", ours: generation.owner == OwnerProcess.current, failedToo: true)
            try Self.chargeStartedDemonstrations(db, id)
            try db.execute(sql: "UPDATE generation SET status = 'abandoned', updated = ? WHERE id = ?", arguments: [Date(), id])
            return generation.reservation
        }
    }

    /// Marks a generation of this process as failed (for example the LLM server went away). It keeps
    /// its reservation and can be resumed or abandoned later.
    public func markFailed(_ reservation: Reservation, reason: String) throws {
        try pool.write { db in
            try Self.requireOwnedRunning(db, reservation.id, operation: "mark failed")
            try db.execute(sql: "UPDATE generation SET status = 'failed', failureReason = ?, updated = ? WHERE id = ?",
                           arguments: [reason, Date(), reservation.id])
        }
    }

    /// Failed generations that can be resumed, oldest first; first marks as failed those whose process ended.
    public func resumable(dataset reference: String?) throws -> [ResumableGeneration] {
        try reapEndedGenerations()
        return try pool.read { db in
            let fingerprint = try reference.map { try Self.resolveDataset(db, $0).fingerprint }
            let ids = try String.fetchAll(db, sql: """
                SELECT id FROM generation WHERE status = 'failed' AND (? IS NULL OR dataset = ?) ORDER BY created
                """, arguments: [fingerprint, fingerprint])
            return try ids.map { try Self.resumableGeneration(db, $0) }
        }
    }

    /// Takes over a failed generation (id or unique prefix) for this process and returns its checkpointed state. The
    /// reservation already covers the rest of the plan: continue from `progress` without reserving again.
    /// `seededNoise` says whether this run uses seeded noise; once any run of a generation did, its
    /// set is recorded as not private (``ResumableGeneration/seededNoise`` and the stored set's `seeded`).
    public func resume(generation reference: String, seededNoise: Bool) throws -> ResumableGeneration {
        try reapEndedGenerations()
        return try pool.write { db in
            let generation = try Self.fetchGeneration(db, reference)
            let id = generation.id
            try generation.permitResume()
            let owner = OwnerProcess.current
            try db.execute(sql: """
                UPDATE generation SET status = 'running', ownerHost = ?, ownerPID = ?, ownerStart = ?, failureReason = '', updated = ?,
                    seededNoise = seededNoise OR ? WHERE id = ?
                """, arguments: [owner.host, owner.pid, owner.startTime, Date(), seededNoise, id])
            try db.execute(sql: "UPDATE generation_job SET cancelRequested = 0 WHERE generation = ?", arguments: [id])
            return try Self.resumableGeneration(db, id)
        }
    }

    /// The secret from which generation `id`'s partition subsamples are derived (32 bytes, made with
    /// its reservation). Generations reserved before it existed get one now (none of their
    /// demonstrations relied on it). Only the generator may use it; it is never shown or exported.
    public func subsampleKey(generation id: String) throws -> Data {
        try pool.write { db in
            if let key = try Data.fetchOne(db, sql: "SELECT subsampleKey FROM generation WHERE id = ?", arguments: [id]), key.count == 32 {
                return key
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM generation WHERE id = ?", arguments: [id]) != nil else {
                throw StoreError.unknownGeneration(id)
            }
            let key = Self.newSubsampleKey()
            try db.execute(sql: "UPDATE generation SET subsampleKey = ? WHERE id = ?", arguments: [key, id])
            return key
        }
    }

    /// What a data set has spent and reserved, composed by `accountant` at the budget's delta (else
    /// `delta`, else 1 / the released DP count of its examples, else 1e-5: never from the exact count).
    public func budgetStatus(dataset reference: String, accountant: any PrivacyAccountant, delta: Double?) throws -> BudgetStatus {
        try pool.read { db in
            let dataset = try Self.resolveDataset(db, reference)
            let budget = try Self.fetchBudget(db, dataset.fingerprint)
            let release = try Self.fetchLabelCountRelease(db, dataset.fingerprint)
            let charges = try Self.charges(db, dataset: dataset.fingerprint)
            let active = try Int.fetchOne(db, sql: "SELECT count(*) FROM generation WHERE dataset = ? AND status IN ('running', 'failed')",
                                          arguments: [dataset.fingerprint]) ?? 0
            return try Self.budgetStatus(
                dataset: dataset, budget: budget, release: release, charges: charges, activeGenerations: active,
                accountant: accountant, delta: delta)
        }
    }

    /// A data set's ``BudgetStatus`` from what the store read: its budget, label-count release, every
    /// charge (``charges(_:dataset:)``) and how many generations are running or failed.
    package static func budgetStatus(
        dataset: DatasetRecord, budget: PrivacyBudget?, release: LabelCountRelease?, charges: [SlotCharge], activeGenerations active: Int,
        accountant: any PrivacyAccountant, delta: Double?
    ) throws -> BudgetStatus {
        let releasedTotal = release.map { $0.counts.values.reduce(0, +) }
        let atDelta = budget?.delta ?? delta ?? releasedTotal.map { 1 / Double(max(2, $0)) } ?? 1e-5
        let labels = Set(dataset.labelCounts.keys)
        var known: [PrivacyEvent: Double] = [:]
        let spent = try LedgerAccounting.epsilonPerLabel(charges.map(\.spent), labels: labels, accountant: accountant, delta: atDelta, known: &known)
        let committed = try LedgerAccounting.epsilonPerLabel(charges.map(\.committed), labels: labels, accountant: accountant, delta: atDelta, known: &known)
        let perLabel = zip(spent, committed).map { LabelSpending(label: $0.label, spentEpsilon: $0.epsilon, committedEpsilon: $1.epsilon) }
        let committedEpsilon = committed.map(\.epsilon).max() ?? 0
        return BudgetStatus(
            dataset: dataset, releasedLabelCounts: release?.counts, budget: budget, delta: atDelta,
            spentEpsilon: spent.map(\.epsilon).max() ?? 0, committedEpsilon: committedEpsilon,
            remainingEpsilon: budget.map { max(0, $0.epsilon - committedEpsilon) },
            labels: perLabel, activeGenerations: active, accountant: accountant.name)
    }

    /// Marks as failed every running generation whose owning process has ended (same host, pid gone,
    /// a zombie, or the pid reused by a process with another start time). Called on open.
    func reapEndedGenerations() throws {
        try pool.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, ownerHost, ownerPID, ownerStart FROM generation WHERE status = 'running'")
            for row in rows {
                let owner = OwnerProcess(host: row["ownerHost"], pid: row["ownerPID"], startTime: row["ownerStart"])
                if owner.hasEnded {
                    try db.execute(sql: "UPDATE generation SET status = 'failed', failureReason = ?, updated = ? WHERE id = ?",
                                   arguments: ["process \(owner.pid) on \(owner.host) ended while generating", Date(), row["id"] as String])
                }
            }
        }
    }
}

extension FewShotStore {
    /// The generation whose id is `reference` or starts with it (at least 4 characters).
    static func fetchGeneration(_ db: Database, _ reference: String) throws -> GenerationRow {
        let rows = try Row.fetchAll(db, sql: """
            SELECT * FROM generation WHERE id = ? OR (length(?) >= 4 AND substr(id, 1, length(?)) = ?)
            """, arguments: [reference, reference, reference, reference.lowercased()])
        let row = try pickGeneration(rows, reference) { $0["id"] }
        return GenerationRow(
            id: row["id"], dataset: row["dataset"], status: row["status"],
            plan: try JSONCoding.decode(GenerationPlan.self, row["plan"]), accountant: row["accountant"],
            owner: OwnerProcess(host: row["ownerHost"], pid: row["ownerPID"], startTime: row["ownerStart"]),
            failureReason: row["failureReason"], created: row["created"], updated: row["updated"], seededNoise: row["seededNoise"])
    }

    /// The generation `id`, once it is checked to be running in this process.
    @discardableResult
    static func requireOwnedRunning(_ db: Database, _ id: String, operation: String) throws -> GenerationRow {
        let generation = try fetchGeneration(db, id)
        try generation.permit(operation, ours: generation.owner == OwnerProcess.current)
        return generation
    }

    /// Charges every started demonstration of generation `id` its full planned event, and one never
    /// started nothing (as ``SlotCharge`` reads `chargedTokens`), when the generation closes.
    static func chargeStartedDemonstrations(_ db: Database, _ id: String) throws {
        try db.execute(sql: """
            UPDATE demonstration_slot SET chargedTokens = CASE WHEN releasedCount > 0 OR finished THEN maxTokens ELSE 0 END
            WHERE generation = ?
            """, arguments: [id])
    }

    static func slots(_ db: Database, generation id: String) throws -> [SlotRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM demonstration_slot WHERE generation = ? ORDER BY position", arguments: [id]).map { row in
            SlotRow(
                label: row["label"],
                tokenEvent: try JSONCoding.decode(PrivacyEvent.self, row["tokenEvent"]),
                event: try (row["event"] as String?).map { try JSONCoding.decode(PrivacyEvent.self, $0) },
                maxTokens: row["maxTokens"], released: try JSONCoding.decode([Token].self, row["released"]),
                finished: row["finished"], chargedTokens: row["chargedTokens"])
        }
    }

    /// Every slot ever planned on the data set with its charge. Active generations (running or
    /// failed) still reserve their full plan; closed ones charge what was fixed when they closed.
    /// A slot with a per-demonstration event is charged all of it once started (a checkpointed token,
    /// or finished) and nothing before; an older slot is charged its token event per token.
    /// Every charge on a data set: its label-count release (once, to every label) and each planned
    /// demonstration of its generations.
    static func charges(_ db: Database, dataset fingerprint: String) throws -> [SlotCharge] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT s.generation, s.label, s.tokenEvent, s.event, s.maxTokens, s.releasedCount, s.finished, s.chargedTokens, s.exampleGroup
            FROM demonstration_slot s JOIN generation g ON g.id = s.generation
            WHERE g.dataset = ? ORDER BY g.created, s.generation, s.position
            """, arguments: [fingerprint])
        var events = StoredEventDecoder()
        let release = try labelCountCharge(db, fingerprint).map { [$0] } ?? []
        return try release + rows.map { row in
            try SlotCharge(
                generation: row["generation"], label: row["label"], group: row["exampleGroup"],
                event: (row["event"] as String?).map { try events.decode($0) }, tokenEvent: events.decode(row["tokenEvent"]),
                maxTokens: row["maxTokens"], releasedCount: row["releasedCount"], finished: row["finished"],
                chargedTokens: row["chargedTokens"])
        }
    }

    static func resumableGeneration(_ db: Database, _ id: String) throws -> ResumableGeneration {
        let generation = try fetchGeneration(db, id)
        let progress = try slots(db, generation: id).map(\.progress)
        return ResumableGeneration(
            reservation: generation.reservation,
            progress: progress, failureReason: generation.failureReason, updated: generation.updated, seededNoise: generation.seededNoise)
    }
}
