import Foundation
import Testing
@testable import LLMBackends

/// The upstream error body's one reader: OpenAI's object form, llama.cpp's string form, and what
/// is not an error body at all.
@Suite struct UpstreamErrorBodyTests {
    static func read(_ json: String) -> UpstreamErrorBody? { UpstreamErrorBody(json: Data(json.utf8)) }

    @Test func readsTheOpenAIObjectForm() {
        let body = Self.read(#"{"error": {"message": "context too long", "type": "exceed_context_size_error", "code": 400}}"#)
        #expect(body?.message == "context too long" && body?.type == "exceed_context_size_error")
    }

    @Test func readsTheStringForm() {
        let body = Self.read(#"{"error": "Loading model"}"#)
        #expect(body?.message == "Loading model" && body != nil && body?.type == nil)
    }

    @Test func aFieldOfTheWrongKindLosesOnlyItself() {
        let body = Self.read(#"{"error": {"message": 7, "type": "server_error"}}"#)
        #expect(body?.type == "server_error" && body != nil && body?.message == nil)
    }

    @Test(arguments: ["not json", "{}", #"{"error": 3}"#, #"[{"error": "x"}]"#, ""])
    func anythingElseIsNoErrorBody(_ json: String) {
        #expect(Self.read(json) == nil)
    }

    @Test func theTransportKeepsOnlyAKnownType() {
        #expect(HTTPTransport.errorKind(of: Data(#"{"error": {"message": "echo of the prompt", "type": "server_error"}}"#.utf8)) == "server_error")
        #expect(HTTPTransport.errorKind(of: Data(#"{"error": {"message": "x", "type": "the prompt was: secret"}}"#.utf8)) == nil)
        #expect(HTTPTransport.errorKind(of: Data(#"{"error": "server_error"}"#.utf8)) == nil)
    }
}
