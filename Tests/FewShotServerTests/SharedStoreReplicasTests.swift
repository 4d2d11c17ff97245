import AsyncHTTPClient
import DPAccounting
import FewShotGeneration
import FewShotStore
import FewShotStorePostgres
import FewShotTestSupport
import Foundation
import Hummingbird
import LLMBackends
import Logging
import NIOCore
import ServiceLifecycle
import Testing
@testable import FewShotServer

/// Two proxy replicas on one PostgreSQL store (each with its own store instance, as two processes would
/// have): a job started on one is listed by the other while it runs; when the first replica shuts down,
/// the second resumes the job to the end, paying once; and a job cancelled through the other replica
/// stops on the one that runs it, which abandons the rest of its reservation. Needs FEWSHOT_TEST_POSTGRES_URL (scripts/test sets it; in CI its absence fails).
@Suite struct SharedStoreReplicasTests {
    static var postgresURL: String? { ProcessInfo.processInfo.environment["FEWSHOT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    static var required: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] == "true" || environment["FEWSHOT_TEST_REQUIRE_POSTGRES"] == "1"
    }

    static func replica(_ f: GenerationJobsTests.Fixture, store: any LedgerStore, model: FakeLanguageModel) -> ProxyServer {
        let configuration = ProxyConfiguration(
            port: 0, clientKeys: [ProxyHarness.clientKey], adminKey: GenerationJobsTests.adminKey,
            models: [ProxyHarness.served("demo", urls: ["http://127.0.0.1:1/v1"])],
            jobs: JobsConfiguration(dataDirectory: f.dataDirectory, promptsDirectory: f.directory.appendingPathComponent("prompts"), llmURLs: ["http://127.0.0.1:1"],
                                    cancelPollInterval: .milliseconds(50)))
        return ProxyServer(configuration: configuration, logger: Logger(label: "replica"), store: store, jobModels: { ConnectedModel(model: model, shutdown: {}) })
    }

    @Test(.enabled(if: postgresURL != nil || required, "needs PostgreSQL (FEWSHOT_TEST_POSTGRES_URL)"))
    func aJobStartedOnOneReplicaIsSeenByTheOtherAndResumedThereAfterTheFirstStops() async throws {
        let url = try #require(Self.postgresURL, "FEWSHOT_TEST_POSTGRES_URL is not set: run scripts/test, or eval \"$(scripts/postgres-for-tests)\"")
        let location = url + (url.contains("?") ? "&" : "?") + "schema=r_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let f = try GenerationJobsTests.fixture()
        let storeA = try PostgresStore(url: location)
        let storeB = try PostgresStore(url: location)
        let replicaA = Self.replica(f, store: storeA, model: GenerationJobsTests.model(delay: .milliseconds(30)))
        let jobsA = try #require(replicaA.makeJobs())
        let jobsB = try #require(Self.replica(f, store: storeB, model: GenerationJobsTests.model()).makeJobs())

        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(configuration: .init(services: [replicaA.makeApplication(jobs: jobsA) { portSink.yield($0) }], logger: Logger(label: "group")))
        var id = ""
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            id = try await GenerationJobsTests.startLiveJob(port: port)

            // Replica B sees the job run on A, its tokens growing, and does not cancel what it does not run.
            var seen = try await jobsB.view(id)
            while seen.status == .running && seen.tokensReleased < 3 {
                try await Task.sleep(for: .milliseconds(20))
                seen = try await jobsB.view(id)
            }
            #expect(seen.status == .running)
            #expect(try await jobsB.list().map(\.id) == [id])

            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        let stopped = try await jobsB.view(id)
        #expect(stopped.status == .failed && stopped.resumable == true)
        let resumed = try await jobsB.resume(id)
        #expect(resumed.status == .running)
        await jobsB.wait(id)
        let finished = try storeB.generationJob(id)
        #expect(finished.status == .completed)
        #expect(finished.releasedTokens == 60)
        let dataset = try #require(storeB.datasets().first?.fingerprint)
        let released = try #require(try storeB.releasedLabelCounts(dataset: dataset))
        let status = try storeA.budgetStatus(dataset: dataset, accountant: DefaultAccountant(), delta: 1.0 / Double(try #require(released.counts.values.min())))
        #expect(abs(status.spentEpsilon - 4) < 0.05, "paid once: spent \(status.spentEpsilon), calibrated to 4")
        #expect(status.activeGenerations == 0)
    }

    @Test(.enabled(if: postgresURL != nil || required, "needs PostgreSQL (FEWSHOT_TEST_POSTGRES_URL)"))
    func aJobCancelledThroughTheOtherReplicaStopsWhereItRunsAndReturnsTheRestOfItsReservation() async throws {
        let url = try #require(Self.postgresURL, "FEWSHOT_TEST_POSTGRES_URL is not set: run scripts/test, or eval \"$(scripts/postgres-for-tests)\"")
        let location = url + (url.contains("?") ? "&" : "?") + "schema=c_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let f = try GenerationJobsTests.fixture()
        let storeA = try PostgresStore(url: location)
        let storeB = try PostgresStore(url: location)
        let jobsA = try #require(Self.replica(f, store: storeA, model: GenerationJobsTests.model(delay: .milliseconds(30))).makeJobs())
        let jobsB = try #require(Self.replica(f, store: storeB, model: GenerationJobsTests.model()).makeJobs())
        let spec = try JSONDecoder().decode(GenerationSpec.self, from: Data(#"{"task": "reviews", "data": "reviews.jsonl", "epsilon": 4, "max_tokens": 30, "sampling": "partition"}"#.utf8))
        let id = try await jobsA.start(spec).id

        var seen = try await jobsB.view(id)
        while seen.status == .running && seen.tokensReleased < 3 {
            try await Task.sleep(for: .milliseconds(20))
            seen = try await jobsB.view(id)
        }
        try #require(seen.status == .running, "the job ended before it could be cancelled: \(seen.status)")
        let asked = try await jobsB.cancel(id)
        // Still running with the cancel asked for, or already stopped by A's watcher (it polls every 50 ms).
        #expect(asked.cancelRequested || asked.status == .cancelled, "\(asked.status)")
        // B never sees the cancelled job as failed (resumable) on its way to cancelled.
        var watched = asked
        while watched.status == .running {
            try await Task.sleep(for: .milliseconds(2))
            watched = try await jobsB.view(id)
        }
        #expect(watched.status == .cancelled, "\(watched.status) \(watched.failure ?? "")")
        await jobsA.wait(id)

        let stopped = try await jobsB.view(id)
        #expect(stopped.status == .cancelled)
        #expect(stopped.tokensReleased < stopped.tokensPlanned, "stopped early: \(stopped.tokensReleased) of \(stopped.tokensPlanned)")
        #expect(!stopped.cancelRequested)
        let dataset = try #require(storeB.datasets().first?.fingerprint)
        let released = try #require(try storeB.releasedLabelCounts(dataset: dataset))
        let status = try storeB.budgetStatus(dataset: dataset, accountant: DefaultAccountant(), delta: 1.0 / Double(try #require(released.counts.values.min())))
        #expect(status.activeGenerations == 0)
        #expect(status.committedEpsilon == status.spentEpsilon, "nothing left reserved")
        // Cancelling again is a no-op that shows the outcome, from either replica.
        #expect(try await jobsA.cancel(id).status == .cancelled)
        #expect(try await jobsB.cancel(id).status == .cancelled)
    }
}
