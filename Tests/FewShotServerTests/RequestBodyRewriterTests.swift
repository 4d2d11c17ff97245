import Foundation
import Testing
@testable import FewShotServer

@Suite struct RequestBodyRewriterTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func chatSplicesOnlyModelAndMessages() throws {
        let body = " { \"stream\" : true , \"model\" : \"x\\\"y\", \"messages\" : [ {\"role\":\"user\",\"content\":\"a]}\\\"\"} ], \"n\":1e2 } "
        let head = try RequestBodyRewriter.inspectChat(bytes(body))
        #expect(head.model == "x\"y" && head.stream)
        let out = try RequestBodyRewriter.spliceChat(
            bytes(body), upstreamModelJSON: RequestBodyRewriter.jsonString("up/1"), systemMessage: RequestBodyRewriter.systemMessage("S \"q\"\n"))
        let expected = " { \"stream\" : true , \"model\" : \"up/1\", \"messages\" : [{\"role\":\"system\",\"content\":\"S \\\"q\\\"\\n\"}, {\"role\":\"user\",\"content\":\"a]}\\\"\"} ], \"n\":1e2 } "
        #expect(String(decoding: out, as: UTF8.self) == expected)
        #expect((try? JSONSerialization.jsonObject(with: Data(out))) != nil)
    }

    @Test func completionPrefixesEachPrompt() throws {
        let body = bytes(#"{"prompt":["p1","p2"],"model":"m","echo":false}"#)
        let (head, prompt) = try RequestBodyRewriter.inspectCompletion(body)
        #expect(head.model == "m" && !head.stream)
        let out = try RequestBodyRewriter.spliceCompletion(body, upstreamModelJSON: RequestBodyRewriter.jsonString("u"), prompt: prompt, prefix: "D:")
        #expect(String(decoding: out, as: UTF8.self) == #"{"prompt":["D:p1","D:p2"],"model":"u","echo":false}"#)
    }

    @Test func refusals() {
        #expect(throws: OpenAIError.self) { try RequestBodyRewriter.inspectChat(bytes("[1]")) }
        #expect(throws: OpenAIError.self) { try RequestBodyRewriter.inspectChat(bytes(#"{"model":"m","messages":[{"role":"user"}]} trailing"#)) }
        #expect(throws: OpenAIError.self) { try RequestBodyRewriter.inspectChat(bytes(#"{"model":"m","messages":{}}"#)) }
        #expect(throws: OpenAIError.self) { try RequestBodyRewriter.inspectCompletion(bytes(#"{"model":"m","prompt":[[1,2]]}"#)) }
        do {
            _ = try RequestBodyRewriter.inspectChat(bytes(#"{"model":3,"messages":[{}]}"#))
            Issue.record("accepted a number as model")
        } catch {
            #expect(error.status == .badRequest && error.message.contains("model"))
        }
    }
}
