import DPAccounting
import FewShotCore
import Foundation

/// Demonstrations of the DP conditions from FewShotCore's ``DemonstrationGenerator``.
///
/// - epsilon in the list: the calibration policy of `fewshot gen`
///   (``PrivacyPlan/calibratedNoiseMultipliers(epsilon:delta:accountant:)``): for each label the
///   smallest noise multiplier that makes its demonstrations (epsilon, delta)-DP, at gen's default
///   delta = 1/|D_y| of the smallest label; labels use disjoint data, so the set is (epsilon, delta)-DP.
/// - epsilon = infinity: the same generator with no noise (not private).
///
/// Noise comes from the system's secure generator unless `reproducibleNoise` is set; then it is seeded
/// with the cell's seed, so the cell can be recomputed exactly, and its notes say it is not private.
public struct GeneratedDemonstrationSource: DemonstrationSource {
    public let task: TaskTemplate
    public let model: any LanguageModel
    /// M, N, T, mechanism, vocabulary, top-k and sampling; `privacy` and `labels` are set per condition.
    public let settings: GenerationSettings
    public let reproducibleNoise: Bool
    public let accountant: any PrivacyAccountant
    private let privateData: [LabeledExample]
    private let progress: @Sendable (String) -> Void
    private let sigmas = SigmaMemo()

    public init(
        task: TaskTemplate, model: any LanguageModel, privateData: [LabeledExample], settings: GenerationSettings,
        reproducibleNoise: Bool = false, accountant: any PrivacyAccountant = DefaultAccountant(),
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.task = task
        self.model = model
        self.privateData = privateData
        var settings = settings
        if settings.labels.isEmpty { settings.labels = task.labels.map(\.name) }
        self.settings = settings
        self.reproducibleNoise = reproducibleNoise
        self.accountant = accountant
        self.progress = progress
    }

    /// The paper's settings for `task` (its `defaults`), one demonstration per label.
    public static func defaultSettings(for task: TaskTemplate) -> GenerationSettings {
        GenerationSettings(defaultsOf: task, labels: task.labels.map(\.name), privacy: .noNoise)
    }

    public var cacheKey: String {
        let s = settings
        let perLabel = s.batchesByLabel.isEmpty ? "" : "M_y=\(s.batchesByLabel.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" });"
        let limit = s.maxExampleTokens.map { "maxExampleTokens=\($0);" } ?? ""
        return "M=\(s.batches);\(perLabel)\(limit)N=\(s.batchSize);T=\(s.maxTokens);mech=\(s.mechanism.rawValue);vocab=\(s.vocabulary.rawValue);k=\(s.topK);"
            + "sampling=\(s.sampling.rawValue);scheme=\(s.subsampleScheme.rawValue);labels=\(s.labels);seededNoise=\(reproducibleNoise);acct=\(accountant.name)"
    }

    public func demonstrations(for condition: EvalCondition, seed: UInt64) async throws -> EvalDemonstrations {
        var settings = self.settings
        var notes: [String: String] = [
            "settings": "M=\(settings.batches) N=\(settings.batchSize) T=\(settings.maxTokens) \(settings.mechanism.rawValue) \(settings.vocabulary.rawValue) top-\(settings.topK) \(settings.sampling.rawValue)/\(settings.subsampleScheme.rawValue)",
            "noise": reproducibleNoise ? "seeded with \(seed): NOT private (reproducible experiment)" : "system secure generator",
        ]
        let counts = Dictionary(grouping: privateData, by: \.label).mapValues(\.count)
        switch condition {
        case .privateGenerated(let epsilon):
            // As `fewshot gen`: q and delta come from a DP estimate of the label counts, whose release
            // is part of each label's cost (M stays the harness's plan on the exact counts).
            // (Without replacement the counts are public under its adjacency and used exactly.)
            var planned = counts
            if settings.subsampleScheme == .poisson {
                let release = LabelCountRelease.draw(
                    exact: counts, labels: settings.labels, noise: reproducibleNoise ? .seeded(seed ^ 0x6C61_6265_6C73) : .secure())
                settings.labelCounts = release
                planned = release.counts
                notes["label counts"] = "DP estimate (Gaussian, sigma \(release.noiseMultiplier)): "
                    + release.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            }
            let plan = PrivacyPlan(settings: settings, examplesPerLabel: counts)
            let delta = try PrivacyPlan.defaultDelta(labels: settings.labels, examplesPerLabel: planned)
            let byLabel = try sigmas.value(epsilon: epsilon, counts: planned) {
                try plan.calibratedNoiseMultipliers(epsilon: epsilon, delta: delta, accountant: accountant)
            }
            settings.privacy = .noisy(noiseMultiplierByLabel: byLabel)
            let noisy = PrivacyPlan(settings: settings, examplesPerLabel: counts)
            notes["sigma"] = byLabel.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4f", $0.value))" }.joined(separator: " ")
            notes["noise std"] = byLabel.keys.sorted().map { "\($0)=\(String(format: "%.4f", noisy.noiseStandardDeviation(label: $0) ?? 0))" }.joined(separator: " ")
            notes["M"] = byLabel.keys.sorted().map { "\($0)=\(settings.batches(for: $0))" }.joined(separator: " ")
            notes["delta"] = String(format: "%.3g (1/|D_y| of the smallest label's released count)", delta)
        case .nonPrivateGenerated:
            settings.privacy = .noNoise
            notes["privacy"] = "sigma = 0: NOT private"
        case .publicOnly:
            settings.privacy = .publicOnly
        case .zeroShot, .realExamples:
            throw EvalError.invalidSetting("condition \(condition.id) does not use the generator")
        }
        let generator = DemonstrationGenerator(model: model, task: task, settings: settings, noise: reproducibleNoise ? .seeded(seed) : .secure())
        let name = "\(task.name) \(condition.id) seed \(seed)"
        let report = progress
        let result = try await generator.generate(privateData: privateData, onProgress: { step in
            if step.step % 10 == 0 {
                report("\(name): demonstration \(step.demonstration + 1)/\(step.demonstrations), token \(step.step)/\(step.maxTokens), \(step.llmCalls) model calls")
            }
        })
        notes["tokens"] = result.tokensReleased.map(String.init).joined(separator: " ")
        notes["generation seconds"] = String(format: "%.1f", Double(result.elapsed.components.seconds) + Double(result.elapsed.components.attoseconds) * 1e-18)
        return EvalDemonstrations(demonstrations: result.demonstrations, notes: notes)
    }
}

/// Noise multipliers already calibrated, so seeds of one epsilon and label counts do not repeat the search.
final class SigmaMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: [String: Double]] = [:]

    func value(epsilon: Double, counts: [String: Int], compute: () throws -> [String: Double]) throws -> [String: Double] {
        let key = "\(epsilon)|" + counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        if let known = lock.withLock({ values[key] }) { return known }
        let value = try compute()
        lock.withLock { values[key] = value }
        return value
    }
}
