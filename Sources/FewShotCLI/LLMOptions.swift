import ArgumentParser
import FewShotCore
import Foundation
import LLMBackends
import LocalLLM

/// `--llm URL...` and friends, shared by every command that talks to an LLM. Without `--llm`, the
/// local server that `fewshot llm start` runs is used.
struct LLMOptions: ParsableArguments {
    @Option(name: .customLong("llm"), parsing: .upToNextOption,
            help: "LLM base URL(s); requests are spread over them (default: the local server of `fewshot llm start`).")
    var urls: [String] = []

    @Option(help: "API of the LLM: llama (llama.cpp native /completion, token ids, any top-k) or openai (/v1/completions with logprobs).")
    var api: LLMAPI = .llama

    @Option(help: "Model name sent to an OpenAI-compatible upstream.")
    var modelName: String?

    @Option(help: "Environment variable holding the upstream's API key (OpenAI API).")
    var apiKeyEnv: String?

    @Flag(help: "With --api openai: the upstream is llama.cpp, so send its extra options (slot, prompt cache, the logit bias that keeps distributions whose top token is part of a character).")
    var llamaCppExtensions = false

    @Option(help: "Per-request timeout in seconds (default 120; gen, eval and server jobs, batch work, wait at least 600).")
    var timeout: Int?

    func validate() throws {
        if api == .openai, modelName == nil { throw ValidationError("--api openai needs --model-name") }
        if let timeout, timeout < 1 { throw ValidationError("--timeout must be at least 1 second, got \(timeout)") }
        for url in urls where URL(string: url)?.scheme == nil {
            throw ValidationError("--llm \(url) is not a URL (expected e.g. http://127.0.0.1:8080)")
        }
    }

    /// The upstream URLs: the given ones, else the running local server's.
    func resolvedURLs() async throws -> [String] {
        if !urls.isEmpty { return urls }
        let server = LocalLLMServer(paths: try LocalLLMPaths.resolve(option: nil))
        guard let running = await server.running() else {
            throw ValidationError("no LLM: start the local one with `fewshot llm start` (after `fewshot llm install`), or pass --llm URL")
        }
        return [running.url.absoluteString]
    }

    static let defaultTimeout = 120

    /// A connected backend; the caller shuts it down. `defaultTimeout` applies when `--timeout` is not given.
    func connect(defaultTimeout: Int = LLMOptions.defaultTimeout) async throws -> ConnectedModel {
        let upstreams = try await resolvedURLs()
        let configuration = TransportConfiguration(requestTimeout: .seconds(timeout ?? defaultTimeout))
        switch api {
        case .llama:
            let backend = try await LlamaCppBackend.connect(upstreams: upstreams, configuration: configuration)
            return ConnectedModel(model: backend, shutdown: backend.shutdown)
        case .openai:
            let transport = try HTTPTransport(upstreams: upstreams, configuration: configuration)
            let key = apiKeyEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
            let backend = OpenAICompletionsBackend(transport: transport, model: modelName!, apiKey: key, sendsLlamaCppOptions: llamaCppExtensions)
            return ConnectedModel(model: backend, shutdown: backend.shutdown)
        }
    }
}

enum LLMAPI: String, ExpressibleByArgument, CaseIterable {
    case llama, openai
}
