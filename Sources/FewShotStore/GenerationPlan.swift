import DPAccounting
import FewShotCore
import Foundation

/// What a generation intends to release, written down before any token is released: one entry per
/// synthetic demonstration, each with the privacy event of one released token, the most tokens it
/// may release and its whole planned event (``PlannedDemonstration/plannedEvent``).
///
/// A started demonstration is charged its full planned event even if it stops early, because where it
/// stops depends on the released output.
public struct GenerationPlan: Sendable, Hashable, Codable {
    /// One planned synthetic demonstration: the label whose private examples it reads (nil when the
    /// task has no labels: then it reads, and is charged to, every part of the data set), the event of
    /// one released token, and the most tokens it may release (T).
    public typealias Demonstration = PlannedDemonstration

    public var demonstrations: [Demonstration]
    /// Free-form description shown when listing resumable generations (task name, model). Not private.
    public var summary: String

    public init(demonstrations: [Demonstration], summary: String = "") {
        self.demonstrations = demonstrations
        self.summary = summary
    }

    package func validate() throws {
        guard !demonstrations.isEmpty else { throw StoreError.invalidPlan("no demonstrations planned") }
        for (i, d) in demonstrations.enumerated() where d.maxTokens < 1 {
            throw StoreError.invalidPlan("demonstration \(i) plans \(d.maxTokens) tokens; at least 1 is needed")
        }
    }
}

/// A recorded reservation: the generation's id and its plan. Pass it to ``FewShotStore/checkpoint(_:demonstration:released:finished:)``,
/// ``FewShotStore/complete(_:demonstrations:)`` or ``FewShotStore/abandon(_:)``.
public struct Reservation: Sendable, Hashable, Codable {
    /// The generation id (a UUID string); also the id of the demonstration set it completes into.
    public var id: String
    public var dataset: String
    public var plan: GenerationPlan
    public var accountant: String
    public var created: Date

    package init(id: String, dataset: String, plan: GenerationPlan, accountant: String, created: Date) {
        self.id = id
        self.dataset = dataset
        self.plan = plan
        self.accountant = accountant
        self.created = created
    }
}

/// Released tokens of one planned demonstration, as checkpointed. They are DP output, not private.
public struct DemonstrationProgress: Sendable, Hashable, Codable {
    public var label: String?
    public var maxTokens: Int
    public var released: [Token]
    /// True once the generator recorded that this demonstration stopped.
    public var finished: Bool

    package init(label: String?, maxTokens: Int, released: [Token], finished: Bool) {
        self.label = label
        self.maxTokens = maxTokens
        self.released = released
        self.finished = finished
    }

    public var releasedText: String { String(decoding: released.flatMap(\.bytes), as: UTF8.self) }
}

/// A generation that stopped without completing (its process died, or it was marked failed). Its
/// reservation still holds: resuming continues from the checkpoints without paying again.
public struct ResumableGeneration: Sendable, Hashable {
    public var reservation: Reservation
    public var progress: [DemonstrationProgress]
    public var failureReason: String
    public var updated: Date
    /// Whether any run of the generation used seeded noise: then its set is not private.
    public var seededNoise: Bool = false

    package init(reservation: Reservation, progress: [DemonstrationProgress], failureReason: String, updated: Date, seededNoise: Bool) {
        self.reservation = reservation
        self.progress = progress
        self.failureReason = failureReason
        self.updated = updated
        self.seededNoise = seededNoise
    }
}

extension GenerationPlan {
    /// The plan of a run of the core generator: one demonstration per entry of `settings.labels`,
    /// each with the token event and the tokens ``PrivacyPlan/plannedDemonstrations()`` derives from
    /// the settings (T, or T_text + T_answer without a label for an extraction run; `.noOp` for
    /// public-only runs, `.nonPrivate` for runs without noise).
    public init(_ privacyPlan: PrivacyPlan, summary: String = "") {
        self.init(demonstrations: privacyPlan.plannedDemonstrations(), summary: summary)
    }
}
