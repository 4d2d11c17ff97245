import FewShotCore
import Foundation
import HummingbirdTesting
import NIOCore
import Testing
@testable import FewShotServer

/// The proxy puts the task's rendered demonstrations in front of the client's request and changes
/// nothing else; the stub upstream echoes the body it received.
@Suite struct DemonstrationInsertionTests {
    static let rendered = ProxyHarness.task.renderedDemonstrations(ProxyHarness.demonstrations)

    func received(_ response: TestResponse) throws -> (object: [String: Any], raw: String) {
        let raw = String(buffer: response.body)
        let outer = try #require(try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any], "body: \(raw)")
        return (try #require(outer["received"] as? [String: Any]), raw)
    }

    @Test func chatGetsASystemMessageFirstAndKeepsEverythingElse() async throws {
        try await ProxyHarness.run { h in
            let body = #"{"model":"demo-echo","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Review: Great cast.\nSentiment:"}],"temperature":0.30000000000000004,"x_vendor":{"keep":[1,2.50,"z"]},"max_tokens":5}"#
            let response = try await h.post("/v1/chat/completions", body)
            #expect(response.status == .ok)
            let (received, raw) = try received(response)
            let messages = try #require(received["messages"] as? [[String: String]])
            #expect(messages.count == 3)
            #expect(messages[0] == ["role": "system", "content": Self.rendered])
            #expect(messages[1] == ["role": "system", "content": "Be brief."])
            #expect(messages[2] == ["role": "user", "content": "Review: Great cast.\nSentiment:"])
            #expect(received["model"] as? String == "upstream-demo-echo")
            // Fields the proxy does not know arrive byte for byte.
            #expect(raw.contains(#""temperature":0.30000000000000004,"x_vendor":{"keep":[1,2.50,"z"]},"max_tokens":5"#))
            // Usage from the upstream is passed through.
            let outer = try #require(try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any])
            #expect((outer["usage"] as? [String: Int])?["total_tokens"] == 8)
        }
    }

    @Test func completionPromptGetsTheDemonstrationsAsPrefix() async throws {
        try await ProxyHarness.run { h in
            let single = try await h.post("/v1/completions", #"{"model":"demo-echo","prompt":"Review: Loud.\nSentiment:","max_tokens":2}"#)
            #expect(single.status == .ok)
            #expect(try received(single).object["prompt"] as? String == Self.rendered + "Review: Loud.\nSentiment:")

            let list = try await h.post("/v1/completions", #"{"model":"demo-echo","prompt":["a","b"]}"#)
            #expect(list.status == .ok)
            #expect(try received(list).object["prompt"] as? [String] == [Self.rendered + "a", Self.rendered + "b"])
        }
    }

    @Test func renderedTextIsTheTasksClassificationFormat() {
        #expect(Self.rendered == "Classify the review.\n\nReview: A warm, funny film.\nSentiment: positive\n\nReview: Dull and far too long.\nSentiment: negative\n\n")
    }

    @Test func modelsListsTheExposedNames() async throws {
        try await ProxyHarness.run { h in
            let response = try await h.client.execute(uri: "/v1/models", method: .get, headers: h.authorized)
            #expect(response.status == .ok)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
            #expect(object["object"] as? String == "list")
            let ids = (object["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(ids.contains("demo-echo") && ids.contains("demo-stream"))
            let one = try await h.client.execute(uri: "/v1/models/demo-echo", method: .get, headers: h.authorized)
            #expect(one.status == .ok)
            let missing = try await h.client.execute(uri: "/v1/models/nope", method: .get, headers: h.authorized)
            #expect(missing.status == .notFound)
        }
    }

    @Test func aDeadUpstreamURLIsSkippedForTheNextOne() async throws {
        try await ProxyHarness.run { h in
            for _ in 0..<3 {
                let response = try await h.post("/v1/chat/completions", #"{"model":"demo-failover","messages":[{"role":"user","content":"hi"}]}"#)
                #expect(response.status == .ok)
            }
        }
    }
}
