import FewShotCore
import Foundation
import Logging

/// A `LanguageModel` served by any OpenAI-compatible `POST /v1/completions` (OpenAI, vLLM,
/// llama.cpp, ...). Guarantees: distributions come from `logprobs: k` of one generated token and are
/// read in both the legacy and the llama.cpp shape; the API key goes only into the `Authorization`
/// header; generation is greedy (temperature 0). The upstream knows no token ids, so the
/// continuation is sent as text (bytes that are not whole UTF-8 become U+FFFD).
public struct OpenAICompletionsBackend: LanguageModel {
    public let transport: HTTPTransport
    public let modelName: String
    /// Also send llama.cpp's `cache_prompt` and `id_slot`, a logit bias that keeps llama.cpp from
    /// dropping the distribution when its top token is part of a multi-byte character, and fill in the
    /// text of control tokens (`/detokenize`). Off for servers that reject unknown fields.
    public let sendsLlamaCppOptions: Bool
    private let authorization: [(String, String)]
    private let controlTokens = ControlTokenTexts()

    /// - Parameter model: the `model` field sent with every request.
    public init(transport: HTTPTransport, model: String, apiKey: String? = nil, sendsLlamaCppOptions: Bool = false) {
        self.transport = transport
        self.modelName = model
        self.sendsLlamaCppOptions = sendsLlamaCppOptions
        self.authorization = apiKey.map { [("Authorization", "Bearer \($0)")] } ?? []
    }

    /// Creates its own transport over `upstreams` (base URLs without `/v1`); when `model` is nil the
    /// first model of `GET /v1/models` is used. Call `shutdown()` when done.
    public static func connect(
        upstreams: [String],
        model: String? = nil,
        apiKey: String? = nil,
        sendsLlamaCppOptions: Bool = false,
        configuration: TransportConfiguration = TransportConfiguration(),
        logger: Logger = Logger(label: "fewshot.llm-backends")
    ) async throws -> OpenAICompletionsBackend {
        try await HTTPTransport.connecting(upstreams: upstreams, configuration: configuration, logger: logger) { transport in
            var name = model
            if name == nil {
                name = try await ServedModel.fetch(
                    from: transport, headers: apiKey.map { [("Authorization", "Bearer \($0)")] } ?? []
                ).name
            }
            return OpenAICompletionsBackend(
                transport: transport, model: name!, apiKey: apiKey, sendsLlamaCppOptions: sendsLlamaCppOptions
            )
        }
    }

    /// Shuts down the transport (a no-op for an injected `HTTPClient`).
    public func shutdown() async throws {
        try await transport.shutdown()
    }

    struct RequestBody: Encodable {
        var model: String
        var prompt: String
        var max_tokens: Int
        var logprobs: Int?
        var temperature: Double
        var stop: [String]?
        var cache_prompt: Bool?
        var id_slot: Int?
        var logit_bias: [String: Double]?
    }

    public func nextTokenDistribution(_ request: DistributionRequest) async throws -> NextTokenDistribution {
        guard request.topK >= 1 else { throw BackendError.invalidRequest(reason: "topK must be at least 1, got \(request.topK)") }
        let body = RequestBody(
            model: modelName,
            prompt: request.prompt.flattenedText,
            max_tokens: 1,
            logprobs: request.topK,
            temperature: 0,
            stop: nil,
            cache_prompt: sendsLlamaCppOptions ? request.cachePrompt : nil,
            id_slot: sendsLlamaCppOptions ? request.slot : nil,
            logit_bias: sendsLlamaCppOptions ? [CompleteTokenBias.text: CompleteTokenBias.bias] : nil
        )
        let response = try await transport.post("/v1/completions", json: try JSONEncoder().encode(body), headers: authorization)
        let distribution = try OpenAICompletionsResponse.distribution(from: response.body, url: response.url)
        return sendsLlamaCppOptions ? try await controlTokens.filled(distribution, using: transport, headers: authorization) : distribution
    }

    public func generate(_ request: GenerationRequest) async throws -> String {
        guard request.maxTokens >= 1 else { throw BackendError.invalidRequest(reason: "maxTokens must be at least 1, got \(request.maxTokens)") }
        let body = RequestBody(
            model: modelName,
            prompt: request.prompt.flattenedText,
            max_tokens: request.maxTokens,
            logprobs: nil,
            temperature: 0,
            stop: request.stop.isEmpty ? nil : request.stop,
            cache_prompt: sendsLlamaCppOptions ? request.cachePrompt : nil,
            id_slot: nil,
            logit_bias: nil
        )
        let response = try await transport.post("/v1/completions", json: try JSONEncoder().encode(body), headers: authorization)
        return try OpenAICompletionsResponse.text(from: response.body, url: response.url)
    }
}
