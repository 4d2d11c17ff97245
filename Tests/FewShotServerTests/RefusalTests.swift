import Foundation
import HummingbirdTesting
import NIOCore
import Testing
@testable import FewShotServer

/// Each failure gives a clear OpenAI-style error with a fitting status, and the server goes on serving.
@Suite struct RefusalTests {
    static let chat = #"{"model":"demo-echo","messages":[{"role":"user","content":"hello"}]}"#

    func error(_ response: TestResponse) throws -> (message: String, type: String, code: String?) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
        let error = try #require(object["error"] as? [String: Any], "no error object in \(String(buffer: response.body))")
        return (try #require(error["message"] as? String), try #require(error["type"] as? String), error["code"] as? String)
    }

    func stillServes(_ h: ProxyHarness) async throws {
        let ok = try await h.post("/v1/chat/completions", Self.chat)
        #expect(ok.status == .ok)
    }

    @Test func missingOrWrongKeyIsRefused() async throws {
        try await ProxyHarness.run { h in
            let none = try await h.post("/v1/chat/completions", Self.chat, headers: [.contentType: "application/json"])
            #expect(none.status == .unauthorized)
            #expect(try error(none).type == "authentication_error")
            let wrong = try await h.post("/v1/chat/completions", Self.chat, headers: [.authorization: "Bearer sk-wrong"])
            #expect(wrong.status == .unauthorized)
            let basic = try await h.post("/v1/chat/completions", Self.chat, headers: [.authorization: "Basic abc"])
            #expect(basic.status == .unauthorized)
            let models = try await h.client.execute(uri: "/v1/models", method: .get)
            #expect(models.status == .unauthorized)
            #expect(h.upstream.requests == 0)
            try await stillServes(h)
        }
    }

    @Test func oversizedBodyGets413() async throws {
        try await ProxyHarness.run(limits: ProxyLimits(maxBodyBytes: 1000, upstreamTimeout: .seconds(2))) { h in
            let big = #"{"model":"demo-echo","messages":[{"role":"user","content":""# + String(repeating: "x", count: 5000) + #""}]}"#
            let response = try await h.post("/v1/chat/completions", big)
            #expect(response.status == .contentTooLarge)
            #expect(try error(response).message.contains("1000 bytes"))
            #expect(h.upstream.requests == 0)
            try await stillServes(h)
        }
    }

