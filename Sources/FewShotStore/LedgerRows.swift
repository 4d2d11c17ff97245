import DPAccounting
import FewShotCore
import Foundation

/// A generation's row as either store reads it.
package struct GenerationRow: Sendable {
    package var id: String
    package var dataset: String
    package var status: GenerationStatus
    package var plan: GenerationPlan
    package var accountant: String
    package var owner: OwnerProcess
    /// The owning process's store instance (PostgreSQL's fencing token); nil on SQLite, where the
    /// owner's pid and start time identify it.
    package var ownerToken: String?
    package var failureReason: String
    package var created: Date
    package var updated: Date
    /// Whether any run of the generation used seeded noise (its set is then recorded as not private).
    package var seededNoise: Bool

    package init(
        id: String, dataset: String, status: GenerationStatus, plan: GenerationPlan, accountant: String, owner: OwnerProcess,
        ownerToken: String? = nil, failureReason: String, created: Date, updated: Date, seededNoise: Bool
    ) {
        self.id = id
        self.dataset = dataset
        self.status = status
        self.plan = plan
        self.accountant = accountant
        self.owner = owner
        self.ownerToken = ownerToken
        self.failureReason = failureReason
        self.created = created
        self.updated = updated
        self.seededNoise = seededNoise
    }

    package var reservation: Reservation {
        Reservation(id: id, dataset: dataset, plan: plan, accountant: accountant, created: created)
    }
}

extension DemonstrationSetRecord {
    /// The record a completed generation stores, the same in both backends: named by its reservation,
    /// with the events its started demonstrations were charged, and marked seeded if its noise was.
    package func completed(by reservation: Reservation, slots: [SlotRow], seededNoise: Bool) -> DemonstrationSetRecord {
        var stored = self
        stored.id = reservation.id
        stored.dataset = reservation.dataset
        stored.accountant = reservation.accountant
        stored.events = slots.compactMap(\.chargedEvent)
        if seededNoise { stored.seeded = true }
        return stored
    }
}

/// A planned demonstration's row as both backends read it back.
package struct SlotRow: Sendable {
    package var label: String?
    package var tokenEvent: PrivacyEvent
    /// The demonstration's whole planned event (nil for slots recorded before per-demonstration events).
    package var event: PrivacyEvent?
    package var maxTokens: Int
    package var released: [Token]
    package var finished: Bool
    /// What the slot was charged when its generation closed (nil while it is active).
    package var chargedTokens: Int?

    package init(
        label: String?, tokenEvent: PrivacyEvent, event: PrivacyEvent?, maxTokens: Int, released: [Token], finished: Bool, chargedTokens: Int?
    ) {
        self.label = label
        self.tokenEvent = tokenEvent
        self.event = event
        self.maxTokens = maxTokens
        self.released = released
        self.finished = finished
        self.chargedTokens = chargedTokens
    }

    /// The event a completed set records for this slot: its whole planned event (or, for an older
    /// slot, its token event per charged token); nil when it was charged nothing.
    package var chargedEvent: PrivacyEvent? {
        guard let chargedTokens, chargedTokens > 0 else { return nil }
        return event ?? .selfComposed(event: tokenEvent, count: chargedTokens)
    }

    /// Where a resumed generation picks the demonstration up.
    package var progress: DemonstrationProgress {
        DemonstrationProgress(label: label, maxTokens: maxTokens, released: released, finished: finished)
    }
}

/// A slot's charge two ways: what is irrevocably spent, and spent plus still reserved.
package struct SlotCharge: Sendable {
    package var spent: LedgerCharge
    package var committed: LedgerCharge

    init(spent: LedgerCharge, committed: LedgerCharge) {
        self.spent = spent
        self.committed = committed
    }

    /// The charge of one planned demonstration slot as stored (see ``FewShotStore/charges(_:dataset:)``).
    /// A slot with a per-demonstration `event` is charged all of it once started (a checkpointed token,
    /// or finished) and nothing before; an older slot is charged its token event per token.
    package init(
        generation: String, label: String?, group: Int?, event: PrivacyEvent?, tokenEvent: PrivacyEvent,
        maxTokens: Int, releasedCount: Int, finished: Bool, chargedTokens: Int?
    ) {
        if let event {
            let started = releasedCount > 0 || finished
            let spent = chargedTokens.map { $0 > 0 } ?? started
            let committed = chargedTokens.map { $0 > 0 } ?? true
            self.init(
                spent: LedgerCharge(label: label, event: event, count: spent ? 1 : 0, generation: generation, group: group),
                committed: LedgerCharge(label: label, event: event, count: committed ? 1 : 0, generation: generation, group: group))
        } else {
            self.init(
                spent: LedgerCharge(label: label, event: tokenEvent, count: chargedTokens ?? (finished ? maxTokens : releasedCount)),
                committed: LedgerCharge(label: label, event: tokenEvent, count: chargedTokens ?? maxTokens))
        }
    }

    /// The charge of a data set's label-count release: once, to every label.
    package init(labelCountRelease release: LabelCountRelease) {
        let charge = LedgerCharge.labelCountRelease(noiseMultiplier: release.noiseMultiplier)
        self.init(spent: charge, committed: charge)
    }
}

/// Decodes stored privacy events, each distinct JSON text once: a data set's slots repeat a few
/// events many times, and both backends read them all for every budget check.
package struct StoredEventDecoder {
    private var known: [String: PrivacyEvent] = [:]

    package init() {}

    package mutating func decode(_ text: String) throws -> PrivacyEvent {
        if let event = known[text] { return event }
        let event = try JSONCoding.decode(PrivacyEvent.self, text)
        known[text] = event
        return event
    }
}
