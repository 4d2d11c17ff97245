import DPAccounting
import FewShotCore

/// The generator settings a user may give; unset ones take the task's defaults. Shared by
/// `fewshot gen`, `fewshot eval` and generation jobs, so all three mean the same by each option,
/// and all three resolve `batches: auto` with the same ``BatchPlanner`` (``plannedSettings(for:labels:privacy:examplesPerLabel:)``).
public struct GeneratorOverrides: Sendable, Hashable, Codable {
    /// M: a number, or auto (the planner's choice); nil takes the task's default.
    public var batches: BatchCount?
    public var batchSize: Int?
    public var maxTokens: Int?
    /// T_answer of an extraction task (ignored for classification).
    public var answerMaxTokens: Int?
    public var mechanism: NoiseMechanism
    public var vocabulary: VocabularyMode?
    public var topK: Int?
    /// nil takes the task's default (partition unless the task file says otherwise).
    public var sampling: SamplingMode?
    public var subsample: SubsampleScheme
    public var accountant: AccountantChoice
    /// The automatic plan's compute limit for one generation, in minutes (default 15).
    public var computeLimitMinutes: Double?
    /// The LLM tokens per second the automatic plan assumes (default 175: SmolLM2 on 2 cores).
    public var llmTokensPerSecond: Double?
    /// The server time per request the automatic plan assumes (default 0.02 s: SmolLM2 on 2 cores).
    public var llmSecondsPerRequest: Double?
    /// The most tokens of one private example in a prompt (default: the task's `max_example_tokens`).
    public var maxExampleTokens: Int?

    public init(
        batches: BatchCount? = nil, batchSize: Int? = nil, maxTokens: Int? = nil, answerMaxTokens: Int? = nil, mechanism: NoiseMechanism = .gaussian,
        vocabulary: VocabularyMode? = nil, topK: Int? = nil, sampling: SamplingMode? = nil,
        subsample: SubsampleScheme = .poisson, accountant: AccountantChoice = .auto,
        computeLimitMinutes: Double? = nil, llmTokensPerSecond: Double? = nil, maxExampleTokens: Int? = nil,
        llmSecondsPerRequest: Double? = nil
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
        self.computeLimitMinutes = computeLimitMinutes
        self.llmTokensPerSecond = llmTokensPerSecond
        self.llmSecondsPerRequest = llmSecondsPerRequest
        self.maxExampleTokens = maxExampleTokens
    }

    enum CodingKeys: String, CodingKey {
        case batches, batchSize = "batch_size", maxTokens = "max_tokens", answerMaxTokens = "answer_max_tokens", mechanism, vocabulary, topK = "top_k"
        case sampling, subsample, accountant, computeLimitMinutes = "compute_limit_minutes", llmTokensPerSecond = "llm_tokens_per_second"
        case maxExampleTokens = "max_example_tokens", llmSecondsPerRequest = "llm_seconds_per_request"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batches = try c.decodeIfPresent(BatchCount.self, forKey: .batches)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        answerMaxTokens = try c.decodeIfPresent(Int.self, forKey: .answerMaxTokens)
        mechanism = try c.decodeIfPresent(NoiseMechanism.self, forKey: .mechanism) ?? .gaussian
        vocabulary = try c.decodeIfPresent(VocabularyMode.self, forKey: .vocabulary)
        topK = try c.decodeIfPresent(Int.self, forKey: .topK)
        sampling = try c.decodeIfPresent(SamplingMode.self, forKey: .sampling)
        subsample = try c.decodeIfPresent(SubsampleScheme.self, forKey: .subsample) ?? .poisson
        accountant = try c.decodeIfPresent(AccountantChoice.self, forKey: .accountant) ?? .auto
        computeLimitMinutes = try c.decodeIfPresent(Double.self, forKey: .computeLimitMinutes)
        llmTokensPerSecond = try c.decodeIfPresent(Double.self, forKey: .llmTokensPerSecond)
        maxExampleTokens = try c.decodeIfPresent(Int.self, forKey: .maxExampleTokens)
        llmSecondsPerRequest = try c.decodeIfPresent(Double.self, forKey: .llmSecondsPerRequest)
    }

    public func validate() throws {
        let counts: [(GenerationSetting, Int?)] = [
            (.batches, batches?.fixed), (.batchSize, batchSize), (.maxTokens, maxTokens), (.answerMaxTokens, answerMaxTokens),
            (.topK, topK), (.maxExampleTokens, maxExampleTokens),
        ]
        for case let (setting, value?) in counts {
            if let problem = setting.problem(with: value) { throw GenerationSpecError(field: setting.rawValue, problem: problem) }
        }
        for (name, value) in [("compute_limit_minutes", computeLimitMinutes), ("llm_tokens_per_second", llmTokensPerSecond)] {
            if let value, !(value > 0 && value.isFinite) { throw GenerationSpecError(field: name, problem: "must be positive, got \(value)") }
        }
        if let llmSecondsPerRequest, !(llmSecondsPerRequest >= 0 && llmSecondsPerRequest.isFinite) {
            throw GenerationSpecError(field: "llm_seconds_per_request", problem: "must be 0 or more, got \(llmSecondsPerRequest)")
        }
    }

    /// The automatic plan's estimator with the limits given here.
    public var planner: BatchPlanner {
        BatchPlanner(
            computeLimitSeconds: (computeLimitMinutes ?? BatchPlanner.defaultComputeLimitMinutes) * 60,
            tokensPerSecond: llmTokensPerSecond ?? BatchPlanner.defaultTokensPerSecond,
            secondsPerRequest: llmSecondsPerRequest ?? BatchPlanner.defaultSecondsPerRequest)
    }

    /// Whether M is left to the planner (given as auto, or not given and the task says auto).
    public func plansBatches(for task: TaskTemplate) -> Bool { (batches ?? task.defaults.batches) == .auto }

    /// The task's defaults with the settings given here and, when M is auto, the planner's M per
    /// label for data with `examplesPerLabel` (the plan is returned to be shown; nil when M was given).
    public func plannedSettings(
        for task: TaskTemplate, labels: [String], privacy: PrivacyLevel, examplesPerLabel: [String: Int], groups: Int = 1
    ) -> (settings: GenerationSettings, plan: BatchPlanner.Plan?) {
        var settings = self.settings(for: task, labels: labels, privacy: privacy)
        settings.groups = groups
        guard plansBatches(for: task) else { return (settings, nil) }
        let plan = planner.plan(task: task, settings: settings, examplesPerLabel: examplesPerLabel)
        return (settings.applying(plan), plan)
    }

    /// `base` (the task's defaults) with the settings given here.
    public func applied(to base: GenerationSettings) -> GenerationSettings {
        var settings = base
        settings.batches = batches?.fixed ?? settings.batches
        settings.batchSize = batchSize ?? settings.batchSize
        settings.maxExampleTokens = maxExampleTokens ?? settings.maxExampleTokens
        settings.maxTokens = maxTokens ?? settings.maxTokens
        if settings.answerMaxTokens != nil { settings.answerMaxTokens = answerMaxTokens ?? settings.answerMaxTokens }
        settings.mechanism = mechanism
        settings.vocabulary = vocabulary ?? settings.vocabulary
        settings.topK = topK ?? settings.topK
        settings.sampling = sampling ?? settings.sampling
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
