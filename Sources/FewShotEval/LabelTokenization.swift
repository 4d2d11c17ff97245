import FewShotCore

/// How each label's word appears as model tokens right after the classification prompt's answer
/// header, and therefore how a label is scored.
///
/// The `LanguageModel` seam has no tokenizer, so the tokens are found from the model itself: for
/// each label, a probe prompt shows that label once as a demonstration (so its word is likely next),
/// and the word (with the separator the template puts before `{label}`, usually a space) is followed
/// greedily: at each step the longest token in the top-k that is a prefix of what remains is taken.
/// This is a tokenization the model assigns probability to; for BPE vocabularies it is normally the
/// tokenizer's own.
///
/// Guarantees: if the labels' first tokens are pairwise distinct, ``firstTokenSuffices`` is true and a
/// label is scored by its first token's probability (one request per prompt). Otherwise every label
/// is scored by its whole word: the product of its tokens' chained conditional probabilities.
public struct LabelTokenization: Sendable, Hashable, Codable {
    /// Per label, in the task's order, the word's tokens.
    public var labelTokens: [[Token]]

    public init(labelTokens: [[Token]]) {
        self.labelTokens = labelTokens
    }

    public var firstTokenSuffices: Bool {
        let firsts = labelTokens.compactMap(\.first).map(\.bytes)
        return firsts.count == labelTokens.count && Set(firsts).count == firsts.count
    }

    /// The text the template puts between the answer header and the label word (trailing spaces
    /// that `classificationPrompt` strips from the query).
    public static func separator(for task: TaskTemplate) -> String {
        let template = task.classification.example
        guard let range = template.range(of: "{label}") else { return "" }
        let head = template[..<range.lowerBound]
        return String(head.reversed().prefix { $0 == " " })
    }

    /// Finds the tokens of every label word; a few requests per label.
    public static func discover(task: TaskTemplate, model: any LanguageModel, topK: Int = 100) async throws -> LabelTokenization {
        let separator = separator(for: task)
        var all: [[Token]] = []
        for label in task.labels {
            let probe = task.classificationPrompt(demonstrations: [Demonstration(label: label.name, text: "N/A")], query: "N/A")
            let target = Array((separator + label.word).utf8)
            var tokens: [Token] = []
            var consumed = 0
            while consumed < target.count {
                let remaining = target[consumed...]
                var next: Token?
                for k in [topK, max(topK, 1000)] {
                    let request = DistributionRequest(prompt: ModelPrompt(text: probe, continuation: tokens), topK: k)
                    let distribution = try await model.nextTokenDistribution(request)
                    next = distribution.top.map(\.token)
                        .filter { !$0.bytes.isEmpty && remaining.starts(with: $0.bytes) }
                        .max { $0.bytes.count < $1.bytes.count }
                    if next != nil || k >= 1000 { break }
                }
                guard let token = next else {
                    throw EvalError.labelWordNotProducible(
                        label: label.name, word: label.word,
                        producedSoFar: String(decoding: target[..<consumed], as: UTF8.self), topK: max(topK, 1000))
                }
                tokens.append(token)
                consumed += token.bytes.count
            }
            all.append(tokens)
        }
        return LabelTokenization(labelTokens: all)
    }
}
