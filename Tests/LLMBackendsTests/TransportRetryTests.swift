import FewShotTestSupport
import Foundation
import LLMBackends
import Logging
import Testing

/// Retries, timeouts and errors of `HTTPTransport` against a local misbehaving upstream.
@Suite struct TransportRetryTests {
    static let fastRetries = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(100))

    func transport(_ urls: [String], timeout: Duration = .seconds(5), retry: RetryPolicy = fastRetries) throws -> HTTPTransport {
        try HTTPTransport(upstreams: urls, configuration: TransportConfiguration(requestTimeout: timeout, retry: retry))
    }

    @Test func serviceUnavailableTwiceThenSuccess() async throws {
        let stub = try await MisbehavingUpstream.start { n in
            n < 2 ? .respond(status: 503, body: #"{"error":{"code":503,"message":"Loading model"}}"#) : .respond(status: 200, body: #"{"ok":true}"#)
        }
        let http = try transport([stub.url])
        try await shuttingDown(http) { http in
            let response = try await http.post("/completion", json: Data("{}".utf8))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == #"{"ok":true}"#)
            #expect(await stub.requestCount == 3)
        }
        await stub.stop()
    }

    @Test func alwaysServerErrorFailsAfterMaxAttemptsNamingUpstreamAndStatus() async throws {
        let stub = try await MisbehavingUpstream.start { _ in
            .respond(status: 500, body: #"{"error":{"code":500,"message":"decode failed: KV cache full"}}"#)
        }
        let http = try transport([stub.url])
        try await shuttingDown(http) { http in
            let error = await #expect(throws: BackendError.self) { try await http.post("/completion", json: Data("{}".utf8)) }
            #expect(error == .httpStatus(url: stub.url + "/completion", status: 500, kind: nil, attempts: 3))
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("http://127.0.0.1:\(stub.port)/completion"))
            #expect(text.contains("HTTP 500"))
            #expect(text.contains("3 attempts"))
            #expect(await stub.requestCount == 3)
        }
        await stub.stop()
    }

    @Test func clientErrorIsNotRetriedAndNamesStatus() async throws {
        let stub = try await MisbehavingUpstream.start { _ in
            .respond(status: 400, body: #"{"error":{"code":400,"message":"n_probs must be non-negative","type":"invalid_request_error"}}"#)
        }
        let http = try transport([stub.url])
        let error = await #expect(throws: BackendError.self) { try await http.post("/completion", json: Data("{}".utf8)) }
        try await http.shutdown()
        await stub.stop()
        guard case .httpStatus(let url, let status, let kind, let attempts)? = error else {
            Issue.record("expected an HTTP status error, got \(String(describing: error))")
            return
        }
        #expect(url == stub.url + "/completion")
        #expect(status == 400)
        #expect(kind == "invalid_request_error")
        #expect(attempts == 1)
        #expect("\(error!)".contains("HTTP 400"))
        #expect(await stub.requestCount == 1)
    }

    /// An upstream that echoes the prompt in its error body (as some servers quote the offending
    /// input) must not get private text into the error, which reaches logs, the store's failure
    /// reasons and the admin API, nor into the transport's retry warnings. The status and kind stay.
    @Test func errorBodiesEchoingThePromptAreNeverKeptOrLogged() async throws {
        let canary = "zq-canary-transport-41"
        let echoes = [
            #"{"error":{"code":500,"message":"cannot decode prompt: \#(canary)","type":"server_error"}}"#,
            #"{"error":{"code":400,"message":"bad input \#(canary)","type":"\#(canary)"}}"#,
            "<html>upstream echoed: \(canary)</html>",
            #"{"error":"\#(canary)"}"#,
        ]
        for (index, body) in echoes.enumerated() {
            let status = index == 0 ? 503 : (index == 2 ? 502 : 400)
            let stub = try await MisbehavingUpstream.start { _ in .respond(status: status, body: body) }
            let logs = LogCapture()
            let http = try HTTPTransport(
                upstreams: [stub.url], configuration: TransportConfiguration(requestTimeout: .seconds(5), retry: Self.fastRetries),
                logger: Logger(label: "transport-test") { _ in logs.handler })
            let error = await #expect(throws: BackendError.self) {
                try await http.post("/completion", json: Data(#"{"prompt": "\#(canary)"}"#.utf8))
            }
            try await http.shutdown()
            await stub.stop()
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("HTTP \(status)"))
            #expect(!text.contains(canary), "error text holds the upstream's body: \(text)")
            #expect(!String(reflecting: error as Any).contains(canary))
            #expect(!logs.text.contains(canary), "logs hold the upstream's body: \(logs.text)")
            if status >= 500 { #expect(logs.text.contains("retrying")) }  // positive control: the retry warning was logged
            if index == 0 { #expect(error == .httpStatus(url: stub.url + "/completion", status: 503, kind: "server_error", attempts: 3)) }
            if index == 1 { #expect(error == .httpStatus(url: stub.url + "/completion", status: 400, kind: nil, attempts: 1)) }
        }
    }

    @Test func hangingUpstreamTimesOutWithinTheDeadline() async throws {
        let stub = try await MisbehavingUpstream.start { _ in .hang }
        let http = try transport([stub.url], timeout: .milliseconds(500))
        try await shuttingDown(http) { http in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: BackendError.self) { try await http.post("/completion", json: Data("{}".utf8)) }
            let elapsed = clock.now - start
            #expect(error == .timeout(url: stub.url + "/completion", after: .milliseconds(500), attempts: 1))
            #expect(elapsed >= .milliseconds(450))
            #expect(elapsed < .seconds(3))
            #expect(await stub.requestCount == 1)
        }
        await stub.stop()
    }

    @Test func upstreamStallingMidBodyTimesOut() async throws {
        let stub = try await MisbehavingUpstream.start { _ in .headThenHang }
        let http = try transport([stub.url], timeout: .milliseconds(500))
        try await shuttingDown(http) { http in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: BackendError.self) { try await http.post("/completion", json: Data("{}".utf8)) }
            #expect(error == .timeout(url: stub.url + "/completion", after: .milliseconds(500), attempts: 1))
            #expect(clock.now - start < .seconds(3))
        }
        await stub.stop()
    }

    @Test func timeoutsAreRetriedOnlyWhenAsked() async throws {
        let stub = try await MisbehavingUpstream.start { n in n == 0 ? .hang : .respond(status: 200, body: "{}") }
        let retry = RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(10), retriesTimeouts: true)
        let http = try transport([stub.url], timeout: .milliseconds(300), retry: retry)
        try await shuttingDown(http) { http in
            let response = try await http.post("/completion", json: Data("{}".utf8))
            #expect(response.status == 200)
            #expect(await stub.requestCount == 2)
        }
        await stub.stop()
    }

    @Test func connectionRefusedIsRetriedThenNamed() async throws {
        let port = try await MisbehavingUpstream.closedPort()
        let url = "http://127.0.0.1:\(port)"
        let http = try transport([url])
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: BackendError.self) { try await http.get("/health") }
        let elapsed = clock.now - start
        try await http.shutdown()
        guard case .connection(let failedURL, let reason, let attempts)? = error else {
            Issue.record("expected a connection error, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url + "/health")
        #expect(attempts == 3)
        #expect(!reason.isEmpty)
        #expect("\(error!)".contains("could not be reached"))
        #expect(elapsed < .seconds(5))
    }

    @Test func refusedUpstreamIsAvoidedOnRetry() async throws {
        let port = try await MisbehavingUpstream.closedPort()
        let stub = try await MisbehavingUpstream.start { _ in .respond(status: 200, body: "{}") }
        // The dead upstream is first, so the first attempt goes there; the retry must pick the live one.
        let http = try transport(["http://127.0.0.1:\(port)", stub.url])
        try await shuttingDown(http) { http in
            let response = try await http.get("/health")
            #expect(response.url == stub.url + "/health")
            #expect(await stub.requestCount == 1)
        }
        await stub.stop()
    }

    @Test func bearerAndExtraHeadersAreSent() async throws {
        let stub = try await MisbehavingUpstream.start { _ in .respond(status: 200, body: "{}") }
        let http = try HTTPTransport(upstreams: [stub.url], headers: [("X-Fewshot", "1")])
        try await shuttingDown(http) { http in
            _ = try await http.post("/v1/completions", json: Data(#"{"a":1}"#.utf8), headers: [("Authorization", "Bearer k")])
            let request = try #require(await stub.requests.first)
            #expect(request.method == "POST")
            #expect(request.uri == "/v1/completions")
            #expect(request.header("authorization") == "Bearer k")
            #expect(request.header("x-fewshot") == "1")
            #expect(request.header("content-type") == "application/json")
            #expect(String(decoding: request.body, as: UTF8.self) == #"{"a":1}"#)
        }
        await stub.stop()
    }

    @Test func badUpstreamURLIsRejectedUpFront() {
        #expect(throws: BackendError.self) { try HTTPTransport(upstreams: ["127.0.0.1:8090"]) }
        #expect(throws: BackendError.self) { try HTTPTransport(upstreams: []) }
    }
}
