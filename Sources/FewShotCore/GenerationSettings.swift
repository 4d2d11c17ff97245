/// How private examples are chosen for each released token.
public enum SamplingMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// A fresh subsample of the label's examples for every token (the paper). Amplified by subsampling
    /// per token.
    case subsample
    /// One subsample per demonstration, split into M batches once and kept for all its tokens, so each
    /// request only adds one token to a prompt the server has cached. With the Poisson scheme the
    /// whole demonstration is one Poisson-subsampled mechanism (amplified once per demonstration,
    /// algorithm.md); with the without-replacement scheme no amplification is claimed.
    case partition
}

/// How a subsample is drawn; the accountant is told exactly this.
public enum SubsampleScheme: String, Sendable, Hashable, Codable, CaseIterable {
    /// Each example independently with probability q = M*N/|D_y| (add/remove adjacency; tight PLD accounting).
    case poisson
    /// Exactly M*N examples uniformly without replacement (replace-one adjacency; RDP accounting of
    /// Wang, Balle and Kasiviswanathan 2019).
    case withoutReplacement = "without-replacement"
}

/// Which noisy-argmax mechanism releases a token.
public enum NoiseMechanism: String, Sendable, Hashable, Codable, CaseIterable {
    /// Gaussian noise of standard deviation sigma * sqrt(2) / M on each candidate, then argmax.
    case gaussian
    /// Report-noisy-max with Gumbel noise (the exponential mechanism) on max-scaled distributions.
    case exponential
}

/// How much privacy the released tokens get.
public enum PrivacyLevel: Sendable, Hashable {
    /// Noisy argmax with this noise multiplier per label name (from the accountant's calibration).
    case noisy(noiseMultiplierByLabel: [String: Double])
    /// Epsilon = infinity: the argmax of the private aggregate with no noise. Not private.
    case noNoise
    /// Epsilon = 0: tokens come from the public prompt only; private data are not read.
    case publicOnly
}

/// Settings of one generation run. ``validate(examplesPerLabel:)`` refuses settings that cannot run.
public struct GenerationSettings: Sendable, Hashable {
    /// M: the number of disjoint private batches per step.
    public var batches: Int
    /// N: the (expected) number of examples per batch.
    public var batchSize: Int
    /// T: the most tokens released per demonstration (for an extraction task: per sentence, T_text).
    public var maxTokens: Int
    public var mechanism: NoiseMechanism
    public var vocabulary: VocabularyMode
    /// K: candidates from the public prompt (RVP) or from each private prompt (full).
    public var topK: Int
    public var sampling: SamplingMode
    public var subsampleScheme: SubsampleScheme
    public var privacy: PrivacyLevel
    /// Labels to generate a demonstration for, in order; a label may repeat for several shots. For
    /// an extraction task: one ``TaskTemplate/extractionGroup`` per shot.
    public var labels: [String]
    /// Extraction tasks only: T_answer, the most tokens of each demonstration's answer; nil for a
    /// classification task. Non-nil makes the run an extraction run.
    public var answerMaxTokens: Int?
    /// M per label where it differs from ``batches`` (the automatic plan gives small labels fewer
    /// batches). A label not listed uses ``batches``.
    public var batchesByLabel: [String: Int]
    /// The most tokens of one private example shown in a prompt: longer texts are cut there (a fixed
    /// map applied to each example alone, so the sensitivity is unchanged). nil: no limit.
    public var maxExampleTokens: Int?
    /// The label counts that q = M*N/|D_y| and the events use: the data set's DP estimate
    /// (``LabelCountRelease``), whose event every label's cost composes with. nil: the exact counts
    /// of the data and no release event (tests and experiments only; nothing published should come
    /// from such a run).
    public var labelCounts: LabelCountRelease?
    /// G: each label's examples are split into G disjoint groups (each example to a uniformly random
    /// group, fixed for the generation) and every group gets its own demonstrations. `labels` then
    /// lists group 0's demonstrations, then group 1's, and so on (``group(ofDemonstration:)``). One
    /// example reaches one group only, so the G groups compose in parallel: a pool of G sets costs
    /// what one set costs.
    public var groups: Int = 1

