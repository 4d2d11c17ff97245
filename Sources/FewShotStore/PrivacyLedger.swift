import DPAccounting
import FewShotCore
import Foundation
import GRDB

/// The privacy-budget ledger: reservations, checkpoints, completion and abandonment of generations.
///
/// Guarantees (each operation is one IMMEDIATE transaction, so concurrent callers in any process
/// are serialized):
/// - ``reserve(dataset:plan:accountant:)`` records the full planned cost before any token may be
///   released, and refuses (recording nothing) when spent + reserved + planned would exceed the budget.
/// - Spending is always recomputed by the accountant from stored events; epsilons are never added.
/// - A started demonstration is charged its full planned tokens on completion; on abandonment a
///   demonstration interrupted mid-way is charged the tokens it checkpointed, one never started nothing.
/// - Nothing returns budget except abandoning the unreleased part of a reservation; deleting
///   demonstration sets never does.
extension FewShotStore {
    /// Reserves the planned cost of a generation on a data set, atomically against the budget.
    /// Throws ``BudgetExceeded`` (recording nothing) if it does not fit. Without a budget the
    /// reservation is recorded and never refused. `job` (a server job's request, no private text) is
    /// stored in the same transaction; see ``generationJobs()``.
    public func reserve(dataset reference: String, plan: GenerationPlan, accountant: any PrivacyAccountant, job: String? = nil) throws -> Reservation {
        try plan.validate()
        let planCharges = plan.demonstrations.map { LedgerCharge(label: $0.label, tokenEvent: $0.tokenEvent, tokens: $0.maxTokens) }
        return try pool.write { db in
            let dataset = try Self.resolveDataset(db, reference)
            let labels = Set(dataset.labelCounts.keys)
            if let budget = try Self.fetchBudget(db, dataset.fingerprint) {
                let charges = try Self.charges(db, dataset: dataset.fingerprint).map(\.committed)
                var known: [PrivacyEvent: Double] = [:]
                let resulting = try LedgerAccounting.datasetEpsilon(charges + planCharges, labels: labels, accountant: accountant, delta: budget.delta, known: &known)
                if !(resulting <= budget.epsilon) {
                    let committed = try LedgerAccounting.datasetEpsilon(charges, labels: labels, accountant: accountant, delta: budget.delta, known: &known)
                    let asked = try LedgerAccounting.datasetEpsilon(planCharges, labels: labels, accountant: accountant, delta: budget.delta, known: &known)
                    throw BudgetExceeded(
                        dataset: dataset.publicID, datasetName: dataset.name, budgetEpsilon: budget.epsilon,
                        delta: budget.delta, committedEpsilon: committed, remainingEpsilon: max(0, budget.epsilon - committed),
                        askedEpsilon: asked, resultingEpsilon: resulting)
                }
            } else {
                for charge in planCharges {
                    let event = PrivacyEvent.selfComposed(event: charge.tokenEvent, count: charge.tokens)
                    guard accountant.supports(event) else {
                        throw StoreError.unsupportedEvent(accountant: accountant.name, event: "\(event)")
                    }
                }
            }
            let reservation = Reservation(id: Self.newID(), dataset: dataset.fingerprint, plan: plan, accountant: accountant.name, created: Date())
            let owner = OwnerProcess.current
            try db.execute(sql: """
                INSERT INTO generation (id, dataset, status, plan, accountant, ownerHost, ownerPID, ownerStart, created, updated)
                VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [reservation.id, dataset.fingerprint, try JSONCoding.string(plan), accountant.name,
                                 owner.host, owner.pid, owner.startTime, reservation.created, reservation.created])
            for (position, demonstration) in plan.demonstrations.enumerated() {
                try db.execute(sql: """
                    INSERT INTO demonstration_slot (generation, position, label, tokenEvent, maxTokens) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [reservation.id, position, demonstration.label,
                                     try JSONCoding.string(demonstration.tokenEvent), demonstration.maxTokens])
            }
            if let job {
                try db.execute(sql: "INSERT INTO generation_job (generation, request) VALUES (?, ?)", arguments: [reservation.id, job])
            }
            return reservation
        }
    }

    /// Records the tokens released so far for one planned demonstration (all of them, not just the
    /// new ones). Call it before a token leaves the process: what is not checkpointed was not released.
    /// `finished` records that the demonstration stopped.
    public func checkpoint(_ reservation: Reservation, demonstration position: Int, released: [Token], finished: Bool) throws {
        try pool.write { db in
            try Self.requireOwnedRunning(db, reservation.id, operation: "checkpoint")
            guard let row = try Row.fetchOne(db, sql: "SELECT maxTokens, releasedCount, finished FROM demonstration_slot WHERE generation = ? AND position = ?",
                                             arguments: [reservation.id, position]) else {
                throw StoreError.invalidCheckpoint("generation \(reservation.id) has no demonstration \(position)")
            }
            let maxTokens: Int = row["maxTokens"]
            let releasedCount: Int = row["releasedCount"]
            let wasFinished: Bool = row["finished"]
            guard !wasFinished else {
                throw StoreError.invalidCheckpoint("demonstration \(position) of generation \(reservation.id) already finished")
            }
            guard released.count >= releasedCount else {
                throw StoreError.invalidCheckpoint("demonstration \(position) already released \(releasedCount) tokens; a checkpoint of \(released.count) would take some back")
            }
            guard released.count <= maxTokens else {
                throw StoreError.invalidCheckpoint("demonstration \(position) planned at most \(maxTokens) tokens, got \(released.count)")
            }
            try db.execute(sql: """
                UPDATE demonstration_slot SET releasedCount = ?, released = ?, finished = ? WHERE generation = ? AND position = ?
                """, arguments: [released.count, try JSONCoding.string(released), finished, reservation.id, position])
            try db.execute(sql: "UPDATE generation SET updated = ? WHERE id = ?", arguments: [Date(), reservation.id])
        }
    }

    /// Turns the reservation into spending and stores the demonstration set (id = the generation id).
    /// Every started demonstration is charged its full planned tokens; one never started, nothing.
    @discardableResult
    public func complete(_ reservation: Reservation, demonstrations record: DemonstrationSetRecord) throws -> DemonstrationSetRecord {
        try pool.write { db in
            try Self.requireOwnedRunning(db, reservation.id, operation: "complete")
            try db.execute(sql: """
                UPDATE demonstration_slot SET chargedTokens = CASE WHEN releasedCount > 0 OR finished THEN maxTokens ELSE 0 END
                WHERE generation = ?
                """, arguments: [reservation.id])
            var stored = record
            stored.id = reservation.id
            stored.dataset = reservation.dataset
            stored.accountant = reservation.accountant
            stored.events = try Self.slots(db, generation: reservation.id).compactMap { slot in
                guard let charged = slot.chargedTokens, charged > 0 else { return nil }
                return PrivacyEvent.selfComposed(event: slot.tokenEvent, count: charged)
            }
            try db.execute(sql: "INSERT INTO demonstration_set (id, dataset, created, record) VALUES (?, ?, ?, ?)",
                           arguments: [stored.id, stored.dataset, stored.created, try JSONCoding.string(stored)])
            try db.execute(sql: "UPDATE generation SET status = 'completed', updated = ? WHERE id = ?", arguments: [Date(), reservation.id])
            return stored
        }
    }

    /// Gives up a generation that is failed or run by this process: finished demonstrations stay
    /// charged in full, an interrupted one is charged the tokens it released, the rest is returned.
    public func abandon(_ reservation: Reservation) throws {
        _ = try abandon(generation: reservation.id)
    }

    /// ``abandon(_:)`` by generation id or a unique prefix of it (for commands acting on a failed generation).
    @discardableResult
    public func abandon(generation reference: String) throws -> Reservation {
        try reapEndedGenerations()
        return try pool.write { db in
            let generation = try Self.fetchGeneration(db, reference)
            let id = generation.id
            switch generation.status {
            case "failed": break
            case "running":
                guard generation.owner == OwnerProcess.current else {
                    throw StoreError.generationOwnedByLiveProcess(id: id, host: generation.owner.host, pid: generation.owner.pid)
                }
            default:
                throw StoreError.generationNotActive(id: id, status: generation.status, operation: "abandon")
            }
            try db.execute(sql: """
                UPDATE demonstration_slot SET chargedTokens = CASE WHEN finished THEN maxTokens ELSE releasedCount END
                WHERE generation = ?
                """, arguments: [id])
            try db.execute(sql: "UPDATE generation SET status = 'abandoned', updated = ? WHERE id = ?", arguments: [Date(), id])
            return Reservation(id: id, dataset: generation.dataset, plan: generation.plan, accountant: generation.accountant, created: generation.created)
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
    public func resumable(dataset reference: String? = nil) throws -> [ResumableGeneration] {
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
    public func resume(generation reference: String) throws -> ResumableGeneration {
        try reapEndedGenerations()
        return try pool.write { db in
            let generation = try Self.fetchGeneration(db, reference)
            let id = generation.id
            guard generation.status == "failed" else {
                if generation.status == "running" {
                    throw StoreError.generationOwnedByLiveProcess(id: id, host: generation.owner.host, pid: generation.owner.pid)
                }
                throw StoreError.generationNotActive(id: id, status: generation.status, operation: "resume")
            }
            let owner = OwnerProcess.current
            try db.execute(sql: """
                UPDATE generation SET status = 'running', ownerHost = ?, ownerPID = ?, ownerStart = ?, failureReason = '', updated = ? WHERE id = ?
                """, arguments: [owner.host, owner.pid, owner.startTime, Date(), id])
            return try Self.resumableGeneration(db, id)
        }
    }

    /// What a data set has spent and reserved, composed by `accountant` at the budget's delta (else
    /// `delta`, else 1 / number of examples).
    public func budgetStatus(dataset reference: String, accountant: any PrivacyAccountant, delta: Double? = nil) throws -> BudgetStatus {
        try pool.read { db in
            let dataset = try Self.resolveDataset(db, reference)
            let budget = try Self.fetchBudget(db, dataset.fingerprint)
            let atDelta = budget?.delta ?? delta ?? (dataset.exampleCount > 0 ? 1 / Double(dataset.exampleCount) : 1e-5)
            let charges = try Self.charges(db, dataset: dataset.fingerprint)
            let labels = Set(dataset.labelCounts.keys)
            var known: [PrivacyEvent: Double] = [:]
            let spent = try LedgerAccounting.epsilonPerLabel(charges.map(\.spent), labels: labels, accountant: accountant, delta: atDelta, known: &known)
            let committed = try LedgerAccounting.epsilonPerLabel(charges.map(\.committed), labels: labels, accountant: accountant, delta: atDelta, known: &known)
            let perLabel = zip(spent, committed).map { LabelSpending(label: $0.label, spentEpsilon: $0.epsilon, committedEpsilon: $1.epsilon) }
            let committedEpsilon = committed.map(\.epsilon).max() ?? 0
            let active = try Int.fetchOne(db, sql: "SELECT count(*) FROM generation WHERE dataset = ? AND status IN ('running', 'failed')",
                                          arguments: [dataset.fingerprint]) ?? 0
            return BudgetStatus(
                dataset: dataset, budget: budget, delta: atDelta,
                spentEpsilon: spent.map(\.epsilon).max() ?? 0, committedEpsilon: committedEpsilon,
                remainingEpsilon: budget.map { max(0, $0.epsilon - committedEpsilon) },
                labels: perLabel, activeGenerations: active, accountant: accountant.name)
        }
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

// MARK: - Rows

struct GenerationRow {
    var id: String
    var dataset: String
    var status: String
    var plan: GenerationPlan
    var accountant: String
    var owner: OwnerProcess
    var failureReason: String
    var created: Date
    var updated: Date
}

struct SlotRow {
    var position: Int
    var label: String?
    var tokenEvent: PrivacyEvent
    var maxTokens: Int
    var released: [Token]
    var releasedCount: Int
    var finished: Bool
    var chargedTokens: Int?
}

/// A slot's charge two ways: what is irrevocably spent, and spent plus still reserved.
struct SlotCharge {
    var spent: LedgerCharge
    var committed: LedgerCharge
}

extension FewShotStore {
    /// The generation whose id is `reference` or starts with it (at least 4 characters).
    static func fetchGeneration(_ db: Database, _ reference: String) throws -> GenerationRow {
        let rows = try Row.fetchAll(db, sql: """
            SELECT * FROM generation WHERE id = ? OR (length(?) >= 4 AND substr(id, 1, length(?)) = ?)
            """, arguments: [reference, reference, reference, reference.lowercased()])
        let row: Row
        if let exact = rows.first(where: { $0["id"] == reference }) {
            row = exact
        } else if rows.count == 1 {
            row = rows[0]
        } else if rows.isEmpty {
            throw StoreError.unknownGeneration(reference)
        } else {
            throw StoreError.unknownGeneration("\(reference) (ambiguous: \(rows.count) generations start with it)")
        }
        return GenerationRow(
            id: row["id"], dataset: row["dataset"], status: row["status"],
            plan: try JSONCoding.decode(GenerationPlan.self, row["plan"]), accountant: row["accountant"],
            owner: OwnerProcess(host: row["ownerHost"], pid: row["ownerPID"], startTime: row["ownerStart"]),
            failureReason: row["failureReason"], created: row["created"], updated: row["updated"])
    }

    static func requireOwnedRunning(_ db: Database, _ id: String, operation: String) throws {
        let generation = try fetchGeneration(db, id)
        guard generation.status == "running" else {
            throw StoreError.generationNotActive(id: id, status: generation.status, operation: operation)
        }
        guard generation.owner == OwnerProcess.current else {
            throw StoreError.generationOwnedByLiveProcess(id: id, host: generation.owner.host, pid: generation.owner.pid)
        }
    }

    static func slots(_ db: Database, generation id: String) throws -> [SlotRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM demonstration_slot WHERE generation = ? ORDER BY position", arguments: [id]).map { row in
            SlotRow(
                position: row["position"], label: row["label"],
                tokenEvent: try JSONCoding.decode(PrivacyEvent.self, row["tokenEvent"]),
                maxTokens: row["maxTokens"], released: try JSONCoding.decode([Token].self, row["released"]),
                releasedCount: row["releasedCount"], finished: row["finished"], chargedTokens: row["chargedTokens"])
        }
    }

    /// Every slot ever planned on the data set with its charge. Active generations (running or
    /// failed) still reserve their full plan; closed ones charge what was fixed when they closed.
    static func charges(_ db: Database, dataset fingerprint: String) throws -> [SlotCharge] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT s.label, s.tokenEvent, s.maxTokens, s.releasedCount, s.finished, s.chargedTokens
            FROM demonstration_slot s JOIN generation g ON g.id = s.generation
            WHERE g.dataset = ? ORDER BY g.created, s.generation, s.position
            """, arguments: [fingerprint])
        var decoded: [String: PrivacyEvent] = [:]
        return try rows.map { row in
            let eventText: String = row["tokenEvent"]
            let event: PrivacyEvent
            if let known = decoded[eventText] {
                event = known
            } else {
                event = try JSONCoding.decode(PrivacyEvent.self, eventText)
                decoded[eventText] = event
            }
            let maxTokens: Int = row["maxTokens"]
            let finished: Bool = row["finished"]
            let releasedCount: Int = row["releasedCount"]
            let chargedTokens: Int? = row["chargedTokens"]
            let label: String? = row["label"]
            return SlotCharge(
                spent: LedgerCharge(label: label, tokenEvent: event, tokens: chargedTokens ?? (finished ? maxTokens : releasedCount)),
                committed: LedgerCharge(label: label, tokenEvent: event, tokens: chargedTokens ?? maxTokens))
        }
    }

    static func resumableGeneration(_ db: Database, _ id: String) throws -> ResumableGeneration {
        let generation = try fetchGeneration(db, id)
        let progress = try slots(db, generation: id).map {
            DemonstrationProgress(label: $0.label, maxTokens: $0.maxTokens, released: $0.released, finished: $0.finished)
        }
        return ResumableGeneration(
            reservation: Reservation(id: id, dataset: generation.dataset, plan: generation.plan, accountant: generation.accountant, created: generation.created),
            progress: progress, failureReason: generation.failureReason, updated: generation.updated)
    }
}
