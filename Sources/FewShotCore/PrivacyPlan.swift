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

    /// Full planned cost per label: T tokens for each demonstration of that label.
    public func plannedEventsByLabel() -> [String: PrivacyEvent] {
        var shots: [String: Int] = [:]
        for label in settings.labels { shots[label, default: 0] += 1 }
        return shots.reduce(into: [:]) { result, entry in
            result[entry.key] = events(label: entry.key, tokens: settings.maxTokens * entry.value)
        }
    }

    /// The whole generation as one event: parallel over labels.
    public func plannedEvent() -> PrivacyEvent {
        .parallel(plannedEventsByLabel().sorted { $0.key < $1.key }.map(\.value))
    }

    /// For calibration: the per-label event as a function of the noise multiplier.
    public func eventShape(label: String) -> @Sendable (Double) -> PrivacyEvent {
        let count = settings.maxTokens * settings.labels.filter { $0 == label }.count
        let plan = self
        return { sigma in .selfComposed(event: plan.tokenEvent(label: label, noiseMultiplier: sigma), count: count) }
    }
}
