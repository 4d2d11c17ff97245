import DPAccounting

/// The privacy events a generation releases, derived from its settings alone (never from what it
/// generated). The generator records exactly these; accountants turn them into epsilon.
///
/// Per released token: `subsample` + Poisson is `PoissonSampled(q, mechanism)` with q = M*N/|D_y|;
/// `subsample` without replacement is `SampledWithoutReplacement(|D_y|, M*N, mechanism)`; `partition`
/// is the bare mechanism (no amplification). The Gaussian mechanism has noise multiplier sigma (L2
/// sensitivity sqrt(2)/M is divided out); the exponential one is `pureDP(2 / sigma)` (Gumbel scale
/// sigma * 2/M on a utility of sensitivity 2/M). Every started demonstration is charged its full T
/// tokens, because where it stops depends on the released tokens. Labels use disjoint examples, so
/// a generation is `parallel` over labels, each label `selfComposed` over its shots' tokens.
///
/// An extraction run (`settings.answerMaxTokens` set) has no labels: all |D| examples form the one
/// group ``TaskTemplate/extractionGroup`` (so q = M*N/|D|), every demonstration reads all of them and
/// is charged its full T_text + T_answer tokens, and the shots compose sequentially:
/// `selfComposed(token event, shots * (T_text + T_answer))`. Calibration uses the same shape.
public struct PrivacyPlan: Sendable, Hashable {
    public var settings: GenerationSettings
    public var examplesPerLabel: [String: Int]

    public init(settings: GenerationSettings, examplesPerLabel: [String: Int]) {
        self.settings = settings
        self.examplesPerLabel = examplesPerLabel
    }

    /// The event of one released token of `label` at noise multiplier `sigma`.
    public func tokenEvent(label: String, noiseMultiplier sigma: Double) -> PrivacyEvent {
        let mechanism: PrivacyEvent = switch settings.mechanism {
        case .gaussian: .gaussian(noiseMultiplier: sigma)
        case .exponential: ExponentialMechanism.event(noiseMultiplier: sigma)
        }
        guard settings.sampling == .subsample else { return mechanism }
        let size = examplesPerLabel[label] ?? 0
        let sample = settings.examplesPerStep
        switch settings.subsampleScheme {
        case .poisson: return .poissonSampled(samplingRate: min(1, Double(sample) / Double(size)), event: mechanism)
        case .withoutReplacement: return .sampledWithoutReplacement(sourceSize: size, sampleSize: sample, event: mechanism)
        }
    }

    /// The events of `tokens` released tokens of `label` under the run's privacy level.
    public func events(label: String, tokens: Int) -> PrivacyEvent {
        switch settings.privacy {
        case .publicOnly: return .noOp
        case .noNoise: return tokens > 0 ? .nonPrivate : .noOp
        case .noisy(let sigmas):
            guard tokens > 0, let sigma = sigmas[label] else { return .noOp }
            return .selfComposed(event: tokenEvent(label: label, noiseMultiplier: sigma), count: tokens)
        }
    }

    /// Full planned cost per label: T tokens (T_text + T_answer for extraction) for each
    /// demonstration of that label.
    public func plannedEventsByLabel() -> [String: PrivacyEvent] {
        var shots: [String: Int] = [:]
        for label in settings.labels { shots[label, default: 0] += 1 }
        return shots.reduce(into: [:]) { result, entry in
            result[entry.key] = events(label: entry.key, tokens: settings.tokensPerDemonstration * entry.value)
        }
    }

    /// One entry per demonstration of the run, in order: what the store's plan records. `label` is
    /// nil for an extraction run; `tokenEvent` is the event of one released token (`.noOp` for a
    /// public-only run, `.nonPrivate` without noise or without a calibrated sigma); `maxTokens` is
    /// the tokens it is charged (T, or T_text + T_answer).
    public func plannedDemonstrations() -> [PlannedDemonstration] {
        settings.labels.map { label in
            let tokenEvent: PrivacyEvent
            switch settings.privacy {
            case .publicOnly: tokenEvent = .noOp
            case .noNoise: tokenEvent = .nonPrivate
            case .noisy(let sigmas): tokenEvent = sigmas[label].map { self.tokenEvent(label: label, noiseMultiplier: $0) } ?? .nonPrivate
            }
            return PlannedDemonstration(
                label: settings.answerMaxTokens == nil ? label : nil, tokenEvent: tokenEvent, maxTokens: settings.tokensPerDemonstration)
        }
    }

    /// The whole generation as one event: parallel over labels.
    public func plannedEvent() -> PrivacyEvent {
        .parallel(plannedEventsByLabel().sorted { $0.key < $1.key }.map(\.value))
    }

    /// For calibration: the per-label event as a function of the noise multiplier.
    public func eventShape(label: String) -> @Sendable (Double) -> PrivacyEvent {
        let count = settings.tokensPerDemonstration * settings.labels.filter { $0 == label }.count
        let plan = self
        return { sigma in .selfComposed(event: plan.tokenEvent(label: label, noiseMultiplier: sigma), count: count) }
    }
}

/// One demonstration of a ``PrivacyPlan``: the label whose examples it reads (nil for an extraction
/// task, which reads all of them), the event of one released token, and the most tokens it is charged.
/// Its planned cost is `selfComposed(tokenEvent, maxTokens)`. The store's ledger records these as they
/// are (`GenerationPlan.Demonstration`).
public struct PlannedDemonstration: Sendable, Hashable, Codable {
    public var label: String?
    public var tokenEvent: PrivacyEvent
    public var maxTokens: Int

    public init(label: String?, tokenEvent: PrivacyEvent, maxTokens: Int) {
        self.label = label
        self.tokenEvent = tokenEvent
        self.maxTokens = maxTokens
    }

    /// The planned cost: `maxTokens` compositions of `tokenEvent`.
    public var plannedEvent: PrivacyEvent { .selfComposed(event: tokenEvent, count: maxTokens) }
}
