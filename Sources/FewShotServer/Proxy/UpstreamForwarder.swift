import AsyncHTTPClient
import Foundation
import Hummingbird
import LLMBackends
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Sends a rewritten request body to a model's upstream and relays the answer to the client as it
/// arrives: a `stream: true` answer goes out chunk by chunk, never buffered.
///
/// Guarantees:
/// - At most `limits.maxConcurrentUpstream` upstream requests are in flight; a request that finds no
///   slot within `limits.maxQueueWait` gets 429.
/// - The upstream's response head must arrive within `limits.upstreamTimeout`, and each later body
///   chunk within the same time, else the client gets 504 (or, mid-stream, an error event).
/// - Upstream 2xx and 4xx answers are passed through with their status and body (usage included);
///   5xx answers and unreachable upstreams become 502 with an OpenAI error body.
/// - A connection the upstream closes before any byte of an answer is retried once, on the same
///   upstream: servers close kept-alive connections without warning (llama-server closes one after
///   every streamed answer while advertising keep-alive), and a request sent on it in that moment
///   fails although the upstream is fine. A second such failure is a 502. Failover and the retry
///   share the request's one upstream deadline.
/// - The client's `Authorization` header is never forwarded; the upstream gets its own key.
public struct UpstreamForwarder: Sendable {
    let client: HTTPClient
    let limits: ProxyLimits
    let slots: UpstreamSlots
    let metrics: ServerMetrics
    private let cursor = RoundRobinCursor()

    public init(client: HTTPClient, limits: ProxyLimits, slots: UpstreamSlots, metrics: ServerMetrics) {
        self.client = client
        self.limits = limits
        self.slots = slots
        self.metrics = metrics
    }

