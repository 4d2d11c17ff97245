import DPAccounting
import FewShotCore
import FewShotData
import FewShotStore
import Foundation

/// The privacy record of a generation: the first line of `fewshot gen`'s JSONL, and its summary.
/// Holds settings, the recorded events and what the accountant derived from them; no private text.
public struct GenerationRecord: Sendable, Encodable {
    public var type = "privacy"
    public var task: String
    /// The data set's public id in the store (never its content fingerprint); nil without a store.
    public var dataset: String?
    public var generation: String?
    public var epsilon: Double
    public var epsilonPerLabel: [String: Double]
    public var delta: Double
    public var sigma: Double?
    public var accountant: String
    public var mechanism: NoiseMechanism
    public var sampling: SamplingMode
    public var subsample: SubsampleScheme?
    public var vocabulary: VocabularyMode
    public var topK: Int
    public var batches: Int
    public var batchSize: Int
    public var maxTokens: Int
    /// T_answer of an extraction task.
    public var answerMaxTokens: Int?
    public var tokensReleased: [Int]
    public var llmCalls: Int
    public var model: String
    public var events: [String: PrivacyEvent]
    /// Per label: M, N, q, sigma and the noise std sigma*sqrt(2)/M (``PlanReport/Label``).
    public var labels: [String: PlanReport.Label]
    /// The data set's released DP label counts that q, M and delta come from, and their noise.
    public var labelCounts: LabelCounts?
    /// The neighbouring relation the epsilon is stated for, and what it means for the label counts
    /// (``adjacency(subsample:)``).
    public var adjacency: String
    public var `private`: Bool
    public var seed: UInt64?
    /// Whether any run of the generation (a resumed one included) used seeded noise.
    public var seededNoise: Bool

    enum CodingKeys: String, CodingKey {
        case type, task, dataset, generation, epsilon, epsilonPerLabel = "epsilon_per_label", delta, sigma, accountant
        case mechanism, sampling, subsample, vocabulary, topK = "top_k", batches = "M", batchSize = "N", maxTokens = "T"
        case answerMaxTokens = "T_answer", tokensReleased = "tokens_released", llmCalls = "llm_calls", model, events, labels, `private`, seed
        case seededNoise = "seeded_noise", labelCounts = "label_counts", adjacency
    }

    /// The adjacency of a run with this subsample scheme: add/remove (label counts private, released
    /// with noise) for Poisson sampling, replace-one within a label for sampling without replacement.
    public static func adjacency(subsample: SubsampleScheme) -> String {
        subsample == .withoutReplacement
            ? "replace one example's text within its label (label counts public, used exactly)"
            : "add or remove one example (label counts private: q, M and delta come from their released DP estimate)"
    }

    /// The label counts a generation planned with: the DP estimate (``LabelCountRelease``), never
    /// the exact counts. Its event is part of each label's `events`.
    public struct LabelCounts: Sendable, Encodable {
        /// nil for a preview (the exact counts are not shown).
        public var counts: [String: Int]?
        public var noiseMultiplier: Double
        /// "released": a DP estimate; "exact (preview)" only in a dry run's plan, never in a record.
        public var source: String

        public init(_ release: LabelCountRelease) {
            counts = release.isReleased ? release.counts : nil
            noiseMultiplier = release.noiseMultiplier
            source = release.isReleased ? "released" : "exact (preview)"
        }

        enum CodingKeys: String, CodingKey { case counts, noiseMultiplier = "noise_multiplier", source }
    }

    /// `fewshot gen`'s JSON Lines: this record first, then one ``DemonstrationLine`` per demonstration.
    public func jsonLines(_ demonstrations: [Demonstration]) throws -> [String] {
        try [DemonstrationLine.encoded(self)] + demonstrations.map {
            try DemonstrationLine.encoded(DemonstrationLine($0, type: "demonstration"))
        }
    }

    public var epsilonText: String { EpsilonText.format(epsilon, "%.3f") }

    public func summary(_ demonstrations: [Demonstration], elapsed: Duration) -> String {
        var lines: [String] = []
        let privacy = `private`
            ? "(epsilon = \(epsilonText), delta = \(String(format: "%.3g", delta)))-DP"
            : (seededNoise ? "NOT PRIVATE (seeded noise)" : "NOT PRIVATE (epsilon = \(epsilonText))")
        lines.append("\(demonstrations.count) demonstrations for task \(task), \(privacy)")
        lines.append("  accountant \(accountant); mechanism \(mechanism.rawValue); sampling \(sampling.rawValue)\(subsample.map { " (\($0.rawValue))" } ?? ""); vocabulary \(vocabulary.rawValue) top-\(topK)")
        lines.append("  M = \(batches), N = \(batchSize), T = \(maxTokens)\(answerMaxTokens.map { " + \($0) for the answer" } ?? ""), sigma = \(sigma.map { String(format: "%.4f", $0) } ?? "none"); \(llmCalls) LLM calls in \(elapsed.formatted(.units(allowed: [.minutes, .seconds], width: .narrow)))")
        let perLabel = labels.sorted { $0.key < $1.key }.filter { $0.value.sigma != nil }
        if Set(perLabel.map(\.value.m)).count > 1 || Set(perLabel.compactMap(\.value.sigma)).count > 1 {
            lines.append("  per label: " + perLabel.map { label, p in
                "\(label) M=\(p.m) q=\(String(format: "%.3g", p.q)) sigma=\(String(format: "%.3f", p.sigma ?? 0)) noise=\(String(format: "%.3g", p.noiseStd ?? 0))"
            }.joined(separator: "; "))
        }
        if let generation { lines.append("  stored as demonstration set \(generation)") }
        for demo in demonstrations {
            if let answer = demo.answer { lines.append("\(demo.text) => \(answer)") } else { lines.append("[\(demo.label)] \(demo.text)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The record the store keeps (the store fills in id, data set, events and accountant).
    public func storeRecord(_ demonstrations: [Demonstration], labels: [String]) -> DemonstrationSetRecord {
        DemonstrationSetRecord(
            task: task, labels: labels.filter { $0 != TaskTemplate.extractionGroup },
            demonstrations: demonstrations.map { .init(label: $0.writtenLabel, text: $0.text, answer: $0.answer) },
            epsilon: epsilon, delta: delta, sigma: sigma ?? 0, mechanism: mechanism,
            sampling: SetSampling(mode: sampling, scheme: subsample), batches: batches, examplesPerBatch: batchSize,
            maxTokens: maxTokens, model: model, seeded: seededNoise)
    }
}
