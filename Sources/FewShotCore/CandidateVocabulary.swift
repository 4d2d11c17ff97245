import Foundation

/// The tokens that compete in one step's noisy argmax, and the projection of a next-token
/// distribution onto them.
///
/// - RVP: the public prompt's top-K tokens. The set does not depend on private data.
/// - full: the union of the private prompts' top-k lists. The set does depend on private data, so
///   the noisy argmax also runs over every other token of the vocabulary (with aggregate 0); see
///   ``NoisyArgmax``. A private prompt's tokens outside its own top-k count as probability 0.
///
/// Each projected vector is renormalised to sum to 1 over the candidates (a probability vector), or
/// is all zeros when the prompt listed none of them. Any two such vectors differ by at most sqrt(2)
/// in L2 norm, which is the sensitivity the mechanism is calibrated for.
public struct CandidateVocabulary: Sendable {
    public let tokens: [Token]
    private let index: [Token: Int]

    public init(tokens: [Token]) {
        var seen: [Token: Int] = [:]
        var unique: [Token] = []
        for token in tokens where seen[token] == nil {
            seen[token] = unique.count
            unique.append(token)
        }
        self.tokens = unique
        self.index = seen
    }

    /// RVP: the `k` most probable tokens of the public prompt.
    public static func reduced(publicDistribution: NextTokenDistribution, k: Int) -> CandidateVocabulary {
        CandidateVocabulary(tokens: publicDistribution.top.prefix(k).map(\.token))
    }

    /// full: every token any private prompt listed.
    public static func union(of distributions: [NextTokenDistribution]) -> CandidateVocabulary {
        CandidateVocabulary(tokens: distributions.flatMap { $0.top.map(\.token) })
    }

    public var count: Int { tokens.count }

    public func contains(_ token: Token) -> Bool { index[token] != nil }

    /// The distribution restricted to the candidates and renormalised (zeros if it lists none).
    public func probabilityVector(_ distribution: NextTokenDistribution) -> [Double] {
        var vector = Array(repeating: 0.0, count: tokens.count)
        for entry in distribution.top {
            if let i = index[entry.token] { vector[i] += Foundation.exp(entry.logprob) }
        }
        let total = vector.reduce(0, +)
        guard total > 0 else { return vector }
        return vector.map { $0 / total }
    }
}

/// Averages the M per-batch probability vectors: p = (1/M) * sum_b p_b.
public enum PrivateAggregate {
    public static func mean(_ vectors: [[Double]], count: Int) -> [Double] {
        var sum = Array(repeating: 0.0, count: count)
        for vector in vectors {
            for i in 0..<count { sum[i] += vector[i] }
        }
        let m = Double(vectors.count)
        return sum.map { $0 / m }
    }

    /// Each vector scaled so its maximum is 1 (all-zero vectors stay zero): the utility of the
    /// exponential variant, whose coordinates change by at most 2/M between neighbours as documented.
    public static func maxScaled(_ vector: [Double]) -> [Double] {
        guard let top = vector.max(), top > 0 else { return vector }
        return vector.map { $0 / top }
    }
}