    @Test func malformedJSONAndWrongShapesGet400() async throws {
        try await ProxyHarness.run { h in
            let broken = try await h.post("/v1/chat/completions", #"{"model":"demo-echo","messages":[{"role":"user""#)
            #expect(broken.status == .badRequest)
            #expect(try error(broken).code == "invalid_json")
            let noModel = try await h.post("/v1/chat/completions", #"{"messages":[]}"#)
            #expect(noModel.status == .badRequest)
            #expect(try error(noModel).message.contains("model"))
            let notArray = try await h.post("/v1/chat/completions", #"{"model":"demo-echo","messages":"hi"}"#)
            #expect(notArray.status == .badRequest)
            #expect(try error(notArray).message.contains("messages"))
            let empty = try await h.post("/v1/chat/completions", #"{"model":"demo-echo","messages":[]}"#)
            #expect(empty.status == .badRequest)
            let tokens = try await h.post("/v1/completions", #"{"model":"demo-echo","prompt":[1,2,3]}"#)
            #expect(tokens.status == .badRequest)
            #expect(try error(tokens).message.contains("prompt"))
            let unknown = try await h.post("/v1/chat/completions", #"{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}"#)
            #expect(unknown.status == .notFound)
            #expect(try error(unknown).code == "model_not_found")
            let route = try await h.client.execute(uri: "/v1/nothing", method: .get, headers: h.authorized)
            #expect(route.status == .notFound)
            #expect(h.upstream.requests == 0)
            try await stillServes(h)
        }
    }

    @Test func upstreamDownGets502() async throws {
        try await ProxyHarness.run { h in
            let start = ContinuousClock.now
            let response = try await h.post("/v1/chat/completions", #"{"model":"demo-down","messages":[{"role":"user","content":"x"}]}"#)
            #expect(response.status == .badGateway)
            #expect(try error(response).code == "upstream_unavailable")
            #expect(ContinuousClock.now - start < .seconds(3))
            try await stillServes(h)
            #expect(String(decoding: h.metrics.render(), as: UTF8.self).contains(#"fewshot_upstream_errors_total{model="demo-down",kind="unreachable"}"#))
        }
    }

    @Test func slowUpstreamGets504InTime() async throws {
        try await ProxyHarness.run { h in
            let start = ContinuousClock.now
            let response = try await h.post("/v1/chat/completions", #"{"model":"demo-slow","messages":[{"role":"user","content":"x"}]}"#)
            let elapsed = ContinuousClock.now - start
            #expect(response.status == .gatewayTimeout)
            #expect(try error(response).code == "upstream_timeout")
            // The stub answers after 5 s; the proxy gives up after its 1.5 s timeout.
            #expect(elapsed >= .milliseconds(1400) && elapsed < .milliseconds(4500), "took \(elapsed)")
            try await stillServes(h)
        }
    }

    @Test func upstream5xxBecomes502And4xxPassesThrough() async throws {
        try await ProxyHarness.run { h in
            let failed = try await h.post("/v1/chat/completions", #"{"model":"demo-fail","messages":[{"role":"user","content":"x"}]}"#)
            #expect(failed.status == .badGateway)
            #expect(try error(failed).message.contains("HTTP 500") && error(failed).message.contains("stub exploded"))
            let rejected = try await h.post("/v1/completions", #"{"model":"demo-reject","prompt":"x"}"#)
            #expect(rejected.status == .badRequest)
            #expect(try error(rejected).code == "stub_400")
            try await stillServes(h)
        }
    }

    @Test func busyUpstreamSlotsGive429AfterTheQueueWait() async throws {
        let limits = ProxyLimits(upstreamTimeout: .seconds(3), maxConcurrentUpstream: 1, maxQueueWait: .milliseconds(200))
        try await ProxyHarness.run(limits: limits) { h in
            async let slow = h.postOnNewConnection("/v1/chat/completions", #"{"model":"demo-slow","messages":[{"role":"user","content":"x"}]}"#)
            try await Task.sleep(for: .milliseconds(300))
            let start = ContinuousClock.now
            let second = try await h.postOnNewConnection("/v1/chat/completions", Self.chat)
            #expect(second.status == 429)
            #expect(second.body.contains(#""type":"rate_limit_error""#))
            #expect(ContinuousClock.now - start < .seconds(1))
            #expect(try await slow.status == 504)
            try await stillServes(h)
        }
    }

    @Test func keysAndRequestTextNeverReachLogsOrMetrics() async throws {
        try await ProxyHarness.run { h in
            let secret = "canary-user-text-93b1"
            _ = try await h.post("/v1/chat/completions", #"{"model":"demo-echo","messages":[{"role":"user","content":"\#(secret)"}]}"#)
            _ = try await h.post("/v1/chat/completions", #"{"model":"demo-fail","messages":[{"role":"user","content":"\#(secret)"}]}"#)
            _ = try await h.post("/v1/chat/completions", #"{"model":"demo-echo","messages":[{"role":"user","content":"\#(secret)""#)
            _ = try await h.post("/v1/chat/completions", Self.chat, headers: [.authorization: "Bearer sk-wrong-\(secret)"])
            let metrics = try await h.client.execute(uri: "/metrics", method: .get)
            let page = String(buffer: metrics.body)
            #expect(page.contains(#"fewshot_http_requests_total{route="/v1/chat/completions",method="POST",status="200"}"#))
            #expect(page.contains("fewshot_http_request_duration_seconds_bucket"))
            let logs = h.logs.text
            #expect(logs.contains("request"))
            for place in [page, logs] {
                #expect(!place.contains(secret))
                #expect(!place.contains(ProxyHarness.clientKey))
                #expect(!place.contains("A warm, funny film."))
            }
        }
    }

    @Test func healthzAnswers() async throws {
        try await ProxyHarness.run { h in
            let response = try await h.client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            #expect(body["status"] as? String == "ok")
            #expect(body["upstream_slots_busy"] as? Int == 0 && body["upstream_slots_limit"] as? Int ?? 0 > 0, "\(body)")
        }
    }
}

/// Every response is encoded by ``FewShotRequestContext``'s encoder: Swift names become the API's
/// snake_case keys, dates ISO 8601, and an unbounded epsilon the string "inf".
@Suite struct ResponseEncodingTests {
    struct Sample: Encodable {
        var spentEpsilon: Double
        var remainingEpsilon: Double?
        var created: Date
    }

    @Test func keysAreSnakeCaseDatesISO8601AndInfinityIsInf() throws {
        let data = try FewShotRequestContext.responseEncoder().encode(Sample(spentEpsilon: .infinity, remainingEpsilon: 2.5, created: Date(timeIntervalSince1970: 0)))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["spent_epsilon"] as? String == "inf")
        #expect(object["remaining_epsilon"] as? Double == 2.5)
        #expect(object["created"] as? String == "1970-01-01T00:00:00Z")
        #expect(object.count == 3, "\(object)")
    }
}
