import AsyncHTTPClient
import DPAccounting
import FewShotCore
import FewShotGeneration
import FewShotStore
import FewShotTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import LLMBackends
import Logging
import NIOCore
import ServiceLifecycle
import Testing
@testable import FewShotServer

/// Generation jobs through the admin API, on a real store file with the in-process fake model: a job
/// runs to a stored set and is charged; bad requests are refused with nothing reserved; cancel charges
/// only what was released; a graceful shutdown leaves a running job failed and resumable, and resuming
/// it after a "restart" (a new jobs instance on the same store) completes it without paying twice.
@Suite struct GenerationJobsTests {
    static let adminKey = "adm-jobs-77f1"
    static let admin: HTTPFields = [.authorization: "Bearer \(adminKey)", .contentType: "application/json"]
    static let canary = "zq-canary-"

    struct Fixture {
        let directory: URL
        let dataDirectory: URL
        let store: FewShotStore
    }

    static let taskYAML = """
        name: reviews
        labels:
          - {name: pos, word: positive}
          - {name: neg, word: negative}
        generation:
          instruction: "Write a review.\\n\\n"
          example: "Sentiment: {label}\\nReview: {text}\\n\\n"
        classification:
          instruction: "Classify the review.\\n\\n"
          example: "Review: {text}\\nSentiment: {label}\\n\\n"
        end_markers: []
        defaults: {batches: 4, batch_size: 1, max_tokens: 5, vocabulary: rvp, top_k: 10}
        """

