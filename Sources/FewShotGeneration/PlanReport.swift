import DPAccounting
import FewShotCore
import Foundation

/// What a prepared generation will do and cost, before any LLM call or ledger write: the output of
/// `fewshot gen --dry-run --json`, and the `labels` part of the privacy record. No private text;
/// label counts enter only through q.
public struct PlanReport: Sendable, Encodable {
    /// Per label: M, N, the sampling rate q = M*N/|D_y|, sigma, the noise on each coordinate of the
    /// averaged distribution (sigma*sqrt(2)/M), the demonstrations and the estimated cost.
    public struct Label: Sendable, Encodable {
        public var m: Int
        public var n: Int
        public var q: Double
        public var sigma: Double?
        public var noiseStd: Double?
        public var demonstrations: Int
        public var estimatedLLMTokens: Int
        public var estimatedMinutes: Double

        enum CodingKeys: String, CodingKey {
            case m, n, q, sigma, noiseStd = "noise_std", demonstrations, estimatedLLMTokens = "estimated_llm_tokens"
            case estimatedMinutes = "estimated_minutes"
        }
    }

    /// What the local llama-server needs for this plan: a slot per batch and one for the public
    /// prompt, each with room for a batch prompt and the demonstration.
    public struct Server: Sendable, Encodable {
        public var parallel: Int
        public var ctxSize: Int
        public var command: String

        enum CodingKeys: String, CodingKey { case parallel, ctxSize = "ctx_size", command }
    }

    public var type = "plan"
    public var task: String
    public var epsilon: Double
    public var delta: Double
    public var accountant: String
    public var mechanism: NoiseMechanism
    public var sampling: SetSampling
    public var events: [String: PrivacyEvent]
    public var demonstrations: Int
    /// G: disjoint example groups, one set each (1: one set).
    public var groups: Int
    public var labels: [String: Label]
    public var estimatedLLMTokens: Int
    public var estimatedMinutes: Double
    public var plan: String
    public var server: Server?
    /// The label counts q, M and delta come from: the data set's released DP counts, or (a dry run
    /// before the first release) a preview of the exact counts, whose values are not shown.
    public var labelCounts: GenerationRecord.LabelCounts?

    enum CodingKeys: String, CodingKey {
        case type, task, epsilon, delta, accountant, mechanism, sampling, events, demonstrations, groups, labels
        case estimatedLLMTokens = "estimated_llm_tokens", estimatedMinutes = "estimated_minutes", plan, server
        case firstStepSeconds = "first_step_seconds", labelCounts = "label_counts"
    }

