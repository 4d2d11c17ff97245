import Foundation
import Testing
@testable import FewShotServer

@Suite struct RequestBodyRewriterTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func chatSplicesOnlyModelAndMessages() throws {
        let body = " { \"stream\" : true , \"model\" : \"x\\\"y\", \"messages\" : [ {\"role\":\"user\",\"content\":\"a]}\\\"\"} ], \"n\":1e2 } "
        let head = try RequestBodyRewriter.inspect(bytes(body))
        #expect(head.model == "x\"y" && head.stream)
        let out = try RequestBodyRewriter.chat(bytes(body), upstreamModel: "up/1", systemMessage: RequestBodyRewriter.systemMessage("S \"q\"\n"))
        let expected = " { \"stream\" : true , \"model\" : \"up/1\", \"messages\" : [{\"role\":\"system\",\"content\":\"S \\\"q\\\"\\n\"}, {\"role\":\"user\",\"content\":\"a]}\\\"\"} ], \"n\":1e2 } "
        #expect(String(decoding: out, as: UTF8.self) == expected)
        #expect((try? JSONSerialization.jsonObject(with: Data(out))) != nil)
    }

    @Test func completionPrefixesEachPrompt() throws {
        let out = try RequestBodyRewriter.completion(bytes(#"{"prompt":["p1","p2"],"model":"m","echo":false}"#), upstreamModel: "u", prefix: "D:")
        #expect(String(decoding: out, as: UTF8.self) == #"{"prompt":["D:p1","D:p2"],"model":"u","echo":false}"#)
    }

    @Test func refusals() {
        #expect(throws: OpenAIError.self) { try RequestBodyRewriter.inspect(bytes("[1]")) }
        #expect(throws: OpenAIError.self) { try RequestBodyRewriter.inspect(bytes(#"{"model":"m"} trailing"#)) }
        #expect(throws: OpenAIError.self) { try RequestBodyRewriter.chat(bytes(#"{"model":"m","messages":{}}"#), upstreamModel: "u", systemMessage: []) }
        #expect(throws: OpenAIError.self) { try RequestBodyRewriter.completion(bytes(#"{"model":"m","prompt":[[1,2]]}"#), upstreamModel: "u", prefix: "") }
        do {
            _ = try RequestBodyRewriter.inspect(bytes(#"{"model":3}"#))
            Issue.record("accepted a number as model")
        } catch {
            #expect(error.status == .badRequest && error.message.contains("model"))
        }
    }
}
