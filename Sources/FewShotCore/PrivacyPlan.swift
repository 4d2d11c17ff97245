import DPAccounting

/// The privacy events a generation releases, derived from its settings alone (never from what it
/// generated). The generator records exactly these; accountants turn them into epsilon.
///
/// Per released token the mechanism is the Gaussian noisy argmax with noise multiplier sigma (L2
/// sensitivity sqrt(2)/M_y is divided out), or the exponential one, `pureDP(2 / sigma)` (Gumbel scale
/// sigma * 2/M on a utility of sensitivity 2/M). Per demonstration of label y (q = M_y*N/|D_y|):
/// - `subsample` + Poisson: a fresh Poisson sample per token, `T x PoissonSampled(q, mechanism)`;
/// - `subsample` without replacement: `T x SampledWithoutReplacement(|D_y|, M_y*N, mechanism)`
///   (replace-one adjacency);
/// - `partition` + Poisson: one Poisson sample per demonstration, split into M_y batches and kept for
///   its T tokens, so the demonstration is `PoissonSampled(q, T x mechanism)` (algorithm.md: the T
///   adaptive releases on one subsample are dominated by one Gaussian with multiplier sigma/sqrt(T),
///   and the subsample amplifies that once);
/// - `partition` without replacement: `T x mechanism` (no amplification is claimed).
/// |D_y| is the data set's released DP count (``GenerationSettings/labelCounts``) when the settings
/// carry one, so q, M and delta publish only that estimate; its release event is composed into every
/// label's cost (``plannedEventsByLabel()``, calibration), not into the per-demonstration charges
/// (the store charges the release once per data set).
/// Every started demonstration is charged its full T tokens, because where it stops depends on the
/// released tokens. Labels use disjoint examples, so a generation is `parallel` over labels, each
/// label composing its shots sequentially (independent subsamples).
///
/// An extraction run (`settings.answerMaxTokens` set) has no labels: all |D| examples form the one
/// group ``TaskTemplate/extractionGroup`` (so q = M*N/|D|), every demonstration reads all of them and
/// is charged its full T_text + T_answer tokens, and the shots compose sequentially. Calibration uses
/// the same shape.
public struct PrivacyPlan: Sendable, Hashable {
    public var settings: GenerationSettings
    public var examplesPerLabel: [String: Int]

    /// `examplesPerLabel` are the data's counts; when `settings.labelCounts` is set (the released DP
    /// counts) those are used instead, and their release event is composed into every label's cost.
    public init(settings: GenerationSettings, examplesPerLabel: [String: Int]) {
        self.settings = settings
        self.examplesPerLabel = settings.labelCounts?.counts ?? examplesPerLabel
    }

    /// The label-count release every label's cost composes with (nil without released counts).
    public var countReleaseEvent: PrivacyEvent? { settings.labelCounts?.event }

    /// `event` (a label's generation cost) composed with the label-count release, if any.
    func withCountRelease(_ event: PrivacyEvent) -> PrivacyEvent {
        guard let release = countReleaseEvent, event != .noOp, event != .nonPrivate else { return event }
        return .composed([release, event])
    }

    /// q = min(1, M_y * N / (|D_y| / G)): the chance that a given example of `label` is in its
    /// group's subsample (a group holds |D_y|/G examples in expectation; G = 1 without groups).
    public func samplingRate(label: String) -> Double {
        let size = examplesPerLabel[label] ?? 0
        guard size > 0 else { return 1 }
        return min(1, Double(settings.examplesPerStep(for: label) * max(1, settings.groups)) / Double(size))
    }

    /// The noisy-argmax mechanism of one token at noise multiplier `sigma`, on a fixed set of batches.
    private func mechanism(_ sigma: Double) -> PrivacyEvent {
        switch settings.mechanism {
        case .gaussian: .gaussian(noiseMultiplier: sigma)
        case .exponential: ExponentialMechanism.event(noiseMultiplier: sigma)
        }
    }

    /// The event of one released token of `label` at noise multiplier `sigma`: in `subsample` mode
    /// with its per-token sampling, in `partition` mode the bare mechanism on the demonstration's
    /// batches (its sampling is accounted once per demonstration, ``demonstrationEvent(label:noiseMultiplier:)``).
    public func tokenEvent(label: String, noiseMultiplier sigma: Double) -> PrivacyEvent {
        let mechanism = mechanism(sigma)
        guard settings.sampling == .subsample else { return mechanism }
        switch settings.subsampleScheme {
        case .poisson:
            return .poissonSampled(samplingRate: samplingRate(label: label), event: mechanism)
        case .withoutReplacement:
            return .sampledWithoutReplacement(
                sourceSize: examplesPerLabel[label] ?? 0, sampleSize: settings.examplesPerStep(for: label), event: mechanism)
        }
    }

