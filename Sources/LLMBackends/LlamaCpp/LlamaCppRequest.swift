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