    static func fixture() throws -> Fixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-jobs-\(UUID().uuidString)")
        let data = directory.appendingPathComponent("data")
        let prompts = directory.appendingPathComponent("prompts")
        for d in [data, prompts] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        try taskYAML.write(to: prompts.appendingPathComponent("reviews.yaml"), atomically: true, encoding: .utf8)
        let rows = (0..<80).map { i in
            "{\"text\": \"\(canary)\(i) was \(i % 2 == 0 ? "great" : "awful")\", \"label\": \"\(i % 2 == 0 ? "pos" : "neg")\"}"
        }
        try (rows.joined(separator: "\n") + "\n").write(to: data.appendingPathComponent("reviews.jsonl"), atomically: true, encoding: .utf8)
        var bad = rows
        bad[2] = "{\"text\": \"\(canary)bad\"}"
        try (bad.joined(separator: "\n") + "\n").write(to: data.appendingPathComponent("bad.jsonl"), atomically: true, encoding: .utf8)
        try "secret".write(to: directory.appendingPathComponent("outside.jsonl"), atomically: true, encoding: .utf8)
        let store = try FewShotStore(path: directory.appendingPathComponent("store.sqlite").path)
        return Fixture(directory: directory, dataDirectory: data, store: store)
    }

    /// A model that never ends a text early, so every demonstration releases its full T tokens.
    static func model(delay: Duration = .zero) -> FakeLanguageModel {
        FakeLanguageModel(vocabulary: [" good", " bad", " film", " plot", "."], delay: delay) { prompt in
            prompt.text.contains("positive") ? [" good": 0.5, " film": 0.3, ".": 0.2] : [" bad": 0.5, " plot": 0.3, ".": 0.2]
        }
    }

    static func server(_ f: Fixture, model: FakeLanguageModel, logs: LogCapture, metrics: ServerMetrics = ServerMetrics()) -> ProxyServer {
        let configuration = ProxyConfiguration(
            port: 0, clientKeys: [ProxyHarness.clientKey], adminKey: adminKey,
            models: [ProxyHarness.served("demo", urls: ["http://127.0.0.1:1/v1"])],
            jobs: JobsConfiguration(dataDirectory: f.dataDirectory, promptsDirectory: f.directory.appendingPathComponent("prompts"), llmURLs: ["http://127.0.0.1:1"]))
        return ProxyServer(
            configuration: configuration, logger: Logger(label: "jobs-test") { _ in logs.handler }, metrics: metrics, store: f.store,
            jobModels: { ConnectedModel(model: model, shutdown: {}) })
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
    }

    static func post(_ client: any TestClientProtocol, _ path: String, _ body: String) async throws -> TestResponse {
        try await client.execute(uri: path, method: .post, headers: admin, body: ByteBuffer(string: body))
    }

    /// Polls the job until `done` holds for its view (at most 60 s).
    static func poll(_ client: any TestClientProtocol, _ id: String, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let view = try json(try await client.execute(uri: "/admin/jobs/\(id)", method: .get, headers: admin))
            if done(view) { return view }
            guard ContinuousClock.now < deadline else { Issue.record("job \(id) stuck: \(view)"); return view }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func aPlanTheLLMCannotHoldIsRefusedBeforeAnythingIsReserved() async throws {
        // 40 batches need 41 cached prompts; the fake server has 16 slots.
        let f = try Self.fixture()
        let logs = LogCapture()
        try await Self.server(f, model: Self.model(), logs: logs).makeApplication().test(.live) { client in
            let started = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 4, "batches": 40}"#)
            #expect(started.status == .serviceUnavailable)
            let body = String(buffer: started.body)
            #expect(body.contains("llm_too_small") && body.contains("16 slots") && body.contains("fewshot llm start --parallel 41"), "\(body)")
            #expect(try f.store.generationJobs().isEmpty)
        }
    }

    @Test func aJobRunsToAStoredChargedSet() async throws {
        let f = try Self.fixture()
        let logs = LogCapture()
        let metrics = ServerMetrics()
        try await Self.server(f, model: Self.model(), logs: logs, metrics: metrics).makeApplication().test(.live) { client in
            let started = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 4}"#)
            #expect(started.status == .accepted)
            let id = try #require(try Self.json(started)["id"] as? String)
            let done = try await Self.poll(client, id) { $0["status"] as? String != "running" }
            #expect(done["status"] as? String == "completed")
            #expect(done["set"] as? String == id)
            #expect(done["tokens_released"] as? Int == 10)
            #expect(done["tokens_planned"] as? Int == 10)
            #expect((done["request"] as? [String: Any])?["data"] as? String == "reviews.jsonl")

            let set = try Self.json(try await client.execute(uri: "/admin/sets/\(id)", method: .get, headers: Self.admin))
            #expect((set["items"] as? [Any])?.count == 2)
            let budgets = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: try await client.execute(
                uri: "/admin/budgets", method: .get, headers: Self.admin).body).utf8)) as? [[String: Any]])
            let spent = try #require(budgets.first?["spent_epsilon"] as? Double)
            #expect(spent > 0 && spent.isFinite, "the job's cost is on the ledger: \(spent)")

            let list = String(buffer: try await client.execute(uri: "/admin/jobs", method: .get, headers: Self.admin).body)
            #expect(list.contains(id))
            let page = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(page.contains(#"fewshot_generation_jobs_total{state="started"} 1"#))
            #expect(page.contains(#"fewshot_generation_jobs_total{state="completed"} 1"#))
            #expect(page.contains("fewshot_tokens_released_total{dataset=\"\(String((budgets.first?["dataset"] as? String ?? "").prefix(16)))\"} 10"))
            #expect(!list.contains(Self.canary) && !page.contains(Self.canary))
        }
        #expect(!logs.text.contains(Self.canary))
        #expect(logs.text.contains("generation job completed"))
    }

    @Test func badRequestsAreRefusedAndReserveNothing() async throws {
        let f = try Self.fixture()
        let logs = LogCapture()
        try await Self.server(f, model: Self.model(), logs: logs).makeApplication().test(.live) { client in
            let badLine = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "bad.jsonl", "epsilon": 4}"#)
            #expect(badLine.status == .badRequest)
            let message = String(buffer: badLine.body)
            #expect(message.contains("bad.jsonl") && message.contains("3"), "names file and line: \(message)")
            #expect(!message.contains(Self.canary))

            let outside = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "../outside.jsonl", "epsilon": 4}"#)
            #expect(outside.status == .forbidden)
            let missing = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl"}"#)
            #expect(missing.status == .badRequest)
            #expect(String(buffer: missing.body).contains("epsilon"))
            let badEpsilon = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": -1}"#)
            #expect(badEpsilon.status == .badRequest)
            let unknownTask = try await Self.post(client, "/admin/jobs", #"{"task": "nope", "data": "reviews.jsonl", "epsilon": 4}"#)
            #expect(unknownTask.status == .badRequest)
            let tooMuch = try await Self.post(
                client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 4, "batches": 50, "subsample": "without-replacement"}"#)
            #expect(tooMuch.status == .badRequest, "50 batches of 1 without replacement need 50 examples per label; there are 40")
            // Values that used to trap the server in the planner (an Int overflow, an allocation):
            // each is a 400 naming its field, and the server answers the next request.
            for (body, field) in [
                (#""max_tokens": 4000000000000, "sampling": "subsample""#, "max_tokens"), (#""shots": 1000000000000"#, "shots"),
                (#""groups": 1000000000000"#, "groups"), (#""batch_size": 1000000000000"#, "batch_size"),
            ] {
                let response = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 4, "# + body + "}")
                #expect(response.status == .badRequest && String(buffer: response.body).contains(field), "\(body): \(String(buffer: response.body))")
            }
            #expect(try f.store.generationJobs().isEmpty)

            // A budget smaller than the job's cost: 409, nothing reserved.
            let first = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 1}"#)
            let id = try #require(try Self.json(first)["id"] as? String)
            _ = try await Self.poll(client, id) { $0["status"] as? String != "running" }
            let dataset = try #require(try f.store.datasets().first?.fingerprint)
            try f.store.setBudget(dataset: dataset, epsilon: 1.2, delta: 1.0 / 40)
            let over = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 1}"#)
            #expect(over.status == .conflict)
            #expect(try f.store.generationJobs().count == 1)
            #expect(try await client.execute(uri: "/admin/jobs", method: .get, headers: [.authorization: "Bearer wrong"]).status == .unauthorized)
            #expect(try await client.execute(uri: "/admin/jobs/nope-nope", method: .get, headers: Self.admin).status == .notFound)
        }
        #expect(!logs.text.contains(Self.canary))
    }

    @Test func cancelStopsTheJobAndChargesItsStartedDemonstrationInFull() async throws {
        let f = try Self.fixture()
        let logs = LogCapture()
        try await Self.server(f, model: Self.model(delay: .milliseconds(40)), logs: logs).makeApplication().test(.live) { client in
            let started = try await Self.post(
                client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 4, "max_tokens": 40, "sampling": "partition"}"#)
            let id = try #require(try Self.json(started)["id"] as? String)
            _ = try await Self.poll(client, id) { ($0["tokens_released"] as? Int ?? 0) >= 2 }
            let cancelled = try Self.json(try await Self.post(client, "/admin/jobs/\(id)/cancel", ""))
            #expect(cancelled["status"] as? String == "cancelled")
            #expect(cancelled["resumable"] as? Bool == false)
            let released = try #require(cancelled["tokens_released"] as? Int)
            #expect(released >= 2 && released < 80)

            // Charged: the started demonstration in full (where it stopped is not data-independent),
            // the demonstration never started returned.
            let status = try f.store.budgetStatus(dataset: try #require(f.store.datasets().first?.fingerprint), accountant: DefaultAccountant())
            #expect(status.activeGenerations == 0)
            #expect(status.spentEpsilon > 0 && status.committedEpsilon == status.spentEpsilon)
            let job = try f.store.generationJob(id)
            #expect(job.status == .abandoned)
            let resumed = try await Self.post(client, "/admin/jobs/\(id)/resume", "")
            #expect(resumed.status == .conflict)
        }
    }

    /// Starts a 60-token partition job through a live server's admin API; returns its id.
    static func startLiveJob(port: Int) async throws -> String {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/admin/jobs")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(adminKey)")
        request.body = .bytes(ByteBuffer(string: #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 4, "max_tokens": 30, "sampling": "partition"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status == .accepted)
        let body = try await response.body.collect(upTo: 1 << 20)
        return try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8)) as? [String: Any])["id"] as? String ?? ""
    }

    @Test func gracefulShutdownLeavesAJobResumableAndResumingCompletesIt() async throws {
        let f = try Self.fixture()
        let logs = LogCapture()
        let slow = Self.model(delay: .milliseconds(30))
        let server = Self.server(f, model: slow, logs: logs)
        let jobs = try #require(server.makeJobs())
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(configuration: .init(services: [server.makeApplication(jobs: jobs) { portSink.yield($0) }], logger: Logger(label: "group")))
        var id = ""
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            id = try await Self.startLiveJob(port: port)
            let deadline = ContinuousClock.now + .seconds(60)
            while try f.store.generationJob(id).releasedTokens < 3 {
                let job = try f.store.generationJob(id)
                try #require(job.status == .running && ContinuousClock.now < deadline, "no third token: \(job.status), \(job.releasedTokens) released")
                try await Task.sleep(for: .milliseconds(20))
            }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        let stopped = try f.store.generationJob(id)
        #expect(stopped.status == .failed)
        #expect(stopped.releasedTokens >= 3 && stopped.releasedTokens < 60)

        // "Restart": a new jobs instance over the same store lists it as failed and resumable, and resumes it.
        let restarted = try #require(Self.server(f, model: Self.model(), logs: logs).makeJobs())
        let listed = try await restarted.list()
        #expect(listed.map(\.id) == [id])
        #expect(listed.first?.status == .failed && listed.first?.resumable == true)
        let resumed = try await restarted.resume(id)
        #expect(resumed.status == .running)
        await restarted.wait(id)
        let finished = try f.store.generationJob(id)
        #expect(finished.status == .completed)
        #expect(finished.releasedTokens == 60)
        // Paid once: the charge equals the plan's cost (2 labels in parallel, 30 Gaussians each).
        // At the run's delta: 1 / the smallest released DP count (the label counts' release is part of the cost).
        let dataset = try #require(f.store.datasets().first?.fingerprint)
        let released = try #require(try f.store.releasedLabelCounts(dataset: dataset))
        let status = try f.store.budgetStatus(dataset: dataset, accountant: DefaultAccountant(), delta: 1.0 / Double(try #require(released.counts.values.min())))
        #expect(abs(status.spentEpsilon - 4) < 0.05, "spent \(status.spentEpsilon), calibrated to 4")
        #expect(!logs.text.contains(Self.canary))
    }

    /// An upstream LLM that echoes the prompt (private examples) in its error body: the job fails, and
    /// its failure (in the store, the admin API and the logs) holds the status and kind, never the body.
    @Test func anUpstreamEchoingThePromptInAnErrorLeavesNoPrivateTextBehind() async throws {
        let f = try Self.fixture()
        let logs = LogCapture()
        let echoed = "\(Self.canary)0 was great"
        // It reports its slots (the job's capacity check passes) and echoes every completion request.
        let stub = try await MisbehavingUpstream.start(routes: { _, uri in
            uri.hasPrefix("/props")
                ? .respond(status: 200, body: #"{"total_slots": 64, "default_generation_settings": {"n_ctx": 4096}}"#)
                : .respond(status: 400, body: #"{"error":{"code":400,"message":"cannot tokenize: \#(echoed)","type":"invalid_request_error"}}"#)
        })
        let transport = try HTTPTransport(
            upstreams: [stub.url], configuration: TransportConfiguration(requestTimeout: .seconds(5)),
            logger: Logger(label: "llm-test") { _ in logs.handler })
        let model = LlamaCppBackend(transport: transport, modelName: "echoing-stub")
        let configuration = ProxyConfiguration(
            port: 0, clientKeys: [ProxyHarness.clientKey], adminKey: Self.adminKey,
            models: [ProxyHarness.served("demo", urls: ["http://127.0.0.1:1/v1"])],
            jobs: JobsConfiguration(dataDirectory: f.dataDirectory, promptsDirectory: f.directory.appendingPathComponent("prompts"), llmURLs: [stub.url]))
        let server = ProxyServer(
            configuration: configuration, logger: Logger(label: "jobs-test") { _ in logs.handler }, store: f.store,
            jobModels: { ConnectedModel(model: model, shutdown: {}) })
        try await server.makeApplication().test(.live) { client in
            let started = try await Self.post(client, "/admin/jobs", #"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 4}"#)
            #expect(started.status == .accepted)
            let id = try #require(try Self.json(started)["id"] as? String)
            let done = try await Self.poll(client, id) { $0["status"] as? String != "running" }
            #expect(done["status"] as? String == "failed")
            let failure = done["failure"] as? String ?? ""
            #expect(failure.contains("HTTP 400") && failure.contains("invalid_request_error"), "positive control: the failure is recorded: \(failure)")
            #expect(!failure.contains(Self.canary))
            let list = String(buffer: try await client.execute(uri: "/admin/jobs", method: .get, headers: Self.admin).body)
            #expect(!list.contains(Self.canary))
        }
        #expect(await stub.requestCount >= 1)
        #expect(try f.store.generationJobs().allSatisfy { !$0.failureReason.contains(Self.canary) && !$0.failureReason.isEmpty })
        #expect(logs.text.contains("generation job stopped"))
        #expect(!logs.text.contains(Self.canary), "\(logs.text)")
        try await transport.shutdown()
        await stub.stop()
    }
}
