import FewShotCore
import FewShotSelection
import Foundation
import HummingbirdTesting
import NIOCore
import Testing
@testable import FewShotServer

/// A model with `select` sends each request the demonstrations of its pool most similar to the
/// request's text, rendered as a fixed set is; a fixed set next to it is unchanged. The stub upstream
/// echoes the body it received.
@Suite struct DemonstrationSelectionRouteTests {
    static let pool = [
        Demonstration(label: "pos", text: "A warm, funny film with a great cast."),
        Demonstration(label: "pos", text: "The soundtrack is gorgeous and the singing soars."),
        Demonstration(label: "neg", text: "Dull and far too long."),
        Demonstration(label: "neg", text: "The songs are shrill and the singing is off key."),
        Demonstration(label: "neg", text: "A cast wasted on a lazy script."),
    ]

    func rendered(_ positions: [Int]) -> String {
        ProxyHarness.task.renderedDemonstrations(positions.map { Self.pool[$0] })
    }

    func received(_ response: TestResponse) throws -> [String: Any] {
        let raw = String(buffer: response.body)
        let outer = try #require(try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any], "body: \(raw)")
        return try #require(outer["received"] as? [String: Any])
    }

    func systemMessage(_ response: TestResponse) throws -> String {
        let messages = try #require(try received(response)["messages"] as? [[String: Any]])
        #expect(messages.first?["role"] as? String == "system")
        return try #require(messages.first?["content"] as? String)
    }

    /// Runs `body` against a proxy with `select-2` (k = 2, balanced), `select-top2` (k = 2, not
    /// balanced) and `fixed` (the harness's fixed set), all in front of the echo stub.
    func withProxy(_ body: @Sendable @escaping (ProxyHarness) async throws -> Void) async throws {
        let stub = StubUpstream()
        try await stub.makeApplication().test(.live) { upstreamClient in
            let echo = ["http://127.0.0.1:\(upstreamClient.port!)/echo/v1"]
            func model(_ name: String, _ selection: DemonstrationSelection?) -> ServedModel {
                ServedModel(
                    name: name, upstream: Upstream(baseURLs: echo, model: "up"), task: ProxyHarness.task,
                    demonstrations: Self.pool, demonstrationSource: "inline", selection: selection)
            }
            let models = [
                model("select-2", DemonstrationSelection(k: 2, by: .similarity, balanced: true)),
                model("select-top2", DemonstrationSelection(k: 2, by: .similarity, balanced: false)),
                ProxyHarness.served("fixed", urls: echo),
            ]
            try await ProxyHarness.serving(models) { client, logs, metrics in
                try await body(ProxyHarness(client: client, port: client.port!, upstream: stub, logs: logs, metrics: metrics))
            }
        }
    }

    static func chat(_ model: String, _ user: String, before: String = "") -> String {
        let content = String(decoding: try! JSONEncoder().encode(user), as: UTF8.self)
        return #"{"model":"\#(model)","messages":[\#(before){"role":"user","content":\#(content)}]}"#
    }

    @Test func twoUserMessagesGetTheirOwnDemonstrations() async throws {
        try await withProxy { h in
            let songs = try await h.post("/v1/chat/completions", Self.chat("select-2", "Review: the singing and the songs\nSentiment:"))
            #expect(songs.status == .ok)
            #expect(try systemMessage(songs) == rendered([1, 3]))
            let cast = try await h.post("/v1/chat/completions", Self.chat("select-2", "Review: a great cast in a funny film\nSentiment:"))
            #expect(cast.status == .ok)
            #expect(try systemMessage(cast) == rendered([0, 4]))
            // Not balanced: the two best, both negative here.
            let lazy = try await h.post("/v1/chat/completions", Self.chat("select-top2", "lazy script, dull and long, off key"))
            #expect(try systemMessage(lazy) == rendered([2, 3]))
        }
    }

    @Test func theLastUserMessageSelectsNotEarlierOnesOrOtherRoles() async throws {
        try await withProxy { h in
            let earlier = #"{"role":"system","content":"songs singing soundtrack"},{"role":"user","content":"songs singing"},{"role":"assistant","content":"songs"},"#
            let response = try await h.post("/v1/chat/completions", Self.chat("select-2", "a lazy script and a cast", before: earlier))
            #expect(try systemMessage(response) == rendered([0, 4]))
            // Content parts: the text parts are the message's text.
            let parts = #"{"model":"select-2","messages":[{"role":"user","content":[{"type":"text","text":"the singing"},{"type":"image_url","image_url":{"url":"data:,"}},{"type":"text","text":"and the songs"}]}]}"#
            #expect(try systemMessage(try await h.post("/v1/chat/completions", parts)) == rendered([1, 3]))
            // No user text in common with the pool: the first of each label.
            #expect(try systemMessage(try await h.post("/v1/chat/completions", Self.chat("select-2", "zzz"))) == rendered([0, 2]))
        }
    }

    @Test func eachCompletionPromptSelectsForItself() async throws {
        try await withProxy { h in
            let response = try await h.post(
                "/v1/completions", #"{"model":"select-2","prompt":["Review: the singing and the songs\nSentiment:","Review: a great cast in a funny film\nSentiment:"]}"#)
            #expect(response.status == .ok)
            let prompts = try #require(try received(response)["prompt"] as? [String])
            #expect(prompts == [
                rendered([1, 3]) + "Review: the singing and the songs\nSentiment:",
                rendered([0, 4]) + "Review: a great cast in a funny film\nSentiment:",
            ])
            let single = try await h.post("/v1/completions", #"{"model":"select-2","prompt":"the songs"}"#)
            #expect(try received(single)["prompt"] as? String == rendered([1, 3]) + "the songs")
        }
    }

    @Test func aFixedSetBesideItIsUnchanged() async throws {
        try await withProxy { h in
            for user in ["the singing and the songs", "a great cast"] {
                let response = try await h.post("/v1/chat/completions", Self.chat("fixed", user))
                #expect(try systemMessage(response) == ProxyHarness.task.renderedDemonstrations(ProxyHarness.demonstrations))
            }
        }
    }
}
