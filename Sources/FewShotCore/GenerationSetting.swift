/// A generation setting as an error names it. The core does not know the front ends' spellings:
/// its errors name a setting, and each front end shows it its own way — the job API and the task
/// files by ``rawValue`` (`batch_size`), `fewshot gen` as its option (`--batch-size`).
public enum GenerationSetting: String, Sendable, Hashable, CaseIterable {
    case batches
    case batchSize = "batch_size"
    case maxTokens = "max_tokens"
    case answerMaxTokens = "answer_max_tokens"
    case maxExampleTokens = "max_example_tokens"
    case topK = "top_k"
    case groups, labels, delta, vocabulary, shots
    case computeLimit = "compute_limit_minutes"
}

extension GenerationSetting {
    /// The largest value a count may take: far beyond any useful value (the paper's T is 100, its N
    /// at most 10), low enough that a prompt's estimated tokens (N times an example's) fit in Int and
    /// that the demonstrations of a pool fit in memory. nil for settings that are not counts.
    public var maximum: Int? {
        switch self {
        case .batches, .topK: 10_000_000
        case .batchSize, .maxExampleTokens: 1_000_000
        case .maxTokens, .answerMaxTokens, .shots, .groups: 100_000
        case .labels, .delta, .vocabulary, .computeLimit: nil
        }
    }

    /// Why `value` cannot be this count ("must be at least 1, got 0"), or nil when it can.
    public func problem(with value: Int) -> String? {
        if value < 1 { return "must be at least 1, got \(value)" }
        if let maximum, value > maximum { return "must be at most \(maximum), got \(value)" }
        return nil
    }
}
