import FewShotCore
import FewShotTestSupport
import Foundation
import LLMBackends
import Testing

/// Control tokens, which llama.cpp lists with empty bytes, get their text from `/detokenize`.
@Suite struct ControlTokenTests {
    @Test func endOfTurnTokenGetsItsTextOnceAndIsCached() async throws {
        let answer = try Fixture.text("llamacpp_completion_end_of_turn")
        let stub = try await MisbehavingUpstream.start(routes: { _, path in
            path == "/detokenize" ? .respond(status: 200, body: #"{"content":"<|im_end|>"}"#) : .respond(status: 200, body: answer)
        })
        let http = try HTTPTransport(upstreams: [stub.url])
        try await shuttingDown(http) { http in
            let backend = LlamaCppBackend(transport: http, modelName: "m")
            let request = DistributionRequest(prompt: ModelPrompt(text: "x"), topK: 5)
            let first = try await backend.nextTokenDistribution(request)
            let second = try await backend.nextTokenDistribution(request)
            #expect(first.top[0].token == Token(id: 2, text: "<|im_end|>"))
            #expect(backend.endOfTextMarkers.contains(first.top[0].token.text))
            #expect(second == first)
            let requests = await stub.requests
            #expect(requests.map(\.uri) == ["/completion", "/detokenize", "/completion"])
            #expect(requests[1].json?["tokens"] as? [Int] == [2])
        }
        await stub.stop()
    }

    @Test func failedLookupIsAnErrorNotAnEmptyToken() async throws {
        let answer = try Fixture.text("llamacpp_completion_end_of_turn")
        let stub = try await MisbehavingUpstream.start(routes: { _, path in
            path == "/detokenize" ? .respond(status: 404, body: #"{"error":{"message":"File Not Found"}}"#) : .respond(status: 200, body: answer)
        })
        let http = try HTTPTransport(upstreams: [stub.url])
        try await shuttingDown(http) { http in
            let backend = LlamaCppBackend(transport: http, modelName: "m")
            let error = await #expect(throws: BackendError.self) {
                try await backend.nextTokenDistribution(DistributionRequest(prompt: ModelPrompt(text: "x"), topK: 5))
            }
            #expect(error?.url == stub.url + "/detokenize")
        }
        await stub.stop()
    }

    @Test func openAIBackendFillsControlTokensOnlyWithLlamaCppOptions() async throws {
        let body = #"{"choices":[{"text":".","logprobs":{"content":[{"id":30,"token":".","bytes":[46],"logprob":-9,"top_logprobs":[{"id":2,"token":"","bytes":[],"logprob":-0.4},{"id":198,"token":"\n","bytes":[10],"logprob":-1.5}]}]}}]}"#
        let stub = try await MisbehavingUpstream.start(routes: { _, path in
            path == "/detokenize" ? .respond(status: 200, body: #"{"content":"<|im_end|>"}"#) : .respond(status: 200, body: body)
        })
        let http = try HTTPTransport(upstreams: [stub.url])
        try await shuttingDown(http) { http in
            let request = DistributionRequest(prompt: ModelPrompt(text: "x"), topK: 2)
            let plain = try await OpenAICompletionsBackend(transport: http, model: "m").nextTokenDistribution(request)
            #expect(plain.top[0].token == Token(id: 2, bytes: []))
            let filled = try await OpenAICompletionsBackend(transport: http, model: "m", apiKey: "k", sendsLlamaCppOptions: true)
                .nextTokenDistribution(request)
            #expect(filled.top[0].token == Token(id: 2, text: "<|im_end|>"))
            let requests = await stub.requests
            #expect(requests.map(\.uri) == ["/v1/completions", "/v1/completions", "/detokenize"])
            #expect(requests[2].header("authorization") == "Bearer k")
            #expect(requests[1].json?["logit_bias"] as? [String: Double] == [".": 1000])
        }
        await stub.stop()
    }
}
