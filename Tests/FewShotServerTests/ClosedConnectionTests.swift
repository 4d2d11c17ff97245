import FewShotTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import FewShotServer

/// Upstreams that close connections under the proxy. llama-server closes its connection after every
/// streamed answer while advertising keep-alive; the proxy's next request on that pooled connection
/// then failed with a ChannelError and the client got a 502 (seen in the real-LLM zero-exposure test).
@Suite struct ClosedConnectionTests {
    static let answer = #"{"object":"chat.completion","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#
    static let chat = #"{"model":"closing","messages":[{"role":"user","content":"hello"}]}"#

    /// Runs `body` against a proxy whose one model, `closing`, forwards to `upstream`; stops `upstream` after.
    static func withProxy<T: Sendable>(
        to upstream: MisbehavingUpstream, _ body: @Sendable @escaping (any TestClientProtocol, ServerMetrics, LogCapture) async throws -> T
    ) async throws -> T {
        let model = ProxyHarness.served("closing", urls: [upstream.url + "/v1"])
        let result: T
        do {
            result = try await ProxyHarness.serving([model]) { client, logs, metrics in try await body(client, metrics, logs) }
        } catch {
            await upstream.stop()
            throw error
        }
        await upstream.stop()
        return result
    }

    static func post(_ client: any TestClientProtocol) async throws -> TestResponse {
        try await client.execute(
            uri: "/v1/chat/completions", method: .post,
            headers: [.authorization: "Bearer \(ProxyHarness.clientKey)", .contentType: "application/json"],
            body: ByteBuffer(string: chat))
    }

    @Test func aConnectionClosedBeforeTheAnswerIsRetriedOnce() async throws {
        let upstream = try await MisbehavingUpstream.start { $0 == 1 ? .closeWithoutAnswer : .respond(status: 200, body: Self.answer) }
        let (statuses, page, log) = try await Self.withProxy(to: upstream) { client, metrics, logs in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 { statuses.append(try await Self.post(client).status) }
            return (statuses, String(decoding: metrics.render(), as: UTF8.self), logs.text)
        }
        #expect(statuses == [.ok, .ok, .ok])
        #expect(await upstream.requestCount == 4, "the closed request is sent once more")
        #expect(page.contains(#"fewshot_upstream_errors_total{model="closing",kind="connection_closed"} 1"#))
        #expect(log.contains("retrying once"))
    }

    @Test func aSecondClosedConnectionIsA502NamingItAndTheProxyKeepsServing() async throws {
        let upstream = try await MisbehavingUpstream.start { $0 < 2 ? .closeWithoutAnswer : .respond(status: 200, body: Self.answer) }
        let (first, second) = try await Self.withProxy(to: upstream) { client, _, _ in
            let first = try await Self.post(client)
            return ((first.status, String(buffer: first.body)), try await Self.post(client).status)
        }
        #expect(first.0 == .badGateway)
        #expect(first.1.contains("upstream_unavailable") && first.1.contains("remoteConnectionClosed"), "\(first.1)")
        #expect(second == .ok)
        #expect(await upstream.requestCount == 3, "one retry, not more")
    }

    /// llama-server's behaviour after a streamed answer, on every answer, with the close 50 ms late:
    /// each next request goes out on the closing connection and is lost; each needs its own retry.
    @Test func anUpstreamThatClosesAfterEveryAnswerNeverFailsARequest() async throws {
        let upstream = try await MisbehavingUpstream.start { _ in .respondThenClose(status: 200, body: Self.answer, linger: .milliseconds(50)) }
        let statuses = try await Self.withProxy(to: upstream) { client, _, _ in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<20 { statuses.append(try await Self.post(client).status) }
            return statuses
        }
        #expect(statuses.filter { $0 != .ok }.isEmpty, "\(statuses.filter { $0 != .ok }.count) of 20 failed")
    }
}