    public init(_ prepared: PreparedGeneration) {
        let settings = prepared.settings
        let planner = prepared.spec.generator.planner
        let promptTokens = BatchPlanner.promptTokens(task: prepared.task, settings: settings)
        var labels: [String: Label] = [:]
        for label in Set(settings.labels) {
            let shots = prepared.plan.shots(label: label)
            let m = settings.batches(for: label)
            let one = BatchPlanner.demonstrationCost(batches: m, promptTokens: promptTokens, settings: settings)
            let tokens = BatchPlanner.roundedUp(Double(shots) * one.tokens)
            labels[label] = Label(
                m: m, n: settings.batchSize, q: prepared.plan.samplingRate(label: label), sigma: prepared.noiseMultipliers[label],
                noiseStd: prepared.plan.noiseStandardDeviation(label: label), demonstrations: shots,
                estimatedLLMTokens: tokens, estimatedMinutes: Double(shots) * planner.seconds(one) / 60)
        }
        let events = prepared.plan.plannedEventsByLabel()
        let epsilon = (try? prepared.accountant.epsilon(for: prepared.plan.plannedEvent(), delta: prepared.delta)) ?? .infinity
        let estimate = planner.estimate(task: prepared.task, settings: settings)
        self.task = prepared.task.name
        self.epsilon = epsilon
        self.delta = prepared.delta
        self.accountant = Set(events.values.map { (try? prepared.accountant.answer(for: $0, delta: prepared.delta))?.accountant ?? prepared.accountant.name })
            .sorted().joined(separator: "+")
        self.mechanism = settings.mechanism
        self.sampling = SetSampling(mode: settings.sampling, scheme: settings.subsampleScheme)
        self.events = events
        self.demonstrations = settings.labels.count
        self.groups = settings.groups
        self.labels = labels
        self.estimatedLLMTokens = estimate.tokens
        self.estimatedMinutes = estimate.seconds / 60
        self.plan = prepared.batchPlan?.reason
            ?? "M pinned (\(prepared.spec.generator.batches?.description ?? "by the task file")), N = \(settings.batchSize); ~\(estimate.tokens / 1000)k LLM tokens, ~\(BatchPlanner.minutes(estimate.seconds)) min"
        labelCounts = settings.labelCounts.map(GenerationRecord.LabelCounts.init)
        firstStepSeconds = Double(settings.largestBatchCount + 1) * Double(promptTokens) / planner.tokensPerSecond
        if settings.sampling == .partition, settings.privacy != .publicOnly {
            // Planned on a preview of the exact counts, M may grow when gen plans again with the
            // released counts (a label whose M is all its examples moves with its count's noise):
            // room for three standard deviations of that noise.
            let preview = prepared.batchPlan != nil && (settings.labelCounts.map { !$0.isReleased } ?? false)
            let headroom = preview ? Int((3 * (settings.labelCounts?.noiseMultiplier ?? 0) / Double(max(1, settings.batchSize))).rounded(.up)) : 0
            let parallel = settings.largestBatchCount + 1 + headroom
            let perSlot = BatchPlanner.contextPerSlot(task: prepared.task, settings: settings)
            server = Server(
                parallel: parallel, ctxSize: parallel * perSlot,
                command: "fewshot llm start --parallel \(parallel) --ctx-size \(parallel * perSlot)")
        }
    }

    /// A per-request timeout that the plan's slowest step fits in: the first step of a partition-mode
    /// demonstration sends all M prompts at once, and the server answers the last of them only after
    /// reading them all (~M * P tokens). Three times the estimate, at least `minimum` seconds.
    public func requestTimeoutSeconds(minimum: Int) -> Int {
        max(minimum, BatchPlanner.roundedUp(firstStepSeconds * 3))
    }

    /// Estimated seconds for the server to read the largest label's M + 1 prompts.
    public var firstStepSeconds: Double

    /// The plan for people: one line per label and the total.
    public var summary: String {
        let pool = groups > 1 ? " (a pool: \(groups) disjoint groups, the privacy cost of one set)" : ""
        var lines = ["plan for task \(task): \(demonstrations) demonstrations\(pool), (epsilon = \(EpsilonText.format(epsilon, "%.3f")), delta = \(String(format: "%.3g", delta))), \(accountant), \(mechanism.rawValue), \(sampling)"]
        for (label, l) in labels.sorted(by: { $0.key < $1.key }) {
            let noise = l.sigma.map { String(format: "sigma %.3f, noise std %.4f", $0, l.noiseStd ?? 0) } ?? "no noise"
            lines.append("  \(label.isEmpty ? "(all)" : label): M = \(l.m), N = \(l.n), q = \(String(format: "%.3g", l.q)), \(noise); ~\(l.estimatedLLMTokens / 1000)k LLM tokens, ~\(String(format: "%.1f", l.estimatedMinutes)) min")
        }
        lines.append("  \(plan)")
        if let labelCounts {
            lines.append(labelCounts.source == "released"
                ? "  label counts: the data set's released DP estimate (Gaussian, sigma \(labelCounts.noiseMultiplier))"
                : "  label counts: a preview from the exact counts; gen first releases a DP estimate (Gaussian, sigma \(labelCounts.noiseMultiplier), charged once per data set), so q and M may change slightly")
        }
        if let server { lines.append("  LLM server for this plan: \(server.command)") }
        return lines.joined(separator: "\n")
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = EpsilonJSON.encoding
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
