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
    case groups, labels, delta, vocabulary
    case computeLimit = "compute_limit_minutes"
}
