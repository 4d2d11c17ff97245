import FewShotCore
import Foundation
import LLMBackends
import Testing

/// Both backends against the real llama-server named by FEWSHOT_TEST_LLM_URL (scripts/test starts
/// one with SmolLM2-135M-Instruct and sets it). Without the variable the tests fail, never skip.
@Suite(.serialized) struct BackendIntegrationTests {
    static let capital = ModelPrompt(text: "The capital of France is")

    func serverURL() throws -> String {
        let url = ProcessInfo.processInfo.environment["FEWSHOT_TEST_LLM_URL"] ?? ""
        try #require(!url.isEmpty, "FEWSHOT_TEST_LLM_URL is not set: run the tests with scripts/test, which starts the local llama-server and sets it")
        return url
    }

    func withNative(_ body: (LlamaCppBackend) async throws -> Void) async throws {
        let backend = try await LlamaCppBackend.connect(upstreams: [try serverURL()])
        do {
            try await body(backend)
        } catch {
            try await backend.shutdown()
            throw error
        }
        try await backend.shutdown()
    }

    func withOpenAI(_ body: (OpenAICompletionsBackend) async throws -> Void) async throws {
        let backend = try await OpenAICompletionsBackend.connect(upstreams: [try serverURL()], sendsLlamaCppOptions: true)
        do {
            try await body(backend)
        } catch {
            try await backend.shutdown()
            throw error
        }
        try await backend.shutdown()
    }

    func expectWellFormed(_ d: NextTokenDistribution, count: Int, sumAtLeast: Double = 0) {
        #expect(d.top.count == count)
        let probabilities = d.top.map { exp($0.logprob) }
        #expect(probabilities.allSatisfy { $0 >= 0 && $0 <= 1 })
        let sum = probabilities.reduce(0, +)
        #expect(sum <= 1 + 1e-3)
        #expect(sum >= sumAtLeast)
        #expect(zip(d.top, d.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
        #expect(d.top.allSatisfy { $0.token.id != nil && !$0.token.bytes.isEmpty })
        #expect(Set(d.top.compactMap(\.token.id)).count == d.top.count)
    }

    @Test func nativeDistributionForTheCapitalOfFrance() async throws {
        try await withNative { backend in
            #expect(backend.modelName.hasSuffix(".gguf"))
            let reported = try await backend.vocabularySize()
            #expect(reported == 49152)
            let d = try await backend.nextTokenDistribution(DistributionRequest(prompt: Self.capital, topK: 20))
            expectWellFormed(d, count: 20)
            // SmolLM2-135M puts about 0.77 on " Paris"; the runner-up (" the") has about 0.06.
            #expect(d.top[0].token.text == " Paris", "top tokens: \(d.top.map(\.token.text))")
            #expect(exp(d.top[0].logprob) > 0.5)
            #expect(d.top.prefix(5).contains { $0.token.text == " London" })
        }
    }

