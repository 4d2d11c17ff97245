/// One vocabulary entry of a model. `id` is the model's token id where the backend reports it;
/// `bytes` are the token's raw bytes (a token may hold part of a multi-byte UTF-8 character).
public struct Token: Sendable, Hashable, Codable {
    public var id: Int?
    public var bytes: [UInt8]

    public init(id: Int?, bytes: [UInt8]) {
        self.id = id
        self.bytes = bytes
    }

    public init(id: Int? = nil, text: String) {
        self.init(id: id, bytes: Array(text.utf8))
    }

    /// The token's text; bytes that are not valid UTF-8 on their own become U+FFFD.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// A token with its log-probability under the model's next-token distribution.
public struct TokenLogprob: Sendable, Hashable, Codable {
    public var token: Token
    public var logprob: Double

    public init(token: Token, logprob: Double) {
        self.token = token
        self.logprob = logprob
    }
}

/// The top of a next-token distribution, most probable first. Probabilities of the listed tokens
/// sum to at most 1; the rest of the vocabulary is not listed.
public struct NextTokenDistribution: Sendable, Hashable {
    public var top: [TokenLogprob]

    public init(top: [TokenLogprob]) {
        self.top = top.sorted { $0.logprob > $1.logprob }
    }
}

/// A prompt: text followed by tokens already generated. Backends that accept token ids send the
/// continuation as ids, so that generated text is fed back exactly as it was produced.
public struct ModelPrompt: Sendable, Hashable {
    public var text: String
    public var continuation: [Token]

    public init(text: String, continuation: [Token] = []) {
        self.text = text
        self.continuation = continuation
    }

    /// Text of the whole prompt, with the continuation decoded as UTF-8.
    public var flattenedText: String { text + String(decoding: continuation.flatMap(\.bytes), as: UTF8.self) }
}

/// A request for the next-token distribution of a prompt.
public struct DistributionRequest: Sendable, Hashable {
    public var prompt: ModelPrompt
    /// How many of the most probable tokens to return.
    public var topK: Int
    /// A server-side slot to keep this prompt's KV cache in (llama.cpp `id_slot`), if any.
    public var slot: Int?
    /// Whether the server may reuse a cached prompt prefix. The cache changes logprobs slightly,
    /// so requests that must be reproducible send `false`.
    public var cachePrompt: Bool

    public init(prompt: ModelPrompt, topK: Int, slot: Int? = nil, cachePrompt: Bool = false) {
        self.prompt = prompt
        self.topK = topK
        self.slot = slot
        self.cachePrompt = cachePrompt
    }
}

/// A request for greedy text generation.
public struct GenerationRequest: Sendable, Hashable {
    public var prompt: ModelPrompt
    public var maxTokens: Int
    public var stop: [String]
    public var cachePrompt: Bool

    public init(prompt: ModelPrompt, maxTokens: Int, stop: [String] = [], cachePrompt: Bool = false) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.stop = stop
        self.cachePrompt = cachePrompt
    }
}

/// The one seam between the method and an LLM: the next-token distribution of a prompt, and
/// greedy generation. Implementations are in `LLMBackends` (and a fake in `FewShotTestSupport`).
public protocol LanguageModel: Sendable {
    /// A name for the model, recorded with what it generated.
    var modelName: String { get }
    /// Token texts that end a generation (end of text, end of turn).
    var endOfTextMarkers: [String] { get }
    func nextTokenDistribution(_ request: DistributionRequest) async throws -> NextTokenDistribution
    func generate(_ request: GenerationRequest) async throws -> String
    /// The number of tokens in the model's vocabulary, if the backend knows it (needed by `full` mode).
    func vocabularySize() async throws -> Int?
    /// The token with this id (needed by `full` mode). Backends without token ids throw.
    func token(id: Int) async throws -> Token
    /// How many server-side slots requests can be pinned to (llama.cpp `--parallel`), if known.
    func slotCount() async throws -> Int?
    /// The context window of one slot in tokens, if known (llama.cpp `n_ctx` per slot).
    func contextPerSlot() async throws -> Int?
    /// `text` cut to its first `maxTokens` tokens under the model's tokenizer (unchanged when it is
    /// shorter). Backends without a tokenizer cut at ``approximateCharactersPerToken`` characters per
    /// token. Either way it is a fixed map of one text, so it changes no privacy guarantee.
    func truncated(_ text: String, maxTokens: Int) async throws -> String
}

/// Characters per token assumed where a backend cannot tokenize (a conservative guess for English BPE).
public let approximateCharactersPerToken = 4

/// Raised by backends for an operation they cannot do.
public struct UnsupportedOperation: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension LanguageModel {
    public func vocabularySize() async throws -> Int? { nil }
    public func slotCount() async throws -> Int? { nil }
    public func contextPerSlot() async throws -> Int? { nil }
    public func truncated(_ text: String, maxTokens: Int) async throws -> String {
        String(text.prefix(maxTokens * approximateCharactersPerToken))
    }
    public func token(id: Int) async throws -> Token {
        throw UnsupportedOperation("\(modelName): this backend does not expose token ids")
    }

    public var endOfTextMarkers: [String] { ["</s>", "<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end_of_text|>"] }
}
