import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore

/// An in-process OpenAI-shaped upstream for tests. The first path segment picks its behaviour:
/// `echo` returns the body it received, `slow` answers after 5 s, `fail` answers 500, `reject`
/// answers 400, `stream` sends four SSE chunks 300 ms apart, `stall` sends one chunk then stalls.
final class StubUpstream: @unchecked Sendable {
    private let lock = NSLock()
    private var _chunkSentAt: [ContinuousClock.Instant] = []
    private var _requests = 0

    var chunkSentAt: [ContinuousClock.Instant] { lock.withLock { _chunkSentAt } }
    var requests: Int { lock.withLock { _requests } }

    static let streamChunks = [
        #"data: {"choices":[{"index":0,"delta":{"content":"one"}}]}"# + "\n\n",
        #"data: {"choices":[{"index":0,"delta":{"content":"two"}}]}"# + "\n\n",
        #"data: {"choices":[{"index":0,"delta":{"content":"three"}}]}"# + "\n\n",
        "data: [DONE]\n\n",
    ]

    func makeApplication() -> some ApplicationProtocol {
        let router = Router()
        for path in ["{mode}/v1/chat/completions", "{mode}/v1/completions"] {
            router.post(RouterPath(stringLiteral: path)) { request, context in
                try await self.respond(request, mode: context.parameters.require("mode"))
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    private func respond(_ request: Request, mode: String) async throws -> Response {
        lock.withLock { _requests += 1 }
        let received = try await request.body.collect(upTo: 16 << 20)
        let json: HTTPFields = [.contentType: "application/json"]
        switch mode {
        case "echo":
            var out = ByteBuffer(string: #"{"object":"chat.completion","usage":{"prompt_tokens":7,"completion_tokens":1,"total_tokens":8},"received":"#)
            out.writeImmutableBuffer(received)
            out.writeString("}")
            return Response(status: .ok, headers: json, body: .init(byteBuffer: out))
        case "slow":
            try await Task.sleep(for: .seconds(5))
            return Response(status: .ok, headers: json, body: .init(byteBuffer: ByteBuffer(string: "{}")))
        case "fail":
            return Response(status: .internalServerError, headers: json, body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"message":"stub exploded"}}"#)))
        case "reject":
            return Response(status: .badRequest, headers: json, body: .init(byteBuffer: ByteBuffer(
                string: #"{"error":{"message":"bad sampling option","type":"invalid_request_error","code":"stub_400"}}"#)))
        case "stream", "stall":
            let chunks = mode == "stream" ? Self.streamChunks : [Self.streamChunks[0]]
            return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: .init { writer in
                for (i, chunk) in chunks.enumerated() {
                    if i > 0 { try await Task.sleep(for: .milliseconds(300)) }
                    self.lock.withLock { self._chunkSentAt.append(.now) }
                    try await writer.write(ByteBuffer(string: chunk))
                }
                if mode == "stall" { try await Task.sleep(for: .seconds(5)) }
                try await writer.finish(nil)
            })
        default:
            return Response(status: .notFound)
        }
    }
}