    @Test func openAICompatibleEndpointAgreesWithNative() async throws {
        var native = NextTokenDistribution(top: [])
        try await withNative { native = try await $0.nextTokenDistribution(DistributionRequest(prompt: Self.capital, topK: 20)) }
        try await withOpenAI { backend in
            #expect(!backend.modelName.isEmpty)
            let d = try await backend.nextTokenDistribution(DistributionRequest(prompt: Self.capital, topK: 20))
            expectWellFormed(d, count: 20)
            #expect(d.top[0].token.text == " Paris")
            #expect(d.top.map(\.token) == native.top.map(\.token))
            for (a, b) in zip(d.top, native.top) { #expect(abs(a.logprob - b.logprob) < 1e-4) }
        }
    }

    @Test func continuationIdsAreSentAsIds() async throws {
        try await withNative { backend in
            // " Paris" is one token (7042): as an id it must give the same distribution as the text.
            let byId = try await backend.nextTokenDistribution(DistributionRequest(
                prompt: ModelPrompt(text: "The capital of France is", continuation: [Token(id: 7042, text: " Paris")]), topK: 5))
            let byText = try await backend.nextTokenDistribution(DistributionRequest(
                prompt: ModelPrompt(text: "The capital of France is Paris"), topK: 5))
            #expect(byId.top.map(\.token) == byText.top.map(\.token))
            for (a, b) in zip(byId.top, byText.top) { #expect(abs(a.logprob - b.logprob) < 1e-4) }

            // Half a character (0xF0 0x9F of 🍕) cannot be sent as text; as an id the model continues the emoji.
            let pizza = ModelPrompt(text: "🍕🍕🍕🍕🍕🍕", continuation: [Token(id: 10813, bytes: [0xF0, 0x9F])])
            let next = try await backend.nextTokenDistribution(DistributionRequest(prompt: pizza, topK: 5))
            #expect(next.top[0].token.bytes == [0x8D], "top tokens: \(next.top.map(\.token.bytes))")
        }
    }

    @Test func partialCharacterAndControlTokensAreListed() async throws {
        try await withNative { backend in
            // The top token is the first half of 🍕; without the backend's logit bias the server sends nothing.
            let pizza = try await backend.nextTokenDistribution(DistributionRequest(prompt: ModelPrompt(text: "🍕🍕🍕🍕🍕🍕"), topK: 5))
            #expect(pizza.top[0].token == Token(id: 10813, bytes: [0xF0, 0x9F]))
            let endOfTurn = try await backend.nextTokenDistribution(DistributionRequest(
                prompt: ModelPrompt(text: "<|im_start|>user\nSay hi<|im_end|>\n<|im_start|>assistant\nHi! How can I help you today?"), topK: 5))
            #expect(endOfTurn.top[0].token == Token(id: 2, text: "<|im_end|>"))
            #expect(backend.endOfTextMarkers.contains(endOfTurn.top[0].token.text))
        }
    }

    @Test func greedyGenerationIsDeterministicAndAgreesAcrossEndpoints() async throws {
        let request = GenerationRequest(prompt: Self.capital, maxTokens: 8, stop: ["\n"])
        var native = ""
        try await withNative { backend in
            native = try await backend.generate(request)
            #expect(native.hasPrefix(" Paris"), "generated: \(native)")
            let again = try await backend.generate(request)
            #expect(again == native)
        }
        try await withOpenAI { backend in
            let viaOpenAI = try await backend.generate(request)
            #expect(viaOpenAI == native)
        }
    }

    @Test func tokensById() async throws {
        try await withNative { backend in
            let paris = try await backend.token(id: 7042)
            let halfEAcute = try await backend.token(id: 142)
            let halfPizza = try await backend.token(id: 10813)
            let endOfTurn = try await backend.token(id: 2)
            #expect(paris == Token(id: 7042, text: " Paris"))
            #expect(halfEAcute == Token(id: 142, bytes: [0xC3]))
            #expect(halfPizza == Token(id: 10813, bytes: [0xF0, 0x9F]))
            #expect(endOfTurn == Token(id: 2, text: "<|im_end|>"))
            await #expect(throws: BackendError.self) { try await backend.token(id: 49152) }
        }
    }

    @Test func wholeVocabularyDistributionAndLatency() async throws {
        try await withNative { backend in
            let vocabulary = try #require(try await backend.vocabularySize())
            let clock = ContinuousClock()
            var timings: [String] = []
            for k in [100, 1000, vocabulary] {
                let start = clock.now
                let d = try await backend.nextTokenDistribution(DistributionRequest(prompt: Self.capital, topK: k))
                let elapsed = clock.now - start
                timings.append("k=\(k): \(elapsed)")
                if k == vocabulary {
                    expectWellFormed(d, count: vocabulary, sumAtLeast: 1 - 1e-3)
                    #expect(Set(d.top.compactMap(\.token.id)) == Set(0..<vocabulary))
                    #expect(d.top.contains { $0.token == Token(id: 2, text: "<|im_end|>") })
                } else {
                    expectWellFormed(d, count: k)
                }
            }
            print("llama.cpp /completion latency, prompt \"\(Self.capital.text)\": " + timings.joined(separator: ", "))
        }
    }
}
