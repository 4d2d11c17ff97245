import AsyncHTTPClient
import FewShotCore
import FewShotData
import FewShotStore
import FewShotTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
@testable import FewShotServer

struct BadRequest: CustomTestStringConvertible, Sendable {
    var name: String
    var path = "/v1/chat/completions"
    var body: String
    var status: HTTPResponse.Status = .badRequest
    var says: [String]
    var testDescription: String { name }
}

struct BadConfig: CustomTestStringConvertible, Sendable {
    var name: String
    var edit: @Sendable (String) -> String
    var line: Int?
    var field: String?
    var says: [String]
    var testDescription: String { name }
}

/// Bad requests and configurations, one per row: each is refused before the upstream sees it, with an
/// OpenAI-shaped error that names the field (or the key and its line), and never echoes request text.
@Suite struct BadRequestTests {
    static let canary = "CANARY-b41c"

    static let requestRows: [BadRequest] = [
        BadRequest(name: "a JSON array as body", body: #"[{"model": "demo-echo", "x": "\#(canary)"}]"#, says: ["must be a JSON object"]),
        BadRequest(name: "a JSON array as completions body", path: "/v1/completions", body: #"["\#(canary)"]"#, says: ["must be a JSON object"]),
        BadRequest(name: "message without role", body: #"{"model":"demo-echo","messages":[{"ro":"user","content":"\#(canary)"}]}"#,
                   says: ["messages[0].role", "each message needs 'role'"]),
        BadRequest(name: "second message without role",
                   body: #"{"model":"demo-echo","messages":[{"role":"user","content":"a"},{"content":"\#(canary)"}]}"#, says: ["messages[1].role"]),
        BadRequest(name: "role not a string", body: #"{"model":"demo-echo","messages":[{"role":7,"content":"\#(canary)"}]}"#,
                   says: ["messages[0].role", "expected a string"]),
        BadRequest(name: "unknown role (not echoed)", body: #"{"model":"demo-echo","messages":[{"role":"\#(canary)","content":"hi"}]}"#,
                   says: ["messages[0].role", "not one of system"]),
        BadRequest(name: "message without content", body: #"{"model":"demo-echo","messages":[{"role":"user","text":"\#(canary)"}]}"#,
                   says: ["messages[0].content", "missing"]),
        BadRequest(name: "content a number", body: #"{"model":"demo-echo","messages":[{"role":"user","content":7}]}"#,
                   says: ["messages[0].content", "a string or a list of content parts"]),
        BadRequest(name: "message not an object", body: #"{"model":"demo-echo","messages":["\#(canary)"]}"#,
                   says: ["messages[0]", "expected an object"]),
        BadRequest(name: "model not a string", body: #"{"model":["\#(canary)"],"messages":[{"role":"user","content":"hi"}]}"#,
                   says: ["field 'model'", "expected a string"]),
        BadRequest(name: "stream not a boolean", body: #"{"model":"demo-echo","stream":"\#(canary)","messages":[{"role":"user","content":"hi"}]}"#,
                   says: ["field 'stream'", "expected true or false"]),
        BadRequest(name: "messages null", body: #"{"model":"demo-echo","messages":null}"#, says: ["messages", "null"]),
        BadRequest(name: "broken JSON", body: #"{"model":"demo-echo","messages":[{"role":"user","content":"\#(canary)"#, says: ["not valid JSON"]),
        BadRequest(name: "prompt a number", path: "/v1/completions", body: #"{"model":"demo-echo","prompt":7}"#, says: ["'prompt' must be a string"]),
    ]

    static func error(_ response: TestResponse) throws -> (message: String, type: String, code: String?) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
        let error = try #require(object["error"] as? [String: Any], "no error object in \(String(buffer: response.body))")
        return (try #require(error["message"] as? String), try #require(error["type"] as? String), error["code"] as? String)
    }

    @Test(arguments: requestRows)
    func badRequestsAreNamedAndNeverForwarded(row: BadRequest) async throws {
        try await ProxyHarness.run { h in
            let response = try await h.post(row.path, row.body)
            #expect(response.status == row.status)
            let (message, type, _) = try Self.error(response)
            #expect(type == "invalid_request_error")
            for part in row.says { #expect(message.contains(part), "\(message)") }
            #expect(!message.contains(Self.canary) && !message.contains("Dictionary"), "\(message)")
            #expect(h.upstream.requests == 0, "the upstream never sees a malformed request")
            #expect(!h.logs.text.contains(Self.canary))
        }
    }

    @Test func wellFormedMessagesStillPass() async throws {
        // Positive control for the message checks: content parts, null content, and a tool-calling assistant.
        try await ProxyHarness.run { h in
            let body = #"{"model":"demo-echo","messages":[{"role":"system","content":null},"#
                + #"{"role":"user","content":[{"type":"text","text":"hi"}]},{"role":"assistant","tool_calls":[]},{"role":"tool","content":"x"}]}"#
            let response = try await h.post("/v1/chat/completions", body)
            #expect(response.status == .ok)
            #expect(h.upstream.requests == 1)
        }
    }

    @Test func anOversizedHeaderGets431InOpenAIShape() async throws {
        try await ProxyHarness.run { h in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(h.port)/v1/models")
            request.headers.add(name: "Authorization", value: "Bearer \(ProxyHarness.clientKey)")
            request.headers.add(name: "X-Big", value: String(repeating: "b", count: 1 << 20))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(response.status.code == 431)
            #expect(body.contains(#""code":"headers_too_large""#) && body.contains("\(ProxyServer.maxHeaderBytes) bytes"), "\(body)")
            let after = try await h.post("/v1/chat/completions", RefusalTests.chat)
            #expect(after.status == .ok, "still serves")
        }
    }

    @Test func aBodyCutShortIsTheClientsMistakeNotA500() async throws {
        try await ProxyHarness.run { h in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(h.port)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(ProxyHarness.clientKey)")
            let chunks = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
                continuation.yield(ByteBuffer(string: #"{"model":"demo-echo","#))
                continuation.finish(throwing: CancellationError())
            }
            request.body = .stream(chunks, length: .known(Int64(500)))
            _ = try? await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let deadline = ContinuousClock.now + .seconds(5)
            var page = ""
            while ContinuousClock.now < deadline {
                page = String(decoding: h.metrics.render(), as: UTF8.self)
                if page.contains(#"status="400""#) || page.contains(#"status="500""#) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(page.contains(#"route="/v1/chat/completions""#) && page.contains(#"status="400""#), "\(page)")
            #expect(!page.contains(#"status="500""#))
            #expect(!h.logs.text.contains("unhandled error"), "\(h.logs.text)")
            #expect(h.upstream.requests == 0)
        }
    }

    /// A job whose data file has its columns swapped: the 400 names file, line and field, never the text.
    @Test func aJobOnSwappedColumnsNeverQuotesTheData() async throws {
        let f = try GenerationJobsTests.fixture()
        let swapped = (0..<4).map { #"{"text": "pos", "label": "\#(Self.canary) \#($0) a sentence of private text"}"# }
        try swapped.joined(separator: "\n").write(to: f.dataDirectory.appendingPathComponent("swapped.jsonl"), atomically: true, encoding: .utf8)
        let logs = LogCapture()
        try await GenerationJobsTests.server(f, model: GenerationJobsTests.model(), logs: logs).makeApplication().test(.live) { client in
            let response = try await GenerationJobsTests.post(client, "/admin/jobs", #"{"task": "reviews", "data": "swapped.jsonl", "epsilon": 4}"#)
            #expect(response.status == .badRequest)
            let message = try Self.error(response).message
            #expect(message.contains("swapped.jsonl:1: field 'label': not one of the task's labels") && message.contains("pos, neg"), "\(message)")
            #expect(!message.contains(Self.canary))
            let array = try await GenerationJobsTests.post(client, "/admin/jobs", "[1]")
            let arrayMessage = try Self.error(array).message
            #expect(array.status == .badRequest && arrayMessage.contains("expected an object") && !arrayMessage.contains("Dictionary"), "\(arrayMessage)")
            #expect(try f.store.generationJobs().isEmpty, "nothing reserved")
        }
        #expect(!logs.text.contains(Self.canary))
    }

    static let configRows: [BadConfig] = [
        BadConfig(name: "typo in limits", edit: { $0.replacingOccurrences(of: "max_body_bytes", with: "max_body_byte") }, line: 6,
                  field: "limits.max_body_byte", says: ["unknown key", "did you mean 'max_body_bytes'?"]),
        BadConfig(name: "typo at the top level", edit: { $0.replacingOccurrences(of: "models:", with: "model:") }, line: 8,
                  field: "model", says: ["did you mean 'models'?"]),
        BadConfig(name: "typo in upstream", edit: { $0.replacingOccurrences(of: "{urls: [\"http://a:1", with: "{url: [\"http://a:1") }, line: 15,
                  field: "models[1].upstream.url", says: ["did you mean 'urls'?"]),
        BadConfig(name: "typo in server", edit: { $0.replacingOccurrences(of: "client_keys_env", with: "client_key_env") }, line: 3,
                  field: "server.client_key_env", says: ["did you mean 'client_keys_env'?"]),
        BadConfig(name: "typo in an inline demonstration", edit: { $0.replacingOccurrences(of: "{label: neg, text:", with: "{lable: neg, text:") }, line: 18,
                  field: "models[1].demonstrations.inline[0].lable", says: ["did you mean 'label'?"]),
        BadConfig(name: "YAML syntax error", edit: { $0.replacingOccurrences(of: "  port: 9001", with: "  port: [9001") }, line: 3,
                  field: nil, says: ["not valid YAML"]),
        BadConfig(name: "empty file", edit: { _ in "" }, line: nil, field: nil, says: ["the file is empty"]),
        BadConfig(name: "port not a number", edit: { $0.replacingOccurrences(of: "port: 9001", with: "port: nine") }, line: 2,
                  field: "server.port", says: ["expected an integer"]),
        BadConfig(name: "models not a list", edit: { $0.components(separatedBy: "models:")[0] + "models: s1\n" }, line: 8,
                  field: "models", says: ["expected an array"]),
        BadConfig(name: "task file named otherwise", edit: { $0.replacingOccurrences(of: "task: sentiment", with: "task: other") }, line: nil,
                  field: "models[0].task", says: ["not 'other'"]),
    ]

    @Test(arguments: configRows)
    func badConfigurationsNameKeyAndLine(row: BadConfig) throws {
        let tests = ConfigurationFileTests()
        let dir = try tests.directory(config: row.edit(ConfigurationFileTests.config))
        try ConfigurationFileTests.taskJSON().write(to: dir.appendingPathComponent("prompts/other.json"), atomically: true, encoding: .utf8)
        do {
            _ = try tests.load(dir, ["KEYS": "k", "ADMIN": "adm", "UP": "u"])
            Issue.record("accepted")
        } catch let error as FileProblem {
            #expect(error.line == row.line, "\(error)")
            #expect(error.field == row.field, "\(error)")
            for part in row.says { #expect(error.description.contains(part), "\(error)") }
            #expect(!error.description.contains("Dictionary") && !error.description.contains("Node"), "\(error)")
        }
    }

    @Test func aBusyAddressIsNamedAndNothingSaysServing() async throws {
        let logs = LogCapture()
        try await ProxyHarness.serving([ProxyHarness.served("m", urls: ["http://127.0.0.1:1/v1"])]) { client, _, _ in
            let busy = client.port!
            let configuration = ProxyConfiguration(host: "127.0.0.1", port: busy, clientKeys: ["k"], models: [ProxyHarness.served("m", urls: ["http://127.0.0.1:1/v1"])])
            let server = ProxyServer(configuration: configuration, logger: Logger(label: "busy") { _ in logs.handler })
            do {
                try await server.run()
                Issue.record("listened on a busy port")
            } catch let error as ListenError {
                #expect("\(error)".contains("127.0.0.1:\(busy)") && "\(error)".contains("already in use"), "\(error)")
            }
        }
        #expect(!logs.text.contains("serving"))
    }
}
