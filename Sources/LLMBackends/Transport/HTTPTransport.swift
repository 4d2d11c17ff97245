import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// The HTTP side shared by the backends: one pooled `HTTPClient` (sized for many concurrent
/// requests), a timeout per attempt, bounded retries with exponential backoff and jitter on
/// connection errors and 5xx (never on 4xx), and least-outstanding spreading over the upstreams of
/// its `UpstreamPool`. Every failure surfaces as a `BackendError` naming the URL called.
/// Request and response bodies are never logged or put in an error (prompts may hold private text,
/// and an upstream's error body may echo them): a failure keeps the status and error kind only.
///
/// A transport that created its own client must be shut down with `shutdown()`; an injected client
/// stays owned by the caller.
public final class HTTPTransport: Sendable {
    /// A 2xx answer.
    public struct Response: Sendable {
        public var url: String
        public var status: Int
        public var body: Data
    }

    public let pool: UpstreamPool
    public let configuration: TransportConfiguration
    private let client: HTTPClient
    private let ownsClient: Bool
    private let headers: [(String, String)]
    private let logger: Logger

    /// - Parameters:
    ///   - upstreams: base URLs such as `http://127.0.0.1:8090` (paths are appended to them).
    ///   - headers: sent with every request (for example `Authorization`).
    ///   - httpClient: a client to use instead of creating one; the caller then shuts it down.
    public init(
        upstreams: [String],
        configuration: TransportConfiguration = TransportConfiguration(),
        headers: [(String, String)] = [],
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "fewshot.llm-backends")
    ) throws {
        self.pool = try UpstreamPool(upstreams)
        self.configuration = configuration
        self.headers = headers
        self.logger = logger
        if let httpClient {
            self.client = httpClient
            self.ownsClient = false
        } else {
            var config = HTTPClient.Configuration()
            config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = configuration.maxConnectionsPerUpstream
            // Our own retry loop handles refused connections (and may move to another upstream), so the
            // pool must fail fast instead of retrying silently until the deadline.
            config.connectionPool.retryConnectionEstablishment = false
            config.timeout.connect = TimeAmount(min(configuration.requestTimeout, .seconds(10)))
            config.redirectConfiguration = .disallow
            config.decompression = .disabled
            self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
            self.ownsClient = true
        }
    }

    /// Shuts the client down if this transport created it; safe to call more than once.
    public func shutdown() async throws {
        guard ownsClient else { return }
        do {
            try await client.shutdown()
        } catch let error as HTTPClientError where error == .alreadyShutdown {
            return
        }
    }

    /// Runs `body` on a new transport over `upstreams` (as ``init(upstreams:configuration:headers:httpClient:logger:)``)
    /// and returns what it builds on it; if `body` throws, the transport is shut down first. The
    /// backends' `connect` functions build themselves with it.
    static func connecting<T>(
        upstreams: [String], configuration: TransportConfiguration, logger: Logger, _ body: (HTTPTransport) async throws -> T
    ) async throws -> T {
        let transport = try HTTPTransport(upstreams: upstreams, configuration: configuration, logger: logger)
        do {
            return try await body(transport)
        } catch {
            try? await transport.shutdown()
            throw error
        }
    }

    public func get(_ path: String, headers extra: [(String, String)] = []) async throws -> Response {
        try await send(verb: .get, path: path, body: nil, extraHeaders: extra)
    }

    public func post(_ path: String, json body: Data, headers extra: [(String, String)] = []) async throws -> Response {
        try await send(verb: .post, path: path, body: body, extraHeaders: extra)
    }

    private enum Verb { case get, post }

    private enum AttemptFailure: Error {
        case status(Int, kind: String?)
        case timeout
        case connection(String)
        case fatal(any Error)
    }

    private func send(verb: Verb, path: String, body: Data?, extraHeaders: [(String, String)]) async throws -> Response {
        let policy = configuration.retry
        var lastUpstream: Int?
        var attempt = 0
        while true {
            attempt += 1
            let index = await pool.acquire(avoiding: lastUpstream)
            lastUpstream = index
            let url = pool.upstreams[index] + path
            let outcome: Result<Response, AttemptFailure>
            do {
                outcome = .success(try await attemptOnce(verb: verb, url: url, body: body, extraHeaders: extraHeaders))
            } catch let failure as AttemptFailure {
                outcome = .failure(failure)
            } catch {
                outcome = .failure(.fatal(error))
            }
            await pool.release(index)

            let retryable: Bool
            let finalError: any Error
            switch outcome {
            case .success(let response):
                return response
            case .failure(.status(let status, let kind)):
                retryable = status >= 500
                finalError = BackendError.httpStatus(url: url, status: status, kind: kind, attempts: attempt)
            case .failure(.timeout):
                retryable = policy.retriesTimeouts
                finalError = BackendError.timeout(url: url, after: configuration.requestTimeout, attempts: attempt)
            case .failure(.connection(let reason)):
                retryable = true
                finalError = BackendError.connection(url: url, reason: reason, attempts: attempt)
            case .failure(.fatal(let error)):
                throw error
            }
            guard retryable, attempt < policy.maxAttempts, !Task.isCancelled else { throw finalError }
            let wait = policy.backoff(beforeRetry: attempt)
            logger.warning("LLM upstream request failed, retrying", metadata: [
                "error": "\(finalError)", "attempt": "\(attempt)", "backoff": "\(wait)",
            ])
            try await Task.sleep(for: wait)
        }
    }

    private func attemptOnce(verb: Verb, url: String, body: Data?, extraHeaders: [(String, String)]) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = verb == .get ? .GET : .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        for (name, value) in extraHeaders { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        let timeout = configuration.requestTimeout
        let limit = configuration.maxResponseBytes
        let client = self.client
        let prepared = request
        do {
            // The client's deadline covers the response head; the task group bounds reading the body too.
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask {
                    let response = try await client.execute(prepared, timeout: TimeAmount(timeout))
                    let buffer = try await response.body.collect(upTo: limit)
                    let data = Data(buffer.readableBytesView)
                    let status = Int(response.status.code)
                    guard (200..<300).contains(status) else {
                        throw AttemptFailure.status(status, kind: Self.errorKind(of: data))
                    }
                    return Response(url: url, status: status, body: data)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                guard let response = first else { throw AttemptFailure.timeout }
                return response
            }
        } catch let failure as AttemptFailure {
            throw failure
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPClientError {
            if [.deadlineExceeded, .readTimeout, .writeTimeout].contains(error) { throw AttemptFailure.timeout }
            if error == .cancelled, Task.isCancelled { throw CancellationError() }
            if [.invalidURL, .emptyHost, .emptyScheme].contains(error) {
                throw BackendError.invalidRequest(reason: "cannot call \(url): \(error)")
            }
            throw AttemptFailure.connection("\(error)")
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw AttemptFailure.connection("\(error)")
        }
    }

    /// The `error.type` of an OpenAI-style error body when it is one of the well-known kinds; nil
    /// otherwise. Nothing else of the body is read: it may echo the prompt.
    static func errorKind(of body: Data) -> String? {
        guard let type = UpstreamErrorBody(json: body)?.type, BackendError.knownErrorKinds.contains(type) else { return nil }
        return type
    }
}
