import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// What the stub upstream does with the n-th request it receives (n counts from 0).
public enum StubAction: Sendable {
    case respond(status: Int, body: String, delay: Duration = .zero)
    /// Reads the request and never answers.
    case hang
    /// Sends a 200 head announcing a longer body than it sends, then stalls.
    case headThenHang
    /// Answers, then closes the connection without having said `Connection: close`, as llama-server
    /// does after every streamed answer; `linger` later, so that a request the client sends on the
    /// connection meanwhile is lost with it.
    case respondThenClose(status: Int, body: String, linger: Duration = .zero)
    /// Reads the request and closes the connection without answering, as a server does that closes a
    /// kept-alive connection just as the client sends on it.
    case closeWithoutAnswer
}

public struct RecordedRequest: Sendable {
    public var method: String
    public var uri: String
    public var headers: [(String, String)]
    public var body: Data

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
}

public actor StubLog {
    public private(set) var requests: [RecordedRequest] = []

    func append(_ request: RecordedRequest) -> Int {
        requests.append(request)
        return requests.count - 1
    }

    public var count: Int { requests.count }
}

/// A local HTTP/1.1 server (SwiftNIO) that misbehaves on command, to test retries and timeouts.
public final class MisbehavingUpstream: Sendable {
    public typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    public let port: Int
    public let log: StubLog
    private let serverChannel: NIOAsyncChannel<Connection, Never>
    private let serverTask: Task<Void, Never>

    public var url: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, log: StubLog, serverChannel: NIOAsyncChannel<Connection, Never>, serverTask: Task<Void, Never>) {
        self.port = port
        self.log = log
        self.serverChannel = serverChannel
        self.serverTask = serverTask
    }

    public static func start(_ behaviour: @escaping @Sendable (Int) -> StubAction) async throws -> MisbehavingUpstream {
        try await start(routes: { index, _ in behaviour(index) })
    }

    /// As `start`, with the request's URI (path) passed to the behaviour too.
    public static func start(routes behaviour: @escaping @Sendable (Int, String) -> StubAction) async throws -> MisbehavingUpstream {
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        let port = serverChannel.channel.localAddress!.port!
        let log = StubLog()
        let task = Task<Void, Never> {
            try? await serverChannel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { try? await serve(connection, behaviour: behaviour, log: log) }
                    }
                }
            }
        }
        return MisbehavingUpstream(port: port, log: log, serverChannel: serverChannel, serverTask: task)
    }

    /// Requests received so far, in order.
    public var requests: [RecordedRequest] {
        get async { await log.requests }
    }

    public var requestCount: Int {
        get async { await log.count }
    }

    public func stop() async {
        serverTask.cancel()
        try? await serverChannel.channel.close()
        _ = await serverTask.value
    }

    private static func serve(
        _ connection: Connection, behaviour: @Sendable (Int, String) -> StubAction, log: StubLog
    ) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let h):
                    head = h
                    body.clear()
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end:
                    guard let head else { return }
                    let index = await log.append(RecordedRequest(
                        method: head.method.rawValue, uri: head.uri,
                        headers: head.headers.map { ($0.name, $0.value) },
                        body: Data(body.readableBytesView)
                    ))
                    switch behaviour(index, head.uri) {
                    case .respond(let status, let text, let delay):
                        if delay > .zero { try await Task.sleep(for: delay) }
                        try await answer(status: status, text: text, on: outbound)
                    case .respondThenClose(let status, let text, let linger):
                        try await answer(status: status, text: text, on: outbound)
                        if linger > .zero { try await Task.sleep(for: linger) }
                        return
                    case .closeWithoutAnswer:
                        return
                    case .hang:
                        try await Task.sleep(for: .seconds(3600))
                    case .headThenHang:
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Length", value: "1000")
                        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: "{\"content\":"))))
                        try await Task.sleep(for: .seconds(3600))
                    }
                }
            }
        }
    }

    private static func answer(status: Int, text: String, on outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(text.utf8.count)")
        try await outbound.write(.head(HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers
        )))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
        try await outbound.write(.end(nil))
    }

    /// A port on 127.0.0.1 where nothing listens (bound once, then closed).
    public static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }
}