    public init(
        batches: Int, batchSize: Int, maxTokens: Int, mechanism: NoiseMechanism = .gaussian,
        vocabulary: VocabularyMode = .rvp, topK: Int = 100, sampling: SamplingMode = .subsample,
        subsampleScheme: SubsampleScheme = .poisson, privacy: PrivacyLevel, labels: [String], answerMaxTokens: Int? = nil,
        batchesByLabel: [String: Int] = [:], maxExampleTokens: Int? = nil
    ) {
        self.batches = batches
        self.batchSize = batchSize
        self.maxTokens = maxTokens
        self.mechanism = mechanism
        self.vocabulary = vocabulary
        self.topK = topK
        self.sampling = sampling
        self.subsampleScheme = subsampleScheme
        self.privacy = privacy
        self.labels = labels
        self.answerMaxTokens = answerMaxTokens
        self.batchesByLabel = batchesByLabel
        self.maxExampleTokens = maxExampleTokens
    }

    /// The task's defaults (the paper's settings) for `labels` at `privacy`; T_answer only for an
    /// extraction task.
    public init(defaultsOf task: TaskTemplate, labels: [String], privacy: PrivacyLevel) {
        let d = task.defaults
        self.init(
            batches: d.batches.fixed ?? 1, batchSize: d.batchSize, maxTokens: d.maxTokens, vocabulary: d.vocabulary, topK: d.topK,
            sampling: d.sampling, privacy: privacy, labels: labels, answerMaxTokens: task.kind == .extraction ? d.answerMaxTokens : nil,
            maxExampleTokens: d.maxExampleTokens)
    }

    /// The group that demonstration `index` reads (0 without groups).
    public func group(ofDemonstration index: Int) -> Int {
        groups <= 1 || labels.isEmpty ? 0 : index / max(1, labels.count / groups)
    }

    /// M for `label`'s demonstrations.
    public func batches(for label: String) -> Int { batchesByLabel[label] ?? batches }

    /// Examples one step needs from `label`: M_y * N.
    public func examplesPerStep(for label: String) -> Int { batches(for: label) * batchSize }

    /// The largest M of the labels generated for (how many server slots a partition run pins, minus
    /// the public prompt's).
    public var largestBatchCount: Int { Set(labels).map(batches(for:)).max() ?? batches }

    /// Whether a demonstration is one Poisson-subsampled mechanism (partition mode on a Poisson
    /// subsample drawn once per demonstration): the amplified accounting of algorithm.md.
    public var amplifiedOncePerDemonstration: Bool { sampling == .partition && subsampleScheme == .poisson }

    /// The tokens each demonstration is charged: T, or T_text + T_answer for an extraction run.
    public var tokensPerDemonstration: Int { maxTokens + (answerMaxTokens ?? 0) }

