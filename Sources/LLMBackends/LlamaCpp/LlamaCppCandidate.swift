import FewShotCore
import Foundation

/// One candidate token as llama.cpp writes it, in the native `/completion` answer and in the
/// OpenAI-compatible `logprobs.content[].top_logprobs[]`: `id`, `token` (text cut to valid UTF-8),
/// `bytes` (the exact raw bytes), and `logprob` (or `prob` with `post_sampling_probs`).
/// OpenAI's chat shape is the same without `id`.
struct LlamaCppCandidate: Decodable {
    var id: Int?
    var token: String?
    var bytes: [UInt8]?
    var logprob: Double?
    var prob: Double?

    func tokenLogprob(at position: String) throws(ParseFailure) -> TokenLogprob {
        let value: Double
        if let logprob {
            value = logprob
        } else if let prob {
            guard prob >= 0, prob <= 1 + 1e-6 else { throw ParseFailure("\(position).prob is \(prob), not in [0, 1]") }
            value = prob > 0 ? log(prob) : LogprobBounds.zeroProbability
        } else {
            throw ParseFailure("\(position) has neither logprob nor prob")
        }
        guard !value.isNaN, value <= 1e-6 else { throw ParseFailure("\(position).logprob is \(value), not <= 0") }
        let raw: [UInt8]
        if let bytes {
            raw = bytes
        } else if let token {
            raw = Array(token.utf8)
        } else {
            throw ParseFailure("\(position) has neither bytes nor token")
        }
        return TokenLogprob(token: Token(id: id, bytes: raw), logprob: min(value, 0))
    }
}

/// The distribution at one generated position: the sampled token plus its top candidates.
struct LlamaCppPosition: Decodable {
    var top_logprobs: [LlamaCppCandidate]?
    var top_probs: [LlamaCppCandidate]?

    func distribution(at position: String) throws(ParseFailure) -> NextTokenDistribution {
        let (candidates, key): ([LlamaCppCandidate], String)
        if let top_logprobs {
            (candidates, key) = (top_logprobs, "top_logprobs")
        } else if let top_probs {
            (candidates, key) = (top_probs, "top_probs")
        } else {
            throw ParseFailure("\(position) has no top_logprobs")
        }
        var top: [TokenLogprob] = []
        top.reserveCapacity(candidates.count)
        for (i, candidate) in candidates.enumerated() {
            top.append(try candidate.tokenLogprob(at: "\(position).\(key)[\(i)]"))
        }
        return NextTokenDistribution(top: top)
    }
}

extension [LlamaCppPosition] {
    /// The distribution at the first generated position of the array at `field` (as both llama.cpp's
    /// native answer and its OpenAI-style one hold it), or `BackendError.malformedResponse` naming the field.
    func firstDistribution(field: String, url: String) throws -> NextTokenDistribution {
        guard let first else {
            throw BackendError.malformedResponse(url: url, reason: "\(field) is empty (no token was generated)")
        }
        do {
            return try first.distribution(at: "\(field)[0]")
        } catch {
            throw BackendError.malformedResponse(url: url, reason: error.description)
        }
    }
}

enum LogprobBounds {
    /// llama.cpp writes log(0) as -FLT_MAX because JSON has no -inf; other shapes use the same value.
    static let zeroProbability = -Double(Float.greatestFiniteMagnitude)
}

/// Why a 2xx body could not be read; becomes `BackendError.malformedResponse` with the URL.
struct ParseFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
