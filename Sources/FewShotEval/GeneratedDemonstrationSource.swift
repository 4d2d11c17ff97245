import DPAccounting
import FewShotCore
import FewShotSelection
import Foundation
import Synchronization

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
    /// |D_y| of the private data (exact; the DP conditions plan with a released estimate of it).
    private let exampleCounts: [String: Int]
    private let progress: @Sendable (String) -> Void
    private let sigmas = SigmaMemo()
    /// G of the pool conditions (`pool-knn-E`, `pool-random-E`): disjoint groups, one set each.
    public let poolGroups: Int
    private let pools = PoolMemo()
    /// Target delta; nil: 1/|D_y| of the smallest label (its released DP count), as `fewshot gen`.
    public let delta: Double?

    public init(
        task: TaskTemplate, model: any LanguageModel, privateData: [LabeledExample], settings: GenerationSettings,
        reproducibleNoise: Bool = false, accountant: any PrivacyAccountant = DefaultAccountant(), poolGroups: Int = 8, delta: Double? = nil,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.delta = delta
        self.poolGroups = max(1, poolGroups)
        self.task = task
        self.model = model
        self.privateData = privateData
        exampleCounts = Dictionary(grouping: privateData, by: \.label).mapValues(\.count)
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
            + "sampling=\(s.sampling.rawValue);scheme=\(s.subsampleScheme.rawValue);labels=\(s.labels);seededNoise=\(reproducibleNoise);acct=\(accountant.name);poolGroups=\(poolGroups)" + (delta.map { ";delta=\($0)" } ?? "")
    }

    public func demonstrations(for condition: EvalCondition, seed: UInt64) async throws -> EvalDemonstrations {
        switch condition {
        case .poolSelected(let epsilon):
            let pool = try await pool(epsilon: epsilon, seed: seed)
            let labels = Set(settings.labels).count
            let rule = DemonstrationSelection(k: labels, by: .similarity, balanced: true)
            var notes = pool.notes
            notes["selection"] = "per test example: \(rule) (BM25 on the example's text), from a pool of \(pool.demonstrations.count)"
            return EvalDemonstrations(demonstrations: pool.demonstrations, notes: notes, selector: DemonstrationSelector(pool: pool.demonstrations, rule: rule))
        case .poolRandom(let epsilon):
            let pool = try await pool(epsilon: epsilon, seed: seed)
            var random = SplitMix64(seed: seed, stream: 3)
            let chosen = task.labels.map(\.name).compactMap { label -> Demonstration? in
                let candidates = pool.demonstrations.filter { $0.label == label }
                return candidates.isEmpty ? nil : candidates[Int(random.next() % UInt64(candidates.count))]
            }
            var notes = pool.notes
            notes["selection"] = "one per label drawn at random (seed \(seed)) from a pool of \(pool.demonstrations.count), fixed for the cell"
            return EvalDemonstrations(demonstrations: chosen, notes: notes)
        default:
            return try await generated(condition, seed: seed, groups: 1)
        }
    }

    /// The pool of the pool conditions at `epsilon` for `seed`, generated once for both of them.
    private func pool(epsilon: Double, seed: UInt64) async throws -> EvalDemonstrations {
        if let known = pools.value(epsilon: epsilon, seed: seed) { return known }
        let pool = try await generated(.privateGenerated(epsilon: epsilon), seed: seed, groups: poolGroups)
        pools.store(pool, epsilon: epsilon, seed: seed)
        return pool
    }

    /// The generator's demonstrations for `condition`; with `groups` > 1 a pool as `gen --groups`
    /// makes it (each group's M capped at its expected size |D_y|/(G*N)).
    private func generated(_ condition: EvalCondition, seed: UInt64, groups: Int) async throws -> EvalDemonstrations {
        var settings = self.settings
        let counts = exampleCounts
        if groups > 1 {
            settings.groups = groups
            settings.labels = Array(Array(repeating: settings.labels, count: groups).joined())
            for label in Set(settings.labels) {
                settings.batchesByLabel[label] = max(1, min(settings.batches(for: label), (counts[label] ?? 0) / (groups * settings.batchSize)))
            }
        }
        var notes: [String: String] = [
            "settings": "M=\(settings.batches) N=\(settings.batchSize) T=\(settings.maxTokens) \(settings.mechanism.rawValue) \(settings.vocabulary.rawValue) top-\(settings.topK) \(settings.sampling.rawValue)/\(settings.subsampleScheme.rawValue)",
            "noise": reproducibleNoise ? "seeded with \(seed): NOT private (reproducible experiment)" : "system secure generator",
        ]
        switch condition {
        case .privateGenerated(let epsilon):
            // As `fewshot gen`: q and delta come from a DP estimate of the label counts, whose release
            // is part of each label's cost (M stays the harness's plan on the exact counts).
            // (Without replacement the counts are public under its adjacency and used exactly.)
            if settings.subsampleScheme == .poisson {
                let release = LabelCountRelease.draw(
                    exact: counts, labels: settings.labels, noise: reproducibleNoise ? .seeded(seed ^ 0x6C61_6265_6C73) : .secure())
                settings.labelCounts = release
                notes["label counts"] = "DP estimate (Gaussian, sigma \(release.noiseMultiplier)): "
                    + release.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            }
            let plan = PrivacyPlan(settings: settings, examplesPerLabel: counts)
            // The plan's counts: the released ones (Poisson) or the exact ones.
            let delta = try self.delta ?? PrivacyPlan.defaultDelta(labels: settings.labels, examplesPerLabel: plan.examplesPerLabel)
            let byLabel = try sigmas.value(epsilon: epsilon, delta: delta, plan: plan) {
                try plan.calibratedNoiseMultipliers(epsilon: epsilon, delta: delta, accountant: accountant)
            }
            settings.privacy = .noisy(noiseMultiplierByLabel: byLabel)
            let noisy = PrivacyPlan(settings: settings, examplesPerLabel: counts)
            notes["sigma"] = byLabel.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4f", $0.value))" }.joined(separator: " ")
            notes["noise std"] = byLabel.keys.sorted().map { "\($0)=\(String(format: "%.4f", noisy.noiseStandardDeviation(label: $0) ?? 0))" }.joined(separator: " ")
            notes["M"] = byLabel.keys.sorted().map { "\($0)=\(settings.batches(for: $0))" }.joined(separator: " ")
            notes["delta"] = self.delta == nil ? String(format: "%.3g (1/|D_y| of the smallest label's released count)", delta) : String(format: "%.3g (given)", delta)
        case .nonPrivateGenerated:
            settings.privacy = .noNoise
            notes["privacy"] = "sigma = 0: NOT private"
        case .publicOnly:
            settings.privacy = .publicOnly
        case .zeroShot, .realExamples, .poolSelected, .poolRandom:
            throw EvalError.invalidSetting("condition \(condition.id) does not use the generator directly")
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
        notes["generation seconds"] = String(format: "%.1f", result.elapsed / .seconds(1))
        if groups > 1 { notes["pool"] = "\(groups) disjoint groups, \(result.demonstrations.count) demonstrations, the privacy cost of one set" }
        return EvalDemonstrations(demonstrations: result.demonstrations, notes: notes)
    }
}

/// Noise multipliers already calibrated, so cells with the same plan (its settings, groups and
/// label counts), epsilon and delta do not repeat the search.
final class SigmaMemo: Sendable {
    private struct Key: Hashable {
        var epsilon: Double
        var delta: Double
        var plan: PrivacyPlan
    }

    private let values = Mutex<[Key: [String: Double]]>([:])

    func value(epsilon: Double, delta: Double, plan: PrivacyPlan, compute: () throws -> [String: Double]) throws -> [String: Double] {
        let key = Key(epsilon: epsilon, delta: delta, plan: plan)
        if let known = values.withLock({ $0[key] }) { return known }
        let value = try compute()
        values.withLock { $0[key] = value }
        return value
    }
}

/// Pools already generated, by (epsilon, seed), so `pool-knn` and `pool-random` share one.
final class PoolMemo: Sendable {
    private let pools = Mutex<[String: EvalDemonstrations]>([:])

    func value(epsilon: Double, seed: UInt64) -> EvalDemonstrations? { pools.withLock { $0["\(epsilon)|\(seed)"] } }
    func store(_ pool: EvalDemonstrations, epsilon: Double, seed: UInt64) { pools.withLock { $0["\(epsilon)|\(seed)"] = pool } }
}
