import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
@testable import FewShotServer

/// `stream: true` answers are relayed as they arrive, not buffered.
@Suite struct StreamingRelayTests {
    func streamRequest(port: Int, model: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(ProxyHarness.clientKey)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model":"\#(model)","stream":true,"messages":[{"role":"user","content":"count"}]}"#))
        return request
    }

    @Test func firstChunkArrivesBeforeTheLastIsSent() async throws {
        try await ProxyHarness.run { h in
            let response = try await HTTPClient.shared.execute(streamRequest(port: h.port, model: "demo-stream"), timeout: .seconds(10))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            var firstArrival: ContinuousClock.Instant?
            var received = ""
            for try await chunk in response.body {
                if firstArrival == nil { firstArrival = .now }
                received += String(buffer: chunk)
            }
            #expect(received == StubUpstream.streamChunks.joined())
            let sent = h.upstream.chunkSentAt
            #expect(sent.count == 4)
            let first = try #require(firstArrival)
            let last = try #require(sent.last)
            // The stub waits 900 ms between its first and last chunk; a buffering proxy would deliver after the last.
            #expect(first < last, "first chunk arrived \(first - last) after the last was sent")
        }
    }

    @Test func aStalledStreamEndsWithAnErrorEvent() async throws {
        try await ProxyHarness.run { h in
            let start = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(streamRequest(port: h.port, model: "demo-stall"), timeout: .seconds(10))
            #expect(response.status == .ok)
            var received = ""
            for try await chunk in response.body { received += String(buffer: chunk) }
            #expect(received.hasPrefix(StubUpstream.streamChunks[0]))
            #expect(received.contains(#""code":"upstream_timeout""#))
            #expect(ContinuousClock.now - start < .milliseconds(4500), "the stub stalls for 5 s; the proxy gives up after 1.5 s")
            let ok = try await h.post("/v1/chat/completions", RefusalTests.chat)
            #expect(ok.status == .ok)
        }
    }
}
