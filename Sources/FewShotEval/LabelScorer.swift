import Foundation
import FewShotCore

/// Reads, for one classification prompt, the probability of each label's word as the model's
/// continuation after the answer header.
///
/// A label whose token is not among the returned top-k gets the smallest probability the model did
/// list (or the unlisted mass, if smaller): an upper bound on its true probability that ranks it at
/// or below every listed label and keeps contextual calibration away from division by zero. Requests
/// ask the server to reuse its cached prompt prefix (`cachePrompt`) in one `slot`, so the shared
/// demonstrations are read once per condition rather than once per test example.
public struct LabelScorer: Sendable {
    public let task: TaskTemplate
    public let model: any LanguageModel
    public let tokenization: LabelTokenization
    public let topK: Int
    public let cachePrompt: Bool
    public let slot: Int?

    public init(task: TaskTemplate, model: any LanguageModel, tokenization: LabelTokenization, topK: Int = 100, cachePrompt: Bool = true, slot: Int? = 0) {
        self.task = task
        self.model = model
        self.tokenization = tokenization
        self.topK = topK
        self.cachePrompt = cachePrompt
        self.slot = slot
    }

    /// Label probabilities in the task's label order (not normalised), for demonstrations and a query.
    public func labelProbabilities(demonstrations: [Demonstration], query: String) async throws -> [Double] {
        try await labelProbabilities(prompt: task.classificationPrompt(demonstrations: demonstrations, query: query))
    }

    public func labelProbabilities(prompt: String) async throws -> [Double] {
        var distributions: [[Token]: NextTokenDistribution] = [:]
        func distribution(after continuation: [Token]) async throws -> NextTokenDistribution {
            if let known = distributions[continuation] { return known }
            let request = DistributionRequest(prompt: ModelPrompt(text: prompt, continuation: continuation), topK: topK, slot: slot, cachePrompt: cachePrompt)
            let result = try await model.nextTokenDistribution(request)
            distributions[continuation] = result
            return result
        }
        let wholeWord = !tokenization.firstTokenSuffices
        var scores: [Double] = []
        for tokens in tokenization.labelTokens {
            var probability = 1.0
            for (position, token) in tokens.enumerated() {
                let listed = try await distribution(after: Array(tokens[..<position]))
                guard let p = Self.probability(of: token, in: listed) else {
                    probability *= Self.unlistedBound(listed)
                    break
                }
                probability *= p
                if !wholeWord { break }
            }
            scores.append(probability)
        }
        return scores
    }

    static func probability(of token: Token, in distribution: NextTokenDistribution) -> Double? {
        let match = distribution.top.first { entry in
            if let a = entry.token.id, let b = token.id { return a == b }
            return entry.token.bytes == token.bytes
        }
        return match.map { exp($0.logprob) }
    }

    static func unlistedBound(_ distribution: NextTokenDistribution) -> Double {
        let listed = distribution.top.map { exp($0.logprob) }
        let smallest = listed.min() ?? 1
        let rest = 1 - listed.reduce(0, +)
        return max(min(smallest, max(rest, 0)), Double.leastNormalMagnitude)
    }
}
