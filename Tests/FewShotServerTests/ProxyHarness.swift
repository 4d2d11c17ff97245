import AsyncHTTPClient
import FewShotCore
import FewShotTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import FewShotServer

/// A running stub upstream and a proxy in front of it, for one test.
struct ProxyHarness: Sendable {
    static let clientKey = "sk-client-test-7f3a9c"
    static let task = TaskTemplate(
        name: "sentiment",
        labels: [TaskLabel(name: "pos", word: "positive"), TaskLabel(name: "neg", word: "negative")],
        generation: PromptFormat(instruction: "Write a review.\n\n", example: "Sentiment: {label}\nReview: {text}\n\n"),
        classification: PromptFormat(instruction: "Classify the review.\n\n", example: "Review: {text}\nSentiment: {label}\n\n"))
    static let demonstrations = [
        Demonstration(label: "pos", text: "A warm, funny film."),
        Demonstration(label: "neg", text: "Dull and far too long."),
    ]

    let client: any TestClientProtocol
    let port: Int
    let upstream: StubUpstream
    let logs: LogCapture
    let metrics: ServerMetrics

    var authorized: HTTPFields { [.authorization: "Bearer \(Self.clientKey)", .contentType: "application/json"] }

    func post(_ path: String, _ json: String, headers: HTTPFields? = nil) async throws -> TestResponse {
        try await client.execute(uri: path, method: .post, headers: headers ?? authorized, body: ByteBuffer(string: json))
    }

    /// Posts on a connection of its own (the test client shares one connection between requests).
    func postOnNewConnection(_ path: String, _ json: String) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(Self.clientKey)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    static func served(_ name: String, urls: [String]) -> ServedModel {
        ServedModel(
            name: name, upstream: Upstream(baseURLs: urls, model: "upstream-\(name)"), task: task,
            demonstrations: demonstrations, demonstrationSource: "inline")
    }

    /// Runs `body` against a proxy whose models are `demo-<mode>` for each stub mode, plus
    /// `demo-down` (nothing listens) and `demo-failover` (a dead URL, then the echo stub).
    static func run<T: Sendable>(
        limits: ProxyLimits = ProxyLimits(upstreamTimeout: .milliseconds(1500), maxConcurrentUpstream: 8, maxQueueWait: .milliseconds(200)),
        _ body: @Sendable @escaping (ProxyHarness) async throws -> T
    ) async throws -> T {
        let stub = StubUpstream()
        return try await stub.makeApplication().test(.live) { upstreamClient in
            let base = "http://127.0.0.1:\(upstreamClient.port!)"
            let dead = "http://127.0.0.1:1/v1"
            var models = ["echo", "slow", "fail", "reject", "stream", "stall"].map { served("demo-\($0)", urls: ["\(base)/\($0)/v1"]) }
            models.append(served("demo-down", urls: [dead]))
            models.append(served("demo-failover", urls: [dead, "\(base)/echo/v1"]))
            return try await serving(models, limits: limits) { client, logs, metrics in
                try await body(ProxyHarness(client: client, port: client.port!, upstream: stub, logs: logs, metrics: metrics))
            }
        }
    }

    /// Runs `body` against a live proxy serving `models` to the client key, with its log (every
    /// level) and its metrics.
    static func serving<T: Sendable>(
        _ models: [ServedModel], limits: ProxyLimits = ProxyLimits(),
        _ body: @Sendable @escaping (any TestClientProtocol, LogCapture, ServerMetrics) async throws -> T
    ) async throws -> T {
        let configuration = ProxyConfiguration(host: "127.0.0.1", port: 0, clientKeys: [clientKey], limits: limits, models: models)
        let logs = LogCapture()
        var logger = Logger(label: "fewshot.test") { _ in logs.handler }
        logger.logLevel = .trace
        let metrics = ServerMetrics()
        let server = ProxyServer(configuration: configuration, logger: logger, metrics: metrics)
        return try await server.makeApplication().test(.live) { client in try await body(client, logs, metrics) }
    }
}
