import FewShotCore
import FewShotTestSupport
import Foundation
import LLMBackends
import Testing

/// What each backend puts on the wire, checked at a local stub upstream.
@Suite struct BackendRequestTests {
    static let nativeAnswer = #"{"content":" Paris","completion_probabilities":[{"id":7042,"token":" Paris","bytes":[32,80,97,114,105,115],"logprob":-1.5,"top_logprobs":[{"id":7042,"token":" Paris","bytes":[32,80,97,114,105,115],"logprob":-1.5},{"id":253,"token":" the","bytes":[32,116,104,101],"logprob":-2.0}]}]}"#
    static let openAIAnswer = #"{"choices":[{"text":" Paris","index":0,"logprobs":{"tokens":[" Paris"],"token_logprobs":[-1.5],"top_logprobs":[{" Paris":-1.5," the":-2.0}]},"finish_reason":"length"}]}"#

    func withStub(
        answer: String, _ body: (MisbehavingUpstream, HTTPTransport) async throws -> Void
    ) async throws {
        let stub = try await MisbehavingUpstream.start { _ in .respond(status: 200, body: answer) }
        let http = try HTTPTransport(upstreams: [stub.url])
        do {
            try await body(stub, http)
        } catch {
            try await http.shutdown()
            await stub.stop()
            throw error
        }
        try await http.shutdown()
        await stub.stop()
    }

    @Test func llamaCppSendsContinuationIdsSlotAndCacheFlag() async throws {
        try await withStub(answer: Self.nativeAnswer) { stub, http in
            let backend = LlamaCppBackend(transport: http, modelName: "m")
            let prompt = ModelPrompt(text: "Q: capital? A:", continuation: [Token(id: 7042, text: " Paris"), Token(id: 30, text: ".")])
            let d = try await backend.nextTokenDistribution(DistributionRequest(prompt: prompt, topK: 2, slot: 3, cachePrompt: true))
            #expect(d.top.map(\.token.id) == [7042, 253])
            let request = try #require(await stub.requests.first)
            #expect(request.uri == "/completion")
            let sent = try #require(request.json)
            #expect(sent["n_predict"] as? Int == 1)
            #expect(sent["n_probs"] as? Int == 2)
            #expect(sent["id_slot"] as? Int == 3)
            #expect(sent["cache_prompt"] as? Bool == true)
            #expect(sent["post_sampling_probs"] as? Bool == false)
            // Keeps llama.cpp from dropping the distribution when its top token is part of a character.
            let bias = try #require(sent["logit_bias"] as? [[Any]])
            #expect(bias.count == 1)
            #expect(bias.first?.first as? String == ".")
            #expect(bias.first?.last as? Double == 1000)
            let parts = try #require(sent["prompt"] as? [Any])
            #expect(parts.count == 3)
            #expect(parts.first as? String == "Q: capital? A:")
            #expect(parts.dropFirst().compactMap { $0 as? Int } == [7042, 30])
        }
    }

    @Test func llamaCppSendsPlainTextWithoutIdsAndNoSlotByDefault() async throws {
        try await withStub(answer: Self.nativeAnswer) { stub, http in
            let backend = LlamaCppBackend(transport: http, modelName: "m")
            let prompt = ModelPrompt(text: "Q:", continuation: [Token(text: " Par"), Token(text: "is")])
            _ = try await backend.nextTokenDistribution(DistributionRequest(prompt: prompt, topK: 2))
            let sent = try #require(await stub.requests.first?.json)
            #expect(sent["prompt"] as? String == "Q: Paris")
            #expect(sent["id_slot"] == nil)
            #expect(sent["cache_prompt"] as? Bool == false)
        }
    }

    @Test func llamaCppMixesTextRunsForTokensWithoutIds() async throws {
        try await withStub(answer: Self.nativeAnswer) { stub, http in
            let backend = LlamaCppBackend(transport: http, modelName: "m")
            let prompt = ModelPrompt(text: "A", continuation: [Token(id: 5, text: "b"), Token(text: "c"), Token(text: "d"), Token(id: 6, text: "e")])
            _ = try await backend.nextTokenDistribution(DistributionRequest(prompt: prompt, topK: 1))
            let parts = try #require(await stub.requests.first?.json?["prompt"] as? [Any])
            #expect(parts.count == 4)
            #expect(parts[0] as? String == "A")
            #expect(parts[1] as? Int == 5)
            #expect(parts[2] as? String == "cd")
            #expect(parts[3] as? Int == 6)
        }
    }

    @Test func llamaCppGenerationIsGreedyWithStops() async throws {
        try await withStub(answer: #"{"content":" Paris.\n","stop":true}"#) { stub, http in
            let backend = LlamaCppBackend(transport: http, modelName: "m")
            let text = try await backend.generate(GenerationRequest(prompt: ModelPrompt(text: "Q:"), maxTokens: 12, stop: ["\n\n"]))
            #expect(text == " Paris.\n")
            let sent = try #require(await stub.requests.first?.json)
            #expect(sent["n_predict"] as? Int == 12)
            #expect(sent["temperature"] as? Double == 0)
            #expect(sent["top_k"] as? Int == 1)
            #expect(sent["stop"] as? [String] == ["\n\n"])
            #expect(sent["n_probs"] == nil)
            #expect(sent["logit_bias"] == nil)
        }
    }

