import FewShotCore

/// The body of a native `POST /completion`.
struct LlamaCppRequest: Encodable {
    var prompt: PromptValue
    var n_predict: Int
    var n_probs: Int?
    var post_sampling_probs: Bool?
    var id_slot: Int?
    var cache_prompt: Bool
    var temperature: Double
    var top_k: Int
    var stop: [String]?
    var logit_bias: CompleteTokenBias?
}

/// A logit bias that makes the one sampled token a whole UTF-8 character ("."). llama.cpp holds back
/// a sampled token that ends inside a multi-byte character and then returns no probabilities at all
/// for `n_predict: 1`; the bias acts in the sampler only, so the reported (raw) distribution is
/// unchanged — checked against the real server, see BackendIntegrationTests.
struct CompleteTokenBias: Encodable {
    static let text = "."
    static let bias = 1000.0

    func encode(to encoder: any Encoder) throws {
        var outer = encoder.unkeyedContainer()
        var pair = outer.nestedUnkeyedContainer()
        try pair.encode(Self.text)
        try pair.encode(Self.bias)
    }
}

/// A prompt as llama.cpp tokenizes it: plain text, or text mixed with token ids. An array of strings
/// only would be read as several prompts, so a mixed array always holds at least one id.
enum PromptValue: Encodable, Equatable {
    case text(String)
    case mixed([Part])

    enum Part: Encodable, Equatable {
        case text(String)
        case id(Int)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let s): try container.encode(s)
            case .id(let id): try container.encode(id)
            }
        }
    }

    /// The prompt text, then the continuation: tokens with ids as ids, runs of tokens without ids as text.
    init(_ prompt: ModelPrompt) {
        guard prompt.continuation.contains(where: { $0.id != nil }) else {
            self = .text(prompt.flattenedText)
            return
        }
        var parts: [Part] = [.text(prompt.text)]
        var pendingBytes: [UInt8] = []
        for token in prompt.continuation {
            if let id = token.id {
                if !pendingBytes.isEmpty {
                    parts.append(.text(String(decoding: pendingBytes, as: UTF8.self)))
                    pendingBytes = []
                }
                parts.append(.id(id))
            } else {
                pendingBytes += token.bytes
            }
        }
        if !pendingBytes.isEmpty { parts.append(.text(String(decoding: pendingBytes, as: UTF8.self))) }
        self = .mixed(parts)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let s): try container.encode(s)
        case .mixed(let parts): try container.encode(parts)
        }
    }
}
