import FewShotCore
import FewShotTestSupport
import Foundation
import LLMBackends
import Testing

/// `LlamaCppBackend.token(id:)` reads the whole vocabulary once and then answers from the table.
@Suite struct VocabularyTableTests {
    static let wholeVocabulary = #"{"content":".","completion_probabilities":[{"id":30,"token":".","bytes":[46],"logprob":-9,"top_logprobs":[{"id":2,"token":"a","bytes":[97],"logprob":-0.5},{"id":3,"token":"","bytes":[195],"logprob":-1.5},{"id":1,"token":" b","bytes":[32,98],"logprob":-2.5},{"id":0,"token":"","bytes":[],"logprob":-3.5}]}]}"#

    @Test func tableIsLoadedOnceWithExactBytesAndControlText() async throws {
        let stub = try await MisbehavingUpstream.start(routes: { _, path in
            path == "/detokenize" ? .respond(status: 200, body: #"{"content":"<|endoftext|>"}"#) : .respond(status: 200, body: Self.wholeVocabulary)
        })
        let http = try HTTPTransport(upstreams: [stub.url])
        try await shuttingDown(http) { http in
            let backend = LlamaCppBackend(transport: http, modelName: "m", vocabularySize: 4)
            let halfEAcute = try await backend.token(id: 3)
            let b = try await backend.token(id: 1)
            let control = try await backend.token(id: 0)
            #expect(halfEAcute == Token(id: 3, bytes: [0xC3]))
            #expect(b == Token(id: 1, text: " b"))
            #expect(control == Token(id: 0, text: "<|endoftext|>"))
            await #expect(throws: BackendError.self) { try await backend.token(id: 4) }
            let requests = await stub.requests
            #expect(requests.map(\.uri) == ["/completion", "/detokenize"])
            #expect(requests[0].json?["n_probs"] as? Int == 4)
        }
        await stub.stop()
    }

    @Test func missingIdsAreAnError() async throws {
        let gap = Self.wholeVocabulary.replacingOccurrences(of: #"{"id":1,"#, with: #"{"id":7,"#)
        let stub = try await MisbehavingUpstream.start(routes: { _, path in
            path == "/detokenize" ? .respond(status: 200, body: #"{"content":"<|endoftext|>"}"#) : .respond(status: 200, body: gap)
        })
        let http = try HTTPTransport(upstreams: [stub.url])
        try await shuttingDown(http) { http in
            let backend = LlamaCppBackend(transport: http, modelName: "m", vocabularySize: 4)
            let error = await #expect(throws: BackendError.self) { try await backend.token(id: 2) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("unexpected token id 7"))
        }
        await stub.stop()
    }
}