    @Test func llamaCppRejectsImpossibleRequestsBeforeSending() async throws {
        try await withStub(answer: Self.nativeAnswer) { stub, http in
            let backend = LlamaCppBackend(transport: http, modelName: "m")
            await #expect(throws: BackendError.self) {
                try await backend.nextTokenDistribution(DistributionRequest(prompt: ModelPrompt(text: "x"), topK: 0))
            }
            await #expect(throws: BackendError.self) {
                try await backend.generate(GenerationRequest(prompt: ModelPrompt(text: "x"), maxTokens: 0))
            }
            #expect(await stub.requestCount == 0)
        }
    }

    @Test func llamaCppConnectReadsModelNameAndVocabularySize() async throws {
        let models = #"{"models":[],"object":"list","data":[{"id":"SmolLM2-135M-Instruct.Q4_1.gguf","object":"model","owned_by":"llamacpp","meta":{"vocab_type":2,"n_vocab":49152,"n_ctx":2048}}]}"#
        try await withStub(answer: models) { stub, http in
            let backend = try await LlamaCppBackend.connect(transport: http)
            #expect(backend.modelName == "SmolLM2-135M-Instruct.Q4_1.gguf")
            let reported = try await backend.vocabularySize()
            #expect(reported == 49152)
            #expect(await stub.requests.first?.uri == "/v1/models")
        }
    }

    @Test func llamaCppSlotCountComesFromProps() async throws {
        try await withStub(answer: #"{"default_generation_settings":{"n_ctx":2048},"total_slots":12,"model_path":"/m.gguf"}"#) { stub, http in
            let backend = LlamaCppBackend(transport: http, modelName: "m")
            let reported = try await backend.slotCount()
            #expect(reported == 12)
            #expect(await stub.requests.first?.uri == "/props")
        }
    }

    @Test func openAISendsModelKeyAndTextPrompt() async throws {
        try await withStub(answer: Self.openAIAnswer) { stub, http in
            let backend = OpenAICompletionsBackend(transport: http, model: "gpt-x", apiKey: "sk-test")
            let prompt = ModelPrompt(text: "Q:", continuation: [Token(id: 9, text: " Par")])
            let d = try await backend.nextTokenDistribution(DistributionRequest(prompt: prompt, topK: 2, slot: 1, cachePrompt: true))
            #expect(d.top.map(\.token.text) == [" Paris", " the"])
            #expect(d.top.allSatisfy { $0.token.id == nil })
            let request = try #require(await stub.requests.first)
            #expect(request.uri == "/v1/completions")
            #expect(request.header("authorization") == "Bearer sk-test")
            let sent = try #require(request.json)
            #expect(sent["model"] as? String == "gpt-x")
            #expect(sent["prompt"] as? String == "Q: Par")
            #expect(sent["max_tokens"] as? Int == 1)
            #expect(sent["logprobs"] as? Int == 2)
            #expect(sent["cache_prompt"] == nil)
            #expect(sent["id_slot"] == nil)
            #expect(sent["logit_bias"] == nil)
        }
    }

    @Test func openAISendsLlamaCppOptionsOnlyWhenAsked() async throws {
        try await withStub(answer: Self.openAIAnswer) { stub, http in
            let backend = OpenAICompletionsBackend(transport: http, model: "m", sendsLlamaCppOptions: true)
            _ = try await backend.nextTokenDistribution(DistributionRequest(prompt: ModelPrompt(text: "Q:"), topK: 2, slot: 1, cachePrompt: false))
            let request = try #require(await stub.requests.first)
            #expect(request.header("authorization") == nil)
            let sent = try #require(request.json)
            #expect(sent["cache_prompt"] as? Bool == false)
            #expect(sent["id_slot"] as? Int == 1)
        }
    }

    @Test func openAIGenerationReturnsChoiceText() async throws {
        try await withStub(answer: #"{"choices":[{"text":" Paris is","index":0,"logprobs":null,"finish_reason":"length"}]}"#) { stub, http in
            let backend = OpenAICompletionsBackend(transport: http, model: "m")
            let text = try await backend.generate(GenerationRequest(prompt: ModelPrompt(text: "Q:"), maxTokens: 2, stop: ["."]))
            #expect(text == " Paris is")
            let sent = try #require(await stub.requests.first?.json)
            #expect(sent["max_tokens"] as? Int == 2)
            #expect(sent["temperature"] as? Double == 0)
            #expect(sent["stop"] as? [String] == ["."])
            #expect(sent["logprobs"] == nil)
        }
    }
}
