import FewShotCore
import Foundation
import LLMBackends
import Testing

/// Responses recorded from the real llama-server (Fixtures/README.md) parse to the right tokens.
@Suite struct RecordedResponseTests {
    let url = "http://127.0.0.1:8090/completion"

    func native(_ name: String) throws -> NextTokenDistribution {
        try LlamaCppResponse.distribution(from: try Fixture.data(name), url: url)
    }

    func openAI(_ name: String) throws -> NextTokenDistribution {
        try OpenAICompletionsResponse.distribution(from: try Fixture.data(name), url: url)
    }

    @Test func nativeCapitalOfFrance() throws {
        let d = try native("llamacpp_completion_capital")
        #expect(d.top.map(\.token.id) == [7042, 260, 4528, 1315, 5145])
        #expect(d.top.map(\.token.text) == [" Paris", " the", " London", " New", " La"])
        #expect(d.top[0].token.bytes == [32, 80, 97, 114, 105, 115])
        #expect(d.top[0].logprob == -0.2642531096935272)
        #expect(d.top.map { exp($0.logprob) }.reduce(0, +) <= 1)
    }

    @Test func nativePartialCharacterKeepsExactBytes() throws {
        let d = try native("llamacpp_completion_emoji")
        #expect(d.top.map(\.token.id) == [10813, 198, 19, 173, 321])
        // The server's `token` text is cut to valid UTF-8 (empty here); bytes carry the truth.
        #expect(d.top[0].token.bytes == [0xF0, 0x9F])
        #expect(d.top[3].token.bytes == [0xE2])
        #expect(d.top[4].token.bytes == [0xE2, 0x80])
        #expect(d.top[1].token.text == "\n")
    }

    @Test func nativeContinuationByteAfterSplitEAcute() throws {
        let d = try native("llamacpp_completion_e_acute_split")
        // After id 142 (0xC3, first byte of "é") the candidates are lone continuation bytes, which the
        // server writes as U+FFFD text; their bytes must stay single raw bytes.
        #expect(d.top.map(\.token.id) == [232, 140, 139, 229, 230])
        #expect(d.top.map(\.token.bytes) == [[142], [191], [190], [139], [140]])
        #expect(d.top.allSatisfy { $0.token.bytes.count == 1 && $0.token.bytes[0] >= 0x80 && $0.token.bytes[0] < 0xC0 })
        // Together with 0xC3 the first candidate decodes to one character.
        #expect(String(decoding: [0xC3] + d.top[0].token.bytes, as: UTF8.self) == "Î")
    }

    @Test func nativeControlTokenHasIdAndNoBytes() throws {
        let d = try native("llamacpp_completion_end_of_turn")
        #expect(d.top[0].token.id == 2)
        #expect(d.top[0].token.bytes.isEmpty)
        #expect(d.top[1].token == Token(id: 198, text: "\n"))
    }

    @Test func nativeWithoutBiasLosesTheDistributionAndSaysWhy() throws {
        let error = #expect(throws: BackendError.self) { try native("llamacpp_completion_unbiased_partial_token") }
        guard case .malformedResponse(let failedURL, let reason)? = error else {
            Issue.record("expected malformedResponse, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)
        #expect(reason.contains("no completion_probabilities"))
    }

    @Test func nativeGeneratedContent() throws {
        #expect(try LlamaCppResponse.content(from: try Fixture.data("llamacpp_completion_generate"), url: url) == " Paris.")
    }

    @Test func openAICompatibleLlamaCppShapeMatchesNative() throws {
        let viaOpenAI = try openAI("llamacpp_v1_completions_capital")
        let viaNative = try native("llamacpp_completion_capital")
        #expect(viaOpenAI == viaNative)
        let emoji = try openAI("llamacpp_v1_completions_emoji")
        #expect(emoji == (try native("llamacpp_completion_emoji")))
        #expect(emoji.top[0].token == Token(id: 10813, bytes: [0xF0, 0x9F]))
    }

    @Test func openAILegacyShape() throws {
        let d = try openAI("openai_legacy_handwritten")
        #expect(d.top.count == 5)
        #expect(d.top.allSatisfy { $0.token.id == nil })
        #expect(d.top.map(\.token.bytes) == [
            Array(" Paris".utf8), Array(" the".utf8), Array(" London".utf8), [0xF0, 0x9F], [0xC3, 0xA9],
        ])
        #expect(d.top[0].logprob == -0.2642531096935272)
        #expect(try OpenAICompletionsResponse.text(from: try Fixture.data("openai_legacy_handwritten"), url: url) == " Paris")
    }

    @Test func openAIRecordedChoiceText() throws {
        #expect(try OpenAICompletionsResponse.text(from: try Fixture.data("llamacpp_v1_completions_capital"), url: url) == ".")
    }
}
