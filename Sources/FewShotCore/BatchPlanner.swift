import Foundation

/// The automatic plan (`--batches auto`): how many private batches M each label gets.
///
/// More batches cut the noise on the averaged distribution, sigma * sqrt(2) / M, almost linearly,
/// because in amplified partition mode sigma grows only slowly with q = M*N/|D_y| (algorithm.md's
/// table: AGNews at epsilon 4, M = 10/200/1000 give 0.40/0.028/0.0073). So the plan takes N = the
/// settings' batch size and the largest M that the compute limit allows, capped per label at
/// |D_y|/N (q <= 1; more batches would only be empty). Compute is estimated in LLM tokens read,
/// from public quantities only (the task's templates, T, the example token limit and the label
/// counts), never from the private texts: in partition mode each of the M batch prompts is read
/// once and then fed one token per step, so a demonstration reads about M * (P + T) tokens, P being
/// a batch prompt's length, in M * T requests; in subsample mode every step reads M fresh prompts.
/// The server's time is tokens / `tokensPerSecond` + requests * `secondsPerRequest`.
public struct BatchPlanner: Sendable {
    /// Wall time one generation may take (the estimate, at `tokensPerSecond`).
    public var computeLimitSeconds: Double
    /// LLM tokens the server reads per second (prompt and one-token steps alike): ~175 for
    /// SmolLM2-135M on 2 CPU cores with llama-server.
    public var tokensPerSecond: Double
    /// Server time per request beyond its tokens: llama-server admits and answers the requests of a
    /// step one at a time (each answer sorts the whole vocabulary for its top-k), about 20 ms each
    /// for SmolLM2 on 2 cores (measured: TREC sets of ~9,000 requests, 2026-11-30).
    public var secondsPerRequest: Double

    public static let defaultComputeLimitMinutes = 15.0
    public static let defaultTokensPerSecond = 175.0
    public static let defaultSecondsPerRequest = 0.02
    /// The example length assumed when a task sets no `max_example_tokens`.
    public static let assumedExampleTokens = 128
    /// Characters per token assumed for template text (English BPE).
    static let charactersPerToken = 4.0

    public init(
        computeLimitSeconds: Double = defaultComputeLimitMinutes * 60, tokensPerSecond: Double = defaultTokensPerSecond,
        secondsPerRequest: Double = defaultSecondsPerRequest
    ) {
        self.computeLimitSeconds = computeLimitSeconds
        self.tokensPerSecond = tokensPerSecond
        self.secondsPerRequest = secondsPerRequest
    }

    /// The chosen M per label, and why.
    public struct Plan: Sendable, Hashable {
        public var batchesByLabel: [String: Int]
        public var batchSize: Int
        /// Estimated LLM tokens of the whole generation.
        public var estimatedTokens: Int
        public var estimatedSeconds: Double
        /// One line: what was chosen and what bounded it.
        public var reason: String
    }

    /// Estimated tokens of one batch prompt (instruction, N examples at their token limit, header).
    public static func promptTokens(task: TaskTemplate, settings: GenerationSettings) -> Int {
        let example = task.generation.example
        let templateChars = example.replacingOccurrences(of: "{text}", with: "").replacingOccurrences(of: "{label}", with: "")
            .replacingOccurrences(of: "{answer}", with: "").count
        let perExample = Int((Double(templateChars) / charactersPerToken).rounded(.up)) + (settings.maxExampleTokens ?? assumedExampleTokens)
            + (settings.answerMaxTokens ?? 0)
        let fixed = Int((Double(task.generation.instruction.count + templateChars) / charactersPerToken).rounded(.up))
        return fixed + settings.batchSize * perExample
    }

    /// Estimated LLM tokens and requests of one demonstration with `m` batches. An empty batch costs
    /// nothing (its prompt is the public one, asked anyway); with Poisson sampling at N examples per
    /// batch on average, a fraction 1 - e^-N of the batches hold an example. Every step asks each
    /// non-empty batch and the public prompt once. In floating point: the products of M, T and P
    /// outgrow Int for settings no plan would run (and then only say so).
    public static func demonstrationCost(batches m: Int, promptTokens p: Int, settings: GenerationSettings) -> (tokens: Double, requests: Double) {
        let t = Double(settings.tokensPerDemonstration), p = Double(p)
        let asked = settings.subsampleScheme == .poisson ? Double(m) * (1 - exp(-Double(settings.batchSize))) : Double(m)
        let prompts = asked.rounded(.up) + 1
        switch settings.sampling {
        case .partition:
            return (prompts * (p + t), prompts * t)
        case .subsample:
            // A fresh prompt per batch and step: M * sum over steps of (P + step).
            return (prompts * (t * p + t * (t + 1) / 2), prompts * t)
        }
    }

    /// Estimated seconds of `cost` on the server.
    public func seconds(_ cost: (tokens: Double, requests: Double)) -> Double {
        cost.tokens / tokensPerSecond + cost.requests * secondsPerRequest
    }

    /// An estimate (tokens, seconds) as a whole number, rounded up (Int.max for one beyond it).
    public static func roundedUp(_ estimate: Double) -> Int {
        estimate < 9e18 ? Int(estimate.rounded(.up)) : .max
    }