    public func validate(examplesPerLabel: [String: Int]) throws {
        guard batches >= 1 else { throw GenerationError.belowOne(.batches, symbol: "M", got: batches) }
        for (label, m) in batchesByLabel where m < 1 {
            throw GenerationError.invalidSetting("M for label '\(label)' must be at least 1, got \(m)")
        }
        if let maxExampleTokens, maxExampleTokens < 1 { throw GenerationError.belowOne(.maxExampleTokens, symbol: nil, got: maxExampleTokens) }
        guard batchSize >= 1 else { throw GenerationError.belowOne(.batchSize, symbol: "N", got: batchSize) }
        guard maxTokens >= 1 else { throw GenerationError.belowOne(.maxTokens, symbol: "T", got: maxTokens) }
        if let answerMaxTokens, answerMaxTokens < 1 { throw GenerationError.belowOne(.answerMaxTokens, symbol: "T_answer", got: answerMaxTokens) }
        guard topK >= 1 else { throw GenerationError.belowOne(.topK, symbol: nil, got: topK) }
        guard !labels.isEmpty else { throw GenerationError.invalidSetting("no label to generate a demonstration for") }
        guard groups >= 1 else { throw GenerationError.belowOne(.groups, symbol: nil, got: groups) }
        if groups > 1 {
            guard labels.count % groups == 0 else {
                throw GenerationError.invalidSetting("\(labels.count) demonstrations cannot be split evenly over \(groups) groups")
            }
            guard subsampleScheme == .poisson else {
                throw GenerationError.groupsNeedPoissonSampling
            }
        }
        if case .noisy(let sigmas) = privacy {
            for label in Set(labels) {
                guard let sigma = sigmas[label], sigma > 0, sigma.isFinite else {
                    throw GenerationError.invalidSetting("no positive noise multiplier for label '\(label)'")
                }
            }
        }
        if case .publicOnly = privacy { return }
        var checked = Set<String>()
        for label in labels where checked.insert(label).inserted {
            // A Poisson sample works on any non-empty label (q comes from the released count, which
            // may exceed the exact one); a sample without replacement needs M*N examples.
            let count = examplesPerLabel[label] ?? 0
            let needed = subsampleScheme == .poisson ? 1 : examplesPerStep(for: label)
            guard count >= needed else {
                throw GenerationError.tooFewExamples(label: label, available: count, needed: needed)
            }
        }
    }
}

/// Why a generation cannot run or stopped. Its description names settings as the job API does
/// (`batch_size`); a front end with other spellings shows ``description(naming:)``.
public enum GenerationError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidSetting(String)
    /// A count that must be at least 1 (with its symbol in the paper: M, N, T, T_answer).
    case belowOne(GenerationSetting, symbol: String?, got: Int)
    case groupsNeedPoissonSampling
    case tooFewExamples(label: String, available: Int, needed: Int)
    /// `vocabulary: full` on a backend that does not report its vocabulary.
    case fullVocabularyUnsupported
    case emptyCandidateSet(label: String)
    case singleExampleLabel(label: String)

    public var description: String { description(naming: \.rawValue) }

    /// The description with each setting named by `name` (the command line passes its option names).
    public func description(naming name: (GenerationSetting) -> String) -> String {
        switch self {
        case .invalidSetting(let message): return message
        case .belowOne(let setting, let symbol, let value):
            return "\(name(setting))\(symbol.map { " (\($0))" } ?? "") must be at least 1, got \(value)"
        case .groupsNeedPoissonSampling:
            return "\(name(.groups)) needs Poisson sampling: a group's size is random, so a fixed-size sample of it has no public size to account with"
        case .tooFewExamples(let label, _, let needed) where needed == 1:
            return label == TaskTemplate.extractionGroup
                ? "the data set has no private examples" : "label '\(label)' has no private examples; leave it out with \(name(.labels)), or add data"
        case .tooFewExamples(let label, let available, let needed):
            let shown = label == TaskTemplate.extractionGroup ? "the data set" : "label '\(label)'"
            return "\(shown) has \(available) private examples, but one step needs M*N = \(needed); lower \(name(.batches)) or \(name(.batchSize)), or add data"
        case .fullVocabularyUnsupported:
            return "\(name(.vocabulary)) full needs a backend that reports its vocabulary and token ids (llama.cpp native); use \(name(.vocabulary)) rvp"
        case .emptyCandidateSet(let label) where label == TaskTemplate.extractionGroup:
            return "the public prompt returned no candidate tokens"
        case .emptyCandidateSet(let label): return "the public prompt for label '\(label)' returned no candidate tokens"
        case .singleExampleLabel(let label):
            let shown = label == TaskTemplate.extractionGroup ? "the data set" : "label '\(label)'"
            return "\(shown) has a count of 1 (with Poisson sampling: its released DP count, which is noisy for small labels), so the default delta = 1/|D_y| = 1 would protect nothing; pass \(name(.delta)) (e.g. 1e-5), or leave the label out with \(name(.labels))"
        }
    }
}
