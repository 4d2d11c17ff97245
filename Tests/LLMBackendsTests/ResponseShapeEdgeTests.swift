import FewShotCore
import Foundation
import LLMBackends
import Testing

/// Small hand-made bodies for the edges of both shapes: missing fields, empty lists, post-sampling probs.
@Suite struct ResponseShapeEdgeTests {
    let url = "http://upstream:1/completion"

    func native(_ json: String) throws -> NextTokenDistribution {
        try LlamaCppResponse.distribution(from: Data(json.utf8), url: url)
    }

    func nativeError(_ json: String) -> String {
        do {
            _ = try native(json)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func missingBytesFallsBackToTokenTextAndMissingIdIsNil() throws {
        let d = try native(#"{"completion_probabilities":[{"top_logprobs":[{"token":" Par","logprob":-0.5},{"id":7,"token":"x","bytes":[195],"logprob":-1.0}]}]}"#)
        #expect(d.top.count == 2)
        #expect(d.top[0].token == Token(id: nil, bytes: Array(" Par".utf8)))
        #expect(d.top[1].token == Token(id: 7, bytes: [195]))
    }

    @Test func entryWithoutAnyProbabilityIsAnErrorNamingTheField() {
        let message = nativeError(#"{"completion_probabilities":[{"top_logprobs":[{"id":1,"token":"a","logprob":-1},{"id":2,"token":"b"}]}]}"#)
        #expect(message.contains("completion_probabilities[0].top_logprobs[1] has neither logprob nor prob"))
        #expect(message.contains(url))
    }

    @Test func entryWithoutTokenOrBytesIsAnError() {
        let message = nativeError(#"{"completion_probabilities":[{"top_logprobs":[{"id":1,"logprob":-1}]}]}"#)
        #expect(message.contains("top_logprobs[0] has neither bytes nor token"))
    }

    @Test func positiveLogprobIsRejected() {
        #expect(nativeError(#"{"completion_probabilities":[{"top_logprobs":[{"id":1,"token":"a","logprob":0.7}]}]}"#).contains("not <= 0"))
    }

    @Test func missingCompletionProbabilitiesIsAnError() {
        #expect(nativeError(#"{"content":" Paris"}"#).contains("no completion_probabilities"))
        #expect(nativeError(#"{"content":"","completion_probabilities":[]}"#).contains("completion_probabilities is empty"))
        #expect(nativeError(#"{"completion_probabilities":[{"id":1,"token":"a","logprob":-1}]}"#).contains("has no top_logprobs"))
    }

    @Test func notJSONIsAnErrorNamingTheUpstream() {
        let message = nativeError("<html>")
        #expect(message.contains(url))
        #expect(message.contains("not a /completion answer: not valid JSON") && !message.contains("<html>"), "\(message)")
    }

    @Test func wrongTypeNamesThePath() {
        let message = nativeError(#"{"completion_probabilities":[{"top_logprobs":[{"id":"seven","token":"a","logprob":-1}]}]}"#)
        #expect(message.contains("completion_probabilities[0].top_logprobs[0].id"))
    }

    @Test func emptyCandidateListIsAnEmptyDistribution() throws {
        let d = try native(#"{"completion_probabilities":[{"id":1,"token":"a","bytes":[97],"logprob":-1,"top_logprobs":[]}]}"#)
        #expect(d.top.isEmpty)
    }

    @Test func postSamplingProbsAreConvertedToLogprobs() throws {
        let d = try native(#"{"completion_probabilities":[{"top_probs":[{"id":3,"token":"b","bytes":[98],"prob":0.25},{"id":2,"token":"a","bytes":[97],"prob":0.75},{"id":9,"token":"z","bytes":[122],"prob":0.0}]}]}"#)
        #expect(d.top.map(\.token.id) == [2, 3, 9])
        #expect(abs(d.top[0].logprob - log(0.75)) < 1e-12)
        #expect(abs(d.top[1].logprob - log(0.25)) < 1e-12)
        #expect(exp(d.top[2].logprob) == 0)
    }

    @Test func legacyBytesTokensAreDecoded() {
        #expect(OpenAICompletionsResponse.legacyTokenBytes("bytes:\\xc3") == [0xC3])
        #expect(OpenAICompletionsResponse.legacyTokenBytes("bytes: \\xe2\\x80") == [0x20, 0xE2, 0x80])
        #expect(OpenAICompletionsResponse.legacyTokenBytes(" Paris") == Array(" Paris".utf8))
        #expect(OpenAICompletionsResponse.legacyTokenBytes("é") == [0xC3, 0xA9])
    }

    func openAI(_ json: String) throws -> NextTokenDistribution {
        try OpenAICompletionsResponse.distribution(from: Data(json.utf8), url: url)
    }

    func openAIError(_ json: String) -> String {
        do {
            _ = try openAI(json)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func openAIMissingPiecesAreErrors() {
        #expect(openAIError(#"{"choices":[]}"#).contains("no choices"))
        #expect(openAIError(#"{"choices":[{"text":"x","logprobs":null}]}"#).contains("choices[0].logprobs is missing"))
        #expect(openAIError(#"{"choices":[{"text":"x","logprobs":{"tokens":["x"]}}]}"#).contains("neither content nor top_logprobs"))
        #expect(openAIError(#"{"choices":[{"text":"x","logprobs":{"top_logprobs":[null]}}]}"#).contains("top_logprobs[0] is null"))
        #expect(openAIError(#"{"choices":[{"text":"x","logprobs":{"content":[]}}]}"#).contains("content is empty"))
        #expect(openAIError(#"{"error":{"message":"bad"}}"#).contains("no choices"))
    }

    @Test func openAIEmptyCandidateListsAreEmptyDistributions() throws {
        #expect(try openAI(#"{"choices":[{"logprobs":{"top_logprobs":[{}]}}]}"#).top.isEmpty)
        #expect(try openAI(#"{"choices":[{"logprobs":{"content":[{"token":"a","logprob":-1,"top_logprobs":[]}]}}]}"#).top.isEmpty)
    }

    @Test func openAIChatShapeWithoutIdsKeepsBytes() throws {
        let d = try openAI(#"{"choices":[{"logprobs":{"content":[{"token":"é","logprob":-0.1,"bytes":[195,169],"top_logprobs":[{"token":"é","logprob":-0.1,"bytes":[195,169]},{"token":"\\xc3","logprob":-3,"bytes":[195]}]}]}}]}"#)
        #expect(d.top.map(\.token) == [Token(id: nil, bytes: [195, 169]), Token(id: nil, bytes: [195])])
    }
}
