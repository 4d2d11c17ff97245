import FewShotCore
import Foundation

/// Reads answers of an OpenAI-compatible `POST /v1/completions`, in both shapes: the legacy one
/// (`choices[0].logprobs.top_logprobs[0]` = `{token: logprob}`, no ids; tokens that are not whole
/// UTF-8 are written `bytes:\xNN...`) and llama.cpp's (`choices[0].logprobs.content[0].top_logprobs[]`
/// with `token`, `logprob`, `bytes`, `id`). Ids and bytes are kept where the upstream sends them.
public enum OpenAICompletionsResponse {
    struct Body: Decodable {
        struct Choice: Decodable {
            struct Logprobs: Decodable {
                var content: [LlamaCppPosition]?
                var top_logprobs: [[String: Double]?]?
            }
            var text: String?
            var logprobs: Logprobs?
        }
        var choices: [Choice]?
    }

    /// The next-token distribution at the first generated position.
    public static func distribution(from body: Data, url: String) throws -> NextTokenDistribution {
        let choice = try firstChoice(body, url: url)
        guard let logprobs = choice.logprobs else {
            throw BackendError.malformedResponse(url: url, reason: "choices[0].logprobs is missing (was logprobs sent? llama.cpp omits it when the sampled token ends inside a multi-byte character unless sendsLlamaCppOptions is on)")
        }
        if let content = logprobs.content {
            return try content.firstDistribution(field: "choices[0].logprobs.content", url: url)
        }
        guard let positions = logprobs.top_logprobs else {
            throw BackendError.malformedResponse(url: url, reason: "choices[0].logprobs has neither content nor top_logprobs")
        }
        guard let first = positions.first else {
            throw BackendError.malformedResponse(url: url, reason: "choices[0].logprobs.top_logprobs is empty (no token was generated)")
        }
        guard let entries = first else {
            throw BackendError.malformedResponse(url: url, reason: "choices[0].logprobs.top_logprobs[0] is null")
        }
        var top: [TokenLogprob] = []
        for (text, logprob) in entries {
            guard !logprob.isNaN, logprob <= 1e-6 else {
                throw BackendError.malformedResponse(url: url, reason: "choices[0].logprobs.top_logprobs[0] has logprob \(logprob), not <= 0")
            }
            top.append(TokenLogprob(token: Token(id: nil, bytes: legacyTokenBytes(text)), logprob: min(logprob, 0)))
        }
        return NextTokenDistribution(top: top)
    }

    /// The generated text (`choices[0].text`).
    public static func text(from body: Data, url: String) throws -> String {
        guard let text = try firstChoice(body, url: url).text else {
            throw BackendError.malformedResponse(url: url, reason: "choices[0].text is missing")
        }
        return text
    }

    /// The bytes of a legacy token string: `bytes:\xe2\x80` spells raw bytes, anything else is UTF-8 text.
    public static func legacyTokenBytes(_ token: String) -> [UInt8] {
        guard token.hasPrefix("bytes:") else { return Array(token.utf8) }
        let escaped = Array(token.utf8.dropFirst(6))
        var bytes: [UInt8] = []
        var i = 0
        while i < escaped.count {
            if i + 3 < escaped.count, escaped[i] == UInt8(ascii: "\\"), escaped[i + 1] == UInt8(ascii: "x"),
               let byte = UInt8(String(decoding: escaped[(i + 2)...(i + 3)], as: UTF8.self), radix: 16) {
                bytes.append(byte)
                i += 4
            } else {
                bytes.append(escaped[i])
                i += 1
            }
        }
        return bytes
    }

    private static func firstChoice(_ body: Data, url: String) throws -> Body.Choice {
        let decoded: Body
        do {
            decoded = try JSONDecoder().decode(Body.self, from: body)
        } catch {
            throw BackendError.malformedResponse(url: url, reason: "not a /v1/completions answer: \(DecodingErrorDescription.sentence(error))")
        }
        guard let choice = decoded.choices?.first else {
            throw BackendError.malformedResponse(url: url, reason: "no choices")
        }
        return choice
    }
}