    /// The event of one whole demonstration of `label` (its full T tokens) at noise multiplier `sigma`.
    public func demonstrationEvent(label: String, noiseMultiplier sigma: Double) -> PrivacyEvent {
        let tokens = settings.tokensPerDemonstration
        guard settings.amplifiedOncePerDemonstration else {
            return .selfComposed(event: tokenEvent(label: label, noiseMultiplier: sigma), count: tokens)
        }
        let q = samplingRate(label: label)
        let onSubsample = PrivacyEvent.selfComposed(event: mechanism(sigma), count: tokens)
        return q < 1 ? .poissonSampled(samplingRate: q, event: onSubsample) : onSubsample
    }

    /// The event of one demonstration of `label` under the run's privacy level: `.noOp` for a
    /// public-only run, `.nonPrivate` without noise or without a noise multiplier for the label.
    public func demonstrationEvent(label: String) -> PrivacyEvent {
        event(label: label) { demonstrationEvent(label: label, noiseMultiplier: $0) }
    }

    /// The event of one released token of `label` under the run's privacy level (what the ledger
    /// shows per token; the charge is per demonstration).
    func tokenEvent(label: String) -> PrivacyEvent {
        event(label: label) { tokenEvent(label: label, noiseMultiplier: $0) }
    }

    /// `.noOp` for a public-only run, `.nonPrivate` without noise or without a noise multiplier for
    /// `label`, else the event `noisy` makes of the label's noise multiplier.
    private func event(label: String, _ noisy: (Double) -> PrivacyEvent) -> PrivacyEvent {
        switch settings.privacy {
        case .publicOnly: return .noOp
        case .noNoise: return .nonPrivate
        case .noisy(let sigmas):
            guard let sigma = sigmas[label] else { return .nonPrivate }
            return noisy(sigma)
        }
    }

    /// Demonstrations generated for `label` (its shots, over all groups).
    public func shots(label: String) -> Int { settings.labels.filter { $0 == label }.count }

    /// Demonstrations of `label` in one group (all of them without groups).
    public func shotsPerGroup(label: String) -> Int { shots(label: label) / max(1, settings.groups) }

    /// `count` sequential runs of `event`; a self-composition is flattened so that unamplified
    /// demonstrations read as `T * shots` token events.
    static func repeated(_ event: PrivacyEvent, _ count: Int) -> PrivacyEvent {
        if case .selfComposed(let inner, let n) = event { return .selfComposed(event: inner, count: n * count) }
        return count == 1 ? event : .selfComposed(event: event, count: count)
    }

    /// Full planned cost per label: the label-count release (when the counts are released ones)
    /// and the label's demonstrations: those of one group composed sequentially, the groups in
    /// parallel (they read disjoint examples).
    public func plannedEventsByLabel() -> [String: PrivacyEvent] {
        Dictionary(uniqueKeysWithValues: Set(settings.labels).map { label in
            let event = demonstrationEvent(label: label)
            guard event != .noOp, event != .nonPrivate else { return (label, event) }
            // Each group's branch holds the release too (one example moves one count and one group),
            // and `.parallel` stays at the top, where accountants take the maximum of its branches.
            let group = withCountRelease(Self.repeated(event, shotsPerGroup(label: label)))
            let groups = max(1, settings.groups)
            return (label, groups == 1 ? group : .parallel(Array(repeating: group, count: groups)))
        })
    }

    /// One entry per demonstration of the run, in order: what the store's plan records. `label` is
    /// nil for an extraction run; `event` is the demonstration's full planned cost, `tokenEvent` the
    /// event of one of its tokens (for display), `maxTokens` the tokens it may release.
    public func plannedDemonstrations() -> [PlannedDemonstration] {
        settings.labels.enumerated().map { index, label in
            PlannedDemonstration(
                label: settings.answerMaxTokens == nil ? label : nil, tokenEvent: tokenEvent(label: label),
                maxTokens: settings.tokensPerDemonstration, event: demonstrationEvent(label: label),
                group: settings.groups > 1 ? settings.group(ofDemonstration: index) : nil)
        }
    }

    /// The whole generation as one event: parallel over labels.
    public func plannedEvent() -> PrivacyEvent {
        .parallel(plannedEventsByLabel().sorted { $0.key < $1.key }.map(\.value))
    }

    /// For calibration: the per-label event (with the label-count release) as a function of the
    /// noise multiplier.
    /// With groups this is one group's cost, which equals the label's (the groups run in parallel).
    public func eventShape(label: String) -> @Sendable (Double) -> PrivacyEvent {
        let count = shotsPerGroup(label: label)
        let plan = self
        return { sigma in plan.withCountRelease(Self.repeated(plan.demonstrationEvent(label: label, noiseMultiplier: sigma), count)) }
    }

