import DPAccounting
import FewShotCore

/// The generator settings a user may give; unset ones take the task's defaults (the paper's table).
/// Shared by `fewshot gen`, `fewshot eval` and generation jobs, so all three mean the same by each option.
public struct GeneratorOverrides: Sendable, Hashable, Codable {
    public var batches: Int?
    public var batchSize: Int?
    public var maxTokens: Int?
    /// T_answer of an extraction task (ignored for classification).
    public var answerMaxTokens: Int?
    public var mechanism: NoiseMechanism
    public var vocabulary: VocabularyMode?
    public var topK: Int?
    public var sampling: SamplingMode
    public var subsample: SubsampleScheme
    public var accountant: AccountantChoice

    public init(
        batches: Int? = nil, batchSize: Int? = nil, maxTokens: Int? = nil, answerMaxTokens: Int? = nil, mechanism: NoiseMechanism = .gaussian,
        vocabulary: VocabularyMode? = nil, topK: Int? = nil, sampling: SamplingMode = .subsample,
        subsample: SubsampleScheme = .poisson, accountant: AccountantChoice = .auto
    ) {
        self.batches = batches
        self.batchSize = batchSize
        self.maxTokens = maxTokens
        self.answerMaxTokens = answerMaxTokens
        self.mechanism = mechanism
        self.vocabulary = vocabulary
        self.topK = topK
        self.sampling = sampling
        self.subsample = subsample
        self.accountant = accountant
    }

    enum CodingKeys: String, CodingKey {
        case batches, batchSize = "batch_size", maxTokens = "max_tokens", answerMaxTokens = "answer_max_tokens", mechanism, vocabulary, topK = "top_k"
        case sampling, subsample, accountant
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batches = try c.decodeIfPresent(Int.self, forKey: .batches)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        answerMaxTokens = try c.decodeIfPresent(Int.self, forKey: .answerMaxTokens)
        mechanism = try c.decodeIfPresent(NoiseMechanism.self, forKey: .mechanism) ?? .gaussian
        vocabulary = try c.decodeIfPresent(VocabularyMode.self, forKey: .vocabulary)
        topK = try c.decodeIfPresent(Int.self, forKey: .topK)
        sampling = try c.decodeIfPresent(SamplingMode.self, forKey: .sampling) ?? .subsample
        subsample = try c.decodeIfPresent(SubsampleScheme.self, forKey: .subsample) ?? .poisson
        accountant = try c.decodeIfPresent(AccountantChoice.self, forKey: .accountant) ?? .auto
    }

    public func validate() throws {
        for (name, value) in [("batches", batches), ("batch_size", batchSize), ("max_tokens", maxTokens), ("answer_max_tokens", answerMaxTokens), ("top_k", topK)] {
            if let value, value < 1 { throw GenerationSpecError(field: name, problem: "must be at least 1, got \(value)") }
        }
    }

    /// `base` (the task's defaults) with the settings given here.
    public func applied(to base: GenerationSettings) -> GenerationSettings {
        var settings = base
        settings.batches = batches ?? settings.batches
        settings.batchSize = batchSize ?? settings.batchSize
        settings.maxTokens = maxTokens ?? settings.maxTokens
        if settings.answerMaxTokens != nil { settings.answerMaxTokens = answerMaxTokens ?? settings.answerMaxTokens }
        settings.mechanism = mechanism
        settings.vocabulary = vocabulary ?? settings.vocabulary
        settings.topK = topK ?? settings.topK
        settings.sampling = sampling
        settings.subsampleScheme = subsample
        return settings
    }

    /// The task's defaults with the settings given here, for `labels` at `privacy`.
    public func settings(for task: TaskTemplate, labels: [String], privacy: PrivacyLevel) -> GenerationSettings {
        applied(to: GenerationSettings(defaultsOf: task, labels: labels, privacy: privacy))
    }
}

/// Which accountant turns events into epsilon: `auto` (PLD where it applies, else RDP), `pld` or `rdp`.
public enum AccountantChoice: String, Sendable, Hashable, Codable, CaseIterable {
    case auto, pld, rdp

    public var accountant: any PrivacyAccountant {
        switch self {
        case .auto: DefaultAccountant()
        case .pld: PLDAccountant()
        case .rdp: RDPAccountant()
        }
    }
}

extension PrivacyAccountant {
    /// The name of the accountant that answers for `event` (PLD or RDP behind the default one).
    public func answering(for event: PrivacyEvent) -> String {
        (self as? DefaultAccountant)?.accountant(for: event).name ?? name
    }
}