    /// The plan for `settings` (its labels, N, T, sampling) on data with `examplesPerLabel`.
    public func plan(task: TaskTemplate, settings: GenerationSettings, examplesPerLabel: [String: Int]) -> Plan {
        let labels = Array(Set(settings.labels)).sorted()
        let n = max(1, settings.batchSize)
        let p = Self.promptTokens(task: task, settings: settings)
        // With G groups the limit is per group (one set's worth of demonstrations); a group holds
        // |D_y|/G examples in expectation, which caps its M.
        let g = max(1, settings.groups)
        let shots = Dictionary(grouping: settings.labels, by: { $0 }).mapValues { $0.count / g }
        let caps = Dictionary(uniqueKeysWithValues: labels.map { ($0, max(1, (examplesPerLabel[$0] ?? 0) / (n * g))) })
        func allocation(cap: Int) -> [String: Int] { caps.mapValues { min($0, cap) } }
        func cost(_ batches: [String: Int]) -> (tokens: Double, requests: Double) {
            batches.reduce((0, 0)) { sum, entry in
                let one = Self.demonstrationCost(batches: entry.value, promptTokens: p, settings: settings)
                let k = Double(shots[entry.key, default: 0])
                return (sum.0 + k * one.tokens, sum.1 + k * one.requests)
            }
        }
        // The largest common cap whose allocation fits the limit (the cost grows with the cap).
        let largest = caps.values.max() ?? 1
        var lo = 1, hi = largest
        if seconds(cost(allocation(cap: largest))) <= computeLimitSeconds {
            lo = largest
        } else {
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if seconds(cost(allocation(cap: mid))) <= computeLimitSeconds { lo = mid } else { hi = mid - 1 }
            }
        }
        let chosen = allocation(cap: lo)
        let total = Self.roundedUp(cost(chosen).tokens * Double(g))
        let perGroupSeconds = seconds(cost(chosen))
        let seconds = perGroupSeconds * Double(g)
        let limited = chosen.filter { $0.value < lo }.keys.sorted()
        let bound: String
        if lo == largest {
            bound = "every label uses all its examples (M*N = |D_y|), within the \(Self.minutes(computeLimitSeconds))-minute compute limit"
        } else if lo == 1 && perGroupSeconds > computeLimitSeconds {
            bound = "even M = 1 exceeds the \(Self.minutes(computeLimitSeconds))-minute compute limit; raise the compute limit"
        } else {
            bound = "the most batches that fit the \(Self.minutes(computeLimitSeconds))-minute compute limit at \(String(format: "%.0f", tokensPerSecond)) LLM tokens/s and \(String(format: "%.0f", secondsPerRequest * 1000)) ms per request"
                + (limited.isEmpty ? "" : "; \(limited.joined(separator: ", ")) capped at |D_y|/N")
        }
        let perLabel = Set(chosen.values).count == 1 ? "M = \(lo)" : "M = " + labels.map { "\(chosen[$0]!) (\($0))" }.joined(separator: ", ")
        let pool = g > 1 ? " per group; \(g) groups (the limit applies to each)" : ""
        let reason = "auto plan: \(perLabel), N = \(n)\(pool): \(bound); ~\(total / 1000)k LLM tokens, ~\(Self.minutes(seconds)) min; more batches, less noise (sigma*sqrt(2)/M)"
        return Plan(batchesByLabel: chosen, batchSize: n, estimatedTokens: total, estimatedSeconds: seconds, reason: reason)
    }

    /// Context one llama-server slot needs: a batch prompt at its token limit, the demonstration, and
    /// a quarter more for the estimate's error, rounded up to a multiple of 64.
    public static func contextPerSlot(task: TaskTemplate, settings: GenerationSettings) -> Int {
        let need = Int(Double(promptTokens(task: task, settings: settings) + settings.tokensPerDemonstration) * 1.25) + 16
        return (need + 63) / 64 * 64
    }

    /// The estimate for settings whose M is already fixed (pinned by the user or a task file).
    public func estimate(task: TaskTemplate, settings: GenerationSettings) -> (tokens: Int, seconds: Double) {
        let p = Self.promptTokens(task: task, settings: settings)
        let costs = settings.labels.map { Self.demonstrationCost(batches: settings.batches(for: $0), promptTokens: p, settings: settings) }
        let total = costs.reduce((tokens: 0.0, requests: 0.0)) { ($0.tokens + $1.tokens, $0.requests + $1.requests) }
        return (Self.roundedUp(total.tokens), seconds(total))
    }

    public static func minutes(_ seconds: Double) -> String {
        let m = seconds / 60
        return m >= 10 ? String(format: "%.0f", m) : String(format: "%.1f", m)
    }
}

extension GenerationSettings {
    /// These settings with the plan's M per label and N.
    public func applying(_ plan: BatchPlanner.Plan) -> GenerationSettings {
        var settings = self
        settings.batchSize = plan.batchSize
        settings.batchesByLabel = plan.batchesByLabel
        settings.batches = plan.batchesByLabel.values.max() ?? settings.batches
        return settings
    }
}
