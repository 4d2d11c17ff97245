import FewShotCore
import FewShotTestSupport
import Foundation
import HummingbirdTesting
import Logging
import Testing
@testable import FewShotServer

/// The official `openai` Python SDK, with only `base_url` changed, against the proxy in front of the
/// real llama-server: chat, completions, streaming, model listing and a refused key.
///
/// Needs `FEWSHOT_TEST_PYTHON` (a python with `openai`, made by scripts/test) and
/// `FEWSHOT_TEST_LLM_URL` (a running llama-server); without them the test fails.
@Suite struct OpenAISDKTests {
    static let script = #"""
        import json, sys, openai
        base, key, model = sys.argv[1], sys.argv[2], sys.argv[3]
        client = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=120)
        out = {}
        models = client.models.list()
        out["models"] = [m.id for m in models.data]
        chat = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Review: I loved it.\nSentiment:"}], max_tokens=4, temperature=0)
        out["chat_text"] = chat.choices[0].message.content
        out["chat_usage"] = chat.usage.total_tokens if chat.usage else None
        done = client.completions.create(model=model, prompt="Review: Boring plot.\nSentiment:", max_tokens=3, temperature=0)
        out["completion_text"] = done.choices[0].text
        out["completion_prompt_tokens"] = done.usage.prompt_tokens if done.usage else None
        pieces = []
        for event in client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say hello."}], max_tokens=6, temperature=0, stream=True):
            if event.choices and event.choices[0].delta.content:
                pieces.append(event.choices[0].delta.content)
        out["stream_pieces"] = len(pieces)
        try:
            openai.OpenAI(base_url=base, api_key="sk-wrong", max_retries=0).models.list()
            out["wrong_key"] = "accepted"
        except openai.AuthenticationError as e:
            out["wrong_key"] = e.status_code
        print(json.dumps(out))
        """#

    @Test func officialPythonSDKWorksThroughTheProxy() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let python = env["FEWSHOT_TEST_PYTHON"], !python.isEmpty else {
            Issue.record("FEWSHOT_TEST_PYTHON is unset: run scripts/test (it makes the venv with the openai SDK and sets it)")
            return
        }
        guard let llm = env["FEWSHOT_TEST_LLM_URL"], !llm.isEmpty else {
            Issue.record("FEWSHOT_TEST_LLM_URL is unset: start the local llama-server and run scripts/test")
            return
        }
        let model = ServedModel(
            name: "sentiment-dp", upstream: Upstream(baseURLs: [llm.hasSuffix("/v1") ? llm : llm + "/v1"], model: "smollm2"),
            task: ProxyHarness.task, demonstrations: ProxyHarness.demonstrations, demonstrationSource: "inline")
        let configuration = ProxyConfiguration(
            port: 0, clientKeys: [ProxyHarness.clientKey],
            limits: ProxyLimits(upstreamTimeout: .seconds(120)), models: [model])
        let logs = LogCapture()
        let server = ProxyServer(configuration: configuration, logger: Logger(label: "sdk-test") { _ in logs.handler })
        let output = try await server.makeApplication().test(.live) { client in
            try await Self.runPython(python, arguments: ["-c", Self.script, "http://127.0.0.1:\(client.port!)/v1", ProxyHarness.clientKey, "sentiment-dp"])
        }
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "python printed: \(output)")
        #expect(result["models"] as? [String] == ["sentiment-dp"])
        #expect((result["chat_text"] as? String)?.isEmpty == false)
        #expect((result["chat_usage"] as? Int ?? 0) > 0)
        #expect(result["completion_text"] is String)
        // The prompt the upstream counted includes the demonstrations prefix, not just the 8-odd tokens sent.
        #expect((result["completion_prompt_tokens"] as? Int ?? 0) > 25)
        #expect((result["stream_pieces"] as? Int ?? 0) >= 2)
        #expect(result["wrong_key"] as? Int == 401)
        #expect(!logs.text.contains(ProxyHarness.clientKey))
    }

    static func runPython(_ python: String, arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let deadline = ContinuousClock.now + .seconds(300)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw PythonFailure(message: "python did not finish within 300 s")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw PythonFailure(message: "python exited \(process.terminationStatus): \(err.suffix(2000))")
        }
        return out.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: "\n").last ?? ""
    }

    struct PythonFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
