import DPAccounting
import FewShotCore
import Foundation

/// A stored set of synthetic demonstrations with everything needed to audit its privacy claim:
/// the parameters it was generated with and the privacy events it was charged. Its texts are DP
/// output (or, when ``seeded`` is true, reproducible output that is NOT private).
public struct DemonstrationSetRecord: Sendable, Hashable, Codable {
    /// One synthetic demonstration: generated text and the label it was generated for (nil for an
    /// extraction task, whose demonstrations carry the generated `answer` instead).
    public struct Demonstration: Sendable, Hashable, Codable {
        public var label: String?
        public var text: String
        public var answer: String?

        public init(label: String?, text: String, answer: String? = nil) {
            self.label = label
            self.text = text
            self.answer = answer
        }
    }

    /// Set by the store on ``FewShotStore/complete(_:demonstrations:)`` to the generation id.
    public var id: String
    /// The data set: its public id (``DatasetRecord/publicID``) in every record the store returns from
    /// its listings; the store keeps the content fingerprint internally.
    public var dataset: String
    public var task: String
    public var labels: [String]
    public var demonstrations: [Demonstration]
    public var epsilon: Double
    public var delta: Double
    public var sigma: Double
    public var mechanism: NoiseMechanism
    public var sampling: SetSampling
    /// Number of private batches (M), examples per batch (N), most tokens per demonstration (T).
    public var batches: Int
    public var examplesPerBatch: Int
    public var maxTokens: Int
    public var model: String
    public var created: Date
    /// The events charged for this set; set by the store on completion from the plan.
    public var events: [PrivacyEvent]
    public var accountant: String
    /// True when noise came from a seeded generator: reproducible, and then not private.
    public var seeded: Bool

    /// Whether the set carries the (epsilon, delta)-DP guarantee it was charged for. False when its noise
    /// was seeded, and when its epsilon is not finite (`--epsilon inf`: no noise at all, so a text can
    /// copy a private example). Only private sets may be served (see `fewshot serve`).
    public var isPrivate: Bool { nonPrivateReason == nil }

    /// Why the set is not private, in words for an error or a listing; nil when it is private.
    public var nonPrivateReason: String? {
        if seeded { return "was generated with seeded noise (--seed): reproducible, NOT private" }
        if !epsilon.isFinite { return "was generated without noise (epsilon = \(EpsilonText.format(epsilon))): NOT private" }
        return nil
    }

    public init(
        id: String = "", dataset: String = "", task: String, labels: [String], demonstrations: [Demonstration],
        epsilon: Double, delta: Double, sigma: Double, mechanism: NoiseMechanism, sampling: SetSampling,
        batches: Int, examplesPerBatch: Int, maxTokens: Int, model: String, created: Date = Date(),
        events: [PrivacyEvent] = [], accountant: String = "", seeded: Bool
    ) {
        self.id = id
        self.dataset = dataset
        self.task = task
        self.labels = labels
        self.demonstrations = demonstrations
        self.epsilon = epsilon
        self.delta = delta
        self.sigma = sigma
        self.mechanism = mechanism
        self.sampling = sampling
        self.batches = batches
        self.examplesPerBatch = examplesPerBatch
        self.maxTokens = maxTokens
        self.model = model
        self.created = created
        self.events = events
        self.accountant = accountant
        self.seeded = seeded
    }
}
