import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing
@testable import FewShotServer

/// On graceful shutdown (what SIGTERM triggers) a stream in flight is relayed to its end before the
/// server stops.
@Suite struct GracefulShutdownTests {
    @Test func inFlightStreamFinishesBeforeTheServerStops() async throws {
        let stub = StubUpstream()
        try await stub.makeApplication().test(.live) { upstream in
            let model = ProxyHarness.served("demo-stream", urls: ["http://127.0.0.1:\(upstream.port!)/stream/v1"])
            let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
            let server = ProxyServer(
                configuration: ProxyConfiguration(port: 0, clientKeys: [ProxyHarness.clientKey], models: [model]),
                logger: Logger(label: "shutdown-test"))
            let group = ServiceGroup(configuration: .init(services: [server.makeApplication { portSink.yield($0) }], logger: Logger(label: "group")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let request = StreamingRelayTests().streamRequest(port: port, model: "demo-stream")
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                var body = response.body.makeAsyncIterator()
                var received = String(buffer: try #require(try await body.next()))
                let stopAsked = ContinuousClock.now
                await group.triggerGracefulShutdown()
                while let chunk = try await body.next() { received += String(buffer: chunk) }
                #expect(received == StubUpstream.streamChunks.joined())
                #expect(ContinuousClock.now - stopAsked >= .milliseconds(500), "the stream should have needed its remaining 900 ms")
                try await tasks.next()
                // Stopped: new connections are refused.
                await #expect(throws: (any Error).self) {
                    _ = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(2))
                }
            }
        }
    }
}
