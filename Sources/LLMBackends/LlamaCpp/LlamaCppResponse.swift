import FewShotCore
import Foundation

/// Reads answers of llama.cpp's native `POST /completion`. The distribution is the model's raw
/// next-token distribution (`completion_probabilities[0].top_logprobs`, pre-sampling), with token ids
/// and exact bytes; the older/post-sampling `top_probs` with `prob` is read too.
public enum LlamaCppResponse {
    struct Body: Decodable {
        var content: String?
        var completion_probabilities: [LlamaCppPosition]?
    }

    /// The next-token distribution at the first generated position.
    /// Throws `BackendError.malformedResponse` naming `url` and the missing or bad field.
    public static func distribution(from body: Data, url: String) throws -> NextTokenDistribution {
        let decoded = try decode(body, url: url)
        guard let positions = decoded.completion_probabilities else {
            throw BackendError.malformedResponse(url: url, reason: "no completion_probabilities (was n_probs > 0 sent? llama.cpp omits them when the sampled token ends inside a multi-byte character)")
        }
        return try positions.firstDistribution(field: "completion_probabilities", url: url)
    }

    /// The generated text (`content`).
    public static func content(from body: Data, url: String) throws -> String {
        guard let content = try decode(body, url: url).content else {
            throw BackendError.malformedResponse(url: url, reason: "no content")
        }
        return content
    }

    static func decode(_ body: Data, url: String) throws -> Body {
        do {
            return try JSONDecoder().decode(Body.self, from: body)
        } catch {
            throw BackendError.malformedResponse(url: url, reason: "not a /completion answer: \(DecodingErrorDescription.sentence(error))")
        }
    }
}