    /// The client configuration the forwarder expects: no connection retries (a refused upstream
    /// fails at once and the next URL is tried), the read timeout as the chunk timeout, and a pool
    /// as large as the concurrency limit.
    public static func clientConfiguration(limits: ProxyLimits) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        let timeout = TimeAmount(limits.upstreamTimeout)
        configuration.timeout = .init(connect: min(timeout, .seconds(10)), read: timeout)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: limits.maxConcurrentUpstream)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        return configuration
    }

    /// - Parameter path: the OpenAI path below the base URL, e.g. `/chat/completions`.
    public func forward(path: String, body: [UInt8], model: ServedModel, logger: Logger) async throws -> Response {
        guard let lease = await slots.acquire(maxWait: limits.maxQueueWait) else {
            metrics.recordOverload(model: model.name)
            throw OpenAIError.overloaded(limit: slots.limit)
        }
        let urls = model.upstream.baseURLs
        let first = cursor.next()
        // One deadline for all attempts, so that failover and the retry never extend the wait.
        let deadline = NIODeadline.now() + TimeAmount(limits.upstreamTimeout)
        var refused: [String] = []
        var attempt = 0
        var retriedClosedConnection = false
        while attempt < urls.count {
            let base = urls[(first + attempt) % urls.count]
            var request = HTTPClientRequest(url: base + path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if let key = model.upstream.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
            request.body = .bytes(ByteBuffer(bytes: body))
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, deadline: deadline)
            } catch {
                switch Self.classify(error) {
                case .unreachable:
                    metrics.recordUpstreamError(model: model.name, kind: "unreachable")
                    logger.warning("upstream unreachable", metadata: ["model": .string(model.name), "upstream_index": .stringConvertible((first + attempt) % urls.count), "error": .string(Self.errorName(error))])
                    refused.append(Self.host(of: base))
                    attempt += 1
                    continue
                case .connectionClosed where !retriedClosedConnection:
                    retriedClosedConnection = true
                    metrics.recordUpstreamError(model: model.name, kind: "connection_closed")
                    logger.notice("upstream closed the connection before answering; retrying once", metadata: ["model": .string(model.name), "error": .string(Self.errorName(error))])
                    continue
                case .timeout:
                    metrics.recordUpstreamError(model: model.name, kind: "timeout")
                    logger.warning("upstream timeout", metadata: ["model": .string(model.name)])
                    throw OpenAIError.upstreamTimeout(seconds: limits.upstreamTimeout / .seconds(1))
                case let failure:
                    metrics.recordUpstreamError(model: model.name, kind: failure == .connectionClosed ? "connection_closed" : "unreachable")
                    logger.warning("upstream request failed", metadata: ["model": .string(model.name), "error": .string(Self.errorName(error))])
                    throw OpenAIError.upstreamUnavailable("upstream request failed (\(Self.errorName(error)))")
                }
            }
            return try await relay(response, lease: lease, model: model, logger: logger)
        }
        throw OpenAIError.upstreamUnavailable("no upstream of model '\(model.name)' accepted a connection (tried \(refused.joined(separator: ", ")))")
    }

    private func relay(_ upstream: HTTPClientResponse, lease: SlotLease, model: ServedModel, logger: Logger) async throws -> Response {
        let status = Int(upstream.status.code)
        if status >= 500 {
            let detail = await Self.errorMessage(in: upstream.body)
            lease.release()
            metrics.recordUpstreamError(model: model.name, kind: "status_5xx")
            logger.warning("upstream error status", metadata: ["model": .string(model.name), "upstream_status": .stringConvertible(status)])
            throw OpenAIError.upstreamUnavailable("upstream answered HTTP \(status)\(detail.map { ": \($0)" } ?? "")")
        }
        let contentType = upstream.headers.first(name: "content-type") ?? "application/json"
        var headers: HTTPFields = [.contentType: contentType]
        if let cache = upstream.headers.first(name: "cache-control") { headers[.cacheControl] = cache }
        let isEventStream = contentType.lowercased().hasPrefix("text/event-stream")
        let contentLength = isEventStream ? nil : upstream.headers.first(name: "content-length").flatMap { Int($0) }
        let upstreamBody = upstream.body
        let metrics = self.metrics
        let modelName = model.name
        let body = ResponseBody(contentLength: contentLength) { writer in
            defer { lease.release() }
            var chunks = upstreamBody.makeAsyncIterator()
            while true {
                let chunk: ByteBuffer?
                do {
                    chunk = try await chunks.next()
                } catch {
                    let kind = Self.classify(error) == .timeout ? "timeout" : "stream_broken"
                    metrics.recordUpstreamError(model: modelName, kind: kind)
                    logger.warning("upstream body failed", metadata: ["model": .string(modelName), "kind": .string(kind)])
                    guard isEventStream else { throw error }
                    let failure = kind == "timeout"
                        ? OpenAIError.upstreamTimeout(seconds: limits.upstreamTimeout / .seconds(1))
                        : OpenAIError.upstreamUnavailable("upstream stream broke off")
                    try await writer.write(ByteBuffer(bytes: Array("data: ".utf8) + failure.jsonBody() + Array("\n\n".utf8)))
                    break
                }
                guard let chunk else { break }
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
        return Response(status: .init(code: status), headers: headers, body: body)
    }

    /// - unreachable: no connection could be made (the next upstream URL may be tried);
    /// - connectionClosed: the connection was closed under the request, before any answer;
    /// - timeout: no connection from the pool, or no answer, in time.
    enum Failure { case unreachable, connectionClosed, timeout, other }

    static func classify(_ error: any Error) -> Failure {
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .getConnectionFromPoolTimeout: return .timeout
            case .connectTimeout: return .unreachable
            case .remoteConnectionClosed: return .connectionClosed
            default: return .other
            }
        }
        if error is NIOConnectionError { return .unreachable }
        if let e = error as? ChannelError {
            switch e {
            case .connectTimeout: return .unreachable
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed: return .connectionClosed
            default: return .other
            }
        }
        if let e = error as? IOError {
            if [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL].contains(e.errnoCode) { return .unreachable }
            if [ECONNRESET, EPIPE].contains(e.errnoCode) { return .connectionClosed }
        }
        return .other
    }

    /// The error's name and case for logs and error bodies; these errors carry no request text.
    static func errorName(_ error: any Error) -> String {
        switch error {
        case let e as HTTPClientError: "\(e)"
        case let e as ChannelError: "ChannelError.\(e)"
        case let e as IOError: "IOError(\(e.description))"
        default: String(describing: type(of: error))
        }
    }

    /// `error.message` of an upstream's JSON error body (read up to 64 KiB), if it has one.
    static func errorMessage(in body: HTTPClientResponse.Body) async -> String? {
        guard let buffer = try? await body.collect(upTo: 64 * 1024) else { return nil }
        return UpstreamErrorBody(json: Data(buffer.readableBytesView))?.message.map { String($0.prefix(300)) }
    }

    static func host(of url: String) -> String { URL(string: url)?.host.map { h in URL(string: url)?.port.map { "\(h):\($0)" } ?? h } ?? "?" }

}

/// A shared counter that spreads requests over a model's upstream URLs.
final class RoundRobinCursor: Sendable {
    private let value = NIOLockedValueBox(0)

    func next() -> Int {
        value.withLockedValue { value in
            value &+= 1
            return value & Int.max
        }
    }
}