    /// The one calibration policy of `fewshot gen`, generation jobs and `fewshot eval`: for each
    /// label generated for, the smallest noise multiplier that makes its demonstrations
    /// (`epsilon`, `delta`)-DP under `accountant`. Labels read disjoint examples, so the whole run is
    /// (`epsilon`, `delta`)-DP (parallel composition), and a large label is not given the noise a
    /// small one needs.
    public func calibratedNoiseMultipliers(epsilon: Double, delta: Double, accountant: any PrivacyAccountant) throws -> [String: Double] {
        var sigmas: [String: Double] = [:]
        for label in Set(settings.labels) {
            // Each label is calibrated at delta_y = min(delta, 1/|D_y|): a run-wide delta of 1/|D| of
            // the smallest label can exceed a large label's sampling rate q, and a mechanism that
            // exposes its subsample with probability q <= delta is (~0, delta)-DP at any sigma (the
            // calibration then returns a tiny sigma). Labels are disjoint, so the run is still
            // (epsilon, delta)-DP: each label meets epsilon at delta_y <= delta.
            let size = examplesPerLabel[label] ?? 0
            let labelDelta = size > 1 ? min(delta, 1 / Double(size)) : delta
            sigmas[label] = try Calibration.noiseMultiplier(epsilon: epsilon, delta: labelDelta, accountant: accountant, event: eventShape(label: label))
        }
        return sigmas
    }

    /// The paper's default delta, 1/|D_y| of the smallest label generated for, used by `fewshot gen`,
    /// generation jobs and `fewshot eval` alike. A label with a single example would give delta = 1,
    /// which protects nothing: that throws ``GenerationError/singleExampleLabel(label:)``. Without any
    /// example (a public-only run reads none) it is 0.5, which no private release uses.
    public static func defaultDelta(labels: [String], examplesPerLabel: [String: Int]) throws -> Double {
        let used = Set(labels).map { (label: $0, count: examplesPerLabel[$0] ?? 0) }.filter { $0.count > 0 }
        guard let smallest = used.min(by: { ($0.count, $0.label) < ($1.count, $1.label) }) else { return 0.5 }
        guard smallest.count > 1 else { throw GenerationError.singleExampleLabel(label: smallest.label) }
        return 1 / Double(smallest.count)
    }

    /// The standard deviation of the Gaussian noise on each coordinate of `label`'s averaged
    /// distribution, sigma * sqrt(2) / M_y (nil without noise).
    public func noiseStandardDeviation(label: String) -> Double? {
        guard case .noisy(let sigmas) = settings.privacy, let sigma = sigmas[label] else { return nil }
        return sigma * 2.0.squareRoot() / Double(settings.batches(for: label))
    }
}

/// One demonstration of a ``PrivacyPlan``: the label whose examples it reads (nil for an extraction
/// task, which reads all of them), the event of one released token, the most tokens it may release,
/// and its full planned cost `plannedEvent`, charged in full once it has started. Without amplification
/// that is `selfComposed(tokenEvent, maxTokens)`; in amplified partition mode it is one
/// `PoissonSampled(q, maxTokens x mechanism)`. The store's ledger records these as they are
/// (`GenerationPlan.Demonstration`).
public struct PlannedDemonstration: Sendable, Hashable, Codable {
    public var label: String?
    public var tokenEvent: PrivacyEvent
    public var maxTokens: Int
    /// The demonstration's full cost.
    public var plannedEvent: PrivacyEvent
    /// The disjoint group of its label's examples that it reads (nil without groups): demonstrations
    /// of one generation in different groups compose in parallel.
    public var group: Int?

    public init(label: String?, tokenEvent: PrivacyEvent, maxTokens: Int, event: PrivacyEvent? = nil, group: Int? = nil) {
        self.label = label
        self.tokenEvent = tokenEvent
        self.maxTokens = maxTokens
        self.plannedEvent = event ?? Self.perToken(tokenEvent, maxTokens)
        self.group = group
    }

    static func perToken(_ tokenEvent: PrivacyEvent, _ tokens: Int) -> PrivacyEvent {
        tokenEvent == .noOp || tokenEvent == .nonPrivate ? tokenEvent : .selfComposed(event: tokenEvent, count: tokens)
    }

    enum CodingKeys: String, CodingKey { case label, tokenEvent, maxTokens, plannedEvent = "event", group }

    /// Plans stored before per-demonstration events decode with `selfComposed(tokenEvent, maxTokens)`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(label: try c.decodeIfPresent(String.self, forKey: .label), tokenEvent: try c.decode(PrivacyEvent.self, forKey: .tokenEvent),
                  maxTokens: try c.decode(Int.self, forKey: .maxTokens), event: try c.decodeIfPresent(PrivacyEvent.self, forKey: .plannedEvent),
                  group: try c.decodeIfPresent(Int.self, forKey: .group))
    }
}
