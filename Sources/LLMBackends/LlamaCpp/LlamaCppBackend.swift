import FewShotCore
import Foundation
import Logging

/// A `LanguageModel` served by llama.cpp's native `POST /completion`. Guarantees: distributions are
/// the model's raw next-token distribution (not post-sampling), with token ids and exact bytes, for
/// any `topK` up to the whole vocabulary; a continuation with ids is sent as ids, so generated tokens
/// are fed back exactly; control tokens carry their text (`<|im_end|>`, via `/detokenize`); generation
/// is greedy (temperature 0, top_k 1). Failures are `BackendError`s.
public struct LlamaCppBackend: LanguageModel {
    public let transport: HTTPTransport
    public let modelName: String
    private let reportedVocabularySize: Int?
    private let controlTokens = ControlTokenTexts()
    private let vocabulary = VocabularyTable()

    public init(transport: HTTPTransport, modelName: String, vocabularySize: Int? = nil) {
        self.transport = transport
        self.modelName = modelName
        self.reportedVocabularySize = vocabularySize
    }

    /// Asks the server (`GET /v1/models`) for the model name and vocabulary size.
    public static func connect(transport: HTTPTransport) async throws -> LlamaCppBackend {
        let info = try await ServedModel.fetch(from: transport)
        // llama-server names the model by its file path; the file name is what identifies it.
        let name = info.name.hasSuffix(".gguf") ? URL(fileURLWithPath: info.name).lastPathComponent : info.name
        return LlamaCppBackend(transport: transport, modelName: name, vocabularySize: info.vocabularySize)
    }

    /// Creates its own transport over `upstreams` (base URLs like `http://127.0.0.1:8090`);
    /// call `shutdown()` when done.
    public static func connect(
        upstreams: [String],
        configuration: TransportConfiguration = TransportConfiguration(),
        logger: Logger = Logger(label: "fewshot.llm-backends")
    ) async throws -> LlamaCppBackend {
        try await HTTPTransport.connecting(upstreams: upstreams, configuration: configuration, logger: logger) { transport in
            try await connect(transport: transport)
        }
    }

    /// Shuts down the transport (a no-op for an injected `HTTPClient`).
    public func shutdown() async throws {
        try await transport.shutdown()
    }

    public func nextTokenDistribution(_ request: DistributionRequest) async throws -> NextTokenDistribution {
        guard request.topK >= 1 else { throw BackendError.invalidRequest(reason: "topK must be at least 1, got \(request.topK)") }
        let response = try await transport.post("/completion", json: try requestBody(for: request))
        let distribution = try LlamaCppResponse.distribution(from: response.body, url: response.url)
        return try await controlTokens.filled(distribution, using: transport)
    }

    /// The exact JSON body `nextTokenDistribution` sends for `request` (benchmarks replay it).
    public func requestBody(for request: DistributionRequest) throws -> Data {
        let body = LlamaCppRequest(
            prompt: PromptValue(request.prompt),
            n_predict: 1,
            n_probs: request.topK,
            post_sampling_probs: false,
            id_slot: request.slot,
            cache_prompt: request.cachePrompt,
            temperature: 0,
            top_k: 1,
            stop: nil,
            logit_bias: CompleteTokenBias()
        )
        return try JSONEncoder().encode(body)
    }

    /// Number of tokens in the model's vocabulary, as `GET /v1/models` reported it at `connect`.
    public func vocabularySize() async throws -> Int? { reportedVocabularySize }

    /// How many parallel slots the server runs (`total_slots` of `GET /props`, i.e. `--parallel`).
    public func slotCount() async throws -> Int? {
        struct Props: Decodable { var total_slots: Int? }
        let response = try await transport.get("/props")
        do {
            return try JSONDecoder().decode(Props.self, from: response.body).total_slots
        } catch {
            throw BackendError.malformedResponse(url: response.url, reason: "not a /props answer: \(DecodingErrorDescription.sentence(error))")
        }
    }

    /// The context window of one slot (`default_generation_settings.n_ctx` of `GET /props`).
    public func contextPerSlot() async throws -> Int? {
        struct Props: Decodable {
            struct Settings: Decodable { var n_ctx: Int? }
            var default_generation_settings: Settings?
        }
        let response = try await transport.get("/props")
        do {
            return try JSONDecoder().decode(Props.self, from: response.body).default_generation_settings?.n_ctx
        } catch {
            throw BackendError.malformedResponse(url: response.url, reason: "not a /props answer: \(DecodingErrorDescription.sentence(error))")
        }
    }

    /// `text` cut to its first `maxTokens` tokens by the server's tokenizer (`POST /tokenize`, then
    /// `POST /detokenize` of the kept tokens); unchanged when it is no longer.
    public func truncated(_ text: String, maxTokens: Int) async throws -> String {
        struct Tokenize: Encodable { var content: String; var add_special = false }
        struct Tokens: Codable { var tokens: [Int] }
        struct Content: Decodable { var content: String }
        // A token holds at least one character, so a text this short cannot exceed the limit.
        if text.count <= maxTokens { return text }
        let tokenized = try await transport.post("/tokenize", json: try JSONEncoder().encode(Tokenize(content: text)))
        let tokens: [Int]
        do { tokens = try JSONDecoder().decode(Tokens.self, from: tokenized.body).tokens } catch {
            throw BackendError.malformedResponse(url: tokenized.url, reason: "not a /tokenize answer: \(DecodingErrorDescription.sentence(error))")
        }
        guard tokens.count > maxTokens else { return text }
        let detokenized = try await transport.post("/detokenize", json: try JSONEncoder().encode(Tokens(tokens: Array(tokens.prefix(maxTokens)))))
        do { return try JSONDecoder().decode(Content.self, from: detokenized.body).content } catch {
            throw BackendError.malformedResponse(url: detokenized.url, reason: "not a /detokenize answer: \(DecodingErrorDescription.sentence(error))")
        }
    }

    /// The vocabulary entry with this id, with exact bytes. The first call reads the whole vocabulary
    /// with one distribution request (about 5 MB for 49152 tokens); later calls are table lookups.
    public func token(id: Int) async throws -> Token {
        let k = reportedVocabularySize ?? Int(Int32.max)
        return try await vocabulary.token(id: id) { [self] in
            try await nextTokenDistribution(DistributionRequest(prompt: ModelPrompt(text: "\n"), topK: k))
        }
    }

    public func generate(_ request: GenerationRequest) async throws -> String {
        guard request.maxTokens >= 1 else { throw BackendError.invalidRequest(reason: "maxTokens must be at least 1, got \(request.maxTokens)") }
        let body = LlamaCppRequest(
            prompt: PromptValue(request.prompt),
            n_predict: request.maxTokens,
            n_probs: nil,
            post_sampling_probs: nil,
            id_slot: nil,
            cache_prompt: request.cachePrompt,
            temperature: 0,
            top_k: 1,
            stop: request.stop.isEmpty ? nil : request.stop,
            logit_bias: nil
        )
        let response = try await transport.post("/completion", json: try JSONEncoder().encode(body))
        return try LlamaCppResponse.content(from: response.body, url: response.url)
    }
}
