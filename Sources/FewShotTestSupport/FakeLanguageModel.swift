import FewShotCore
import Foundation
import Synchronization

/// An in-process, deterministic language model for unit tests. Its vocabulary is a fixed list of
/// token texts (token id = position); `distribution` says, for a prompt, the probability of each
/// token text (missing texts get probability 0, the rest is renormalised). It records every request.
public final class FakeLanguageModel: LanguageModel, Sendable {
    public let modelName: String
    public let vocabulary: [String]
    private let distribution: @Sendable (ModelPrompt) -> [String: Double]
    private let traffic = Mutex(Traffic())
    private struct Traffic {
        var recorded: [DistributionRequest] = []
        var inFlight = 0
        var maxInFlight = 0
    }
    private let delay: Duration
    private let slots: Int?

    public init(
        name: String = "fake", vocabulary: [String], delay: Duration = .zero, slots: Int? = 16,
        distribution: @escaping @Sendable (ModelPrompt) -> [String: Double]
    ) {
        self.modelName = name
        self.vocabulary = vocabulary
        self.distribution = distribution
        self.delay = delay
        self.slots = slots
    }

    /// Every distribution request so far, in arrival order.
    public var requests: [DistributionRequest] { traffic.withLock { $0.recorded } }
    /// The most requests that were in flight at once.
    public var peakConcurrency: Int { traffic.withLock { $0.maxInFlight } }

    public func nextTokenDistribution(_ request: DistributionRequest) async throws -> NextTokenDistribution {
        traffic.withLock {
            $0.recorded.append(request)
            $0.inFlight += 1
            $0.maxInFlight = max($0.maxInFlight, $0.inFlight)
        }
        defer { traffic.withLock { $0.inFlight -= 1 } }
        if delay > .zero { try await Task.sleep(for: delay) }
        return NextTokenDistribution(top: Array(entries(for: request.prompt).prefix(request.topK)))
    }

    public func generate(_ request: GenerationRequest) async throws -> String {
        var prompt = request.prompt
        var out = ""
        for _ in 0..<request.maxTokens {
            guard let best = entries(for: prompt).first else { break }
            let text = best.token.text
            if request.stop.contains(where: { text.contains($0) }) || endOfTextMarkers.contains(text) { break }
            out += text
            prompt.continuation.append(best.token)
        }
        return out
    }

    public func vocabularySize() async throws -> Int? { vocabulary.count }

    public func slotCount() async throws -> Int? { slots }

    public func token(id: Int) async throws -> Token { Token(id: id, text: vocabulary[id]) }

    private func entries(for prompt: ModelPrompt) -> [TokenLogprob] {
        let weights = distribution(prompt)
        let total = weights.values.reduce(0, +)
        guard total > 0 else { return [] }
        return vocabulary.enumerated().compactMap { id, text in
            guard let w = weights[text], w > 0 else { return nil }
            return TokenLogprob(token: Token(id: id, text: text), logprob: Foundation.log(w / total))
        }.sorted { $0.logprob > $1.logprob || ($0.logprob == $1.logprob && $0.token.id! < $1.token.id!) }
    }
}
