import AsyncHTTPClient
import Foundation
import LocalLLM
import NIOCore
import NIOHTTP1
import Testing

enum PostgresForTests {
    /// Run wherever PostgreSQL is there or required (CI, scripts/test): there a missing URL fails.
    static let runs: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return environment["FEWSHOT_TEST_POSTGRES_URL"].map { !$0.isEmpty } == true
            || environment["CI"] == "true" || environment["FEWSHOT_TEST_REQUIRE_POSTGRES"] == "1"
    }()
}

/// The deployment of README's "Several replicas on one PostgreSQL", with real processes: two
/// `fewshot serve` replicas and three `fewshot gen` processes on one PostgreSQL store and the real
/// llama-server (FEWSHOT_TEST_LLM_URL and FEWSHOT_TEST_POSTGRES_URL, both set by scripts/test).
@Suite(.serialized, .enabled(if: PostgresForTests.runs, "needs PostgreSQL (FEWSHOT_TEST_POSTGRES_URL)"))
struct SharedPostgresDeploymentTests {
    static let environment = ProcessInfo.processInfo.environment

    static let adminKey = "race-admin-\(UUID().uuidString)"
    static let replicaEnvironment = ["RACE_CLIENT_KEYS": "race-client", "RACE_ADMIN_KEY": adminKey]

    /// The budget fits exactly three generations: seven start at once (two jobs on each replica, three
    /// `fewshot gen`), three are granted and four refused with the usual error. Then one replica and
    /// one `fewshot gen` are killed (SIGKILL) while generating; the killed replica's jobs are resumed
    /// through the other replica, the killed gen with `--resume`, and the ledger ends at exactly the
    /// cost of three generations, with three sets and no budget left for a fourth.
    @Test func sevenRacersOnABudgetOfThreeGetThreeAndKilledProcessesLoseNothing() async throws {
        let base = try #require(Self.environment["FEWSHOT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 },
                                "FEWSHOT_TEST_POSTGRES_URL is not set: run the tests with scripts/test")
        let llm = try #require(Self.environment["FEWSHOT_TEST_LLM_URL"].flatMap { $0.isEmpty ? nil : $0 },
                               "FEWSHOT_TEST_LLM_URL is not set: run the tests with scripts/test")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-race-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // A data set of its own: the TREC sample plus one line, so that its fingerprint is new.
        let data = directory.appendingPathComponent("race.jsonl")
        var sample = try String(contentsOf: ChildProcess.root.appendingPathComponent("examples/trec_train_sample.jsonl"), encoding: .utf8)
        sample += #"{"text": "What is the race probe \#(UUID().uuidString) ?", "label_name": "DESC"}"# + "\n"
        try sample.write(to: data, atomically: true, encoding: .utf8)
        let schema = "race_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        // A killed replica's jobs are taken over when their 3 s lease runs out.
        let store = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)&lease_seconds=3"

        // One generation: 4 DESC demonstrations of up to 8 tokens, M = 2, N = 1, each at epsilon 4.
        let settings = ["--task", "trec", "--labels", "DESC", "--shots", "4", "--batches", "2", "--batch-size", "1",
                        "--max-tokens", "8", "--sampling", "partition", "--epsilon", "4", "--delta", "1e-5"]
        let gen = ["gen", "--data", data.path, "--llm", llm] + settings
        let job = #"{"task": "trec", "data": "race.jsonl", "labels": ["DESC"], "shots": 4, "batches": 2, "batch_size": 1, "max_tokens": 8, "sampling": "partition", "epsilon": 4, "delta": 1e-5}"#

        // What k generations cost, from the shared ledger itself. Composition is far from linear (one
        // costs 4, three about 4.8), and the cost depends on the data set's released label counts, a
        // DP draw of the store's own; so reserve k = 1...4 generations here (each gen killed as soon as
        // its cost is reserved, before its first token), read the committed epsilon, and abandon them,
        // which returns all of it (they started no demonstration).
        try await expectSuccess(["budget", "set", "--data", data.path, "--task", "trec", "--epsilon", "1000", "--delta", "1e-5", "--store", store])
        var cost: [Double] = []
        var calibration: [String] = []
        for _ in 0..<4 {
            let child = try ChildProcess(gen + ["--store", store])
            try #require(try await child.stderrLine(where: Self.isReserved) != nil, "gen did not reserve: \(child.stderr)")
            child.kill()
            calibration.append(try #require(Self.reservedGeneration(child.stderr)))
            cost.append(try Self.ledger(try await expectSuccess(["budget", "show", "--store", store])).committed)
        }
        for id in calibration { try await expectSuccess(["budget", "abandon", id, "--store", store]) }
        let labelCountsOnly = try Self.ledger(try await expectSuccess(["budget", "show", "--store", store]))
        try #require(labelCountsOnly.committed == labelCountsOnly.spent && labelCountsOnly.spent < cost[0] / 4,
                     "abandoning the calibration left a charge (a gen released a token before it was killed): \(labelCountsOnly)")
        try #require(cost[3] - cost[2] > 0.05, "four generations must cost clearly more than three: \(cost)")
        let budget = (cost[2] + cost[3]) / 2
        try await expectSuccess(["budget", "set", "--data", data.path, "--task", "trec", "--epsilon", "\(budget)", "--delta", "1e-5", "--store", store])

        // Two replicas on the shared store.
        let config = directory.appendingPathComponent("serve.yaml")
        try """
            server:
              host: 127.0.0.1
              client_keys_env: RACE_CLIENT_KEYS
              admin_key_env: RACE_ADMIN_KEY
            models:
              - name: trec-inline
                task: trec
                upstream: {urls: ["\(llm)/v1"], model: smollm2}
                demonstrations:
                  inline:
                    - {label: DESC, text: "What is a fjord ?"}
            jobs:
              data_dir: \(directory.path)
              llm: ["\(llm)"]
            """.write(to: config, atomically: true, encoding: .utf8)
        var replicas: [(process: ChildProcess, port: Int)] = []
        defer { for replica in replicas where replica.process.process.isRunning { replica.process.kill() } }
        for _ in 0..<2 {
            let port = try FreePort.find()
            let process = try ChildProcess(["serve", "--config", config.path, "--port", "\(port)", "--store", store], environment: Self.replicaEnvironment)
            replicas.append((process, port))
            try await Self.waitUntilHealthy(port: port, process: process)
        }
        let (a, b) = (replicas[0], replicas[1])

        // The race: seven generations at once.
        let gens = try (0..<3).map { _ in try ChildProcess(gen + ["--store", store]) }
        defer { for child in gens where child.process.isRunning { child.kill() } }
        let ports = replicas.map(\.port)
        let answers = try await withThrowingTaskGroup(of: (replica: Int, status: Int, body: String).self) { group in
            for replica in [0, 1, 0, 1] {
                group.addTask { try await Self.admin(.POST, port: ports[replica], path: "/admin/jobs", body: job).with(replica: replica) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var grantedGens: [ChildProcess] = []
        for child in gens {
            if try await child.stderrLine(where: Self.isReserved) != nil {
                grantedGens.append(child)
            } else {
                #expect(try await child.finish() == 1)
                #expect(child.stderr.contains("privacy budget of data set"), "\(child.stderr)")
                #expect(child.stderr.contains("Nothing was reserved."), "\(child.stderr)")
            }
        }
        var grantedJobs: [(replica: Int, id: String)] = []
        for answer in answers {
            if answer.status == 202 {
                grantedJobs.append((answer.replica, try #require(Self.json(answer.body)["id"] as? String)))
            } else {
                #expect(answer.status == 409, "\(answer.body)")
                #expect(answer.body.contains("privacy budget of data set"), "\(answer.body)")
            }
        }
        try #require(grantedGens.count + grantedJobs.count == 3, "granted \(grantedGens.count) gens and \(grantedJobs.count) jobs: \(answers)")

        // Kill, mid-generation, replica A (whatever it runs) and the first granted gen once it has
        // finished a demonstration (its progress line for the second says so).
        var killedMidGeneration = 0
        // The gen first: waiting for A's jobs below takes long enough for it to finish otherwise.
        if let victim = grantedGens.first {
            _ = try await victim.stderrLine(where: { $0.contains("demo 2/4") })
            try #require(victim.process.isRunning, "the gen finished before it could be killed mid-generation: \(victim.stderr)")
            victim.kill()
            killedMidGeneration += 1
        }
        let jobsOnA = grantedJobs.filter { $0.replica == 0 }.map(\.id)
        for id in jobsOnA {
            // Seen from replica B: the shared store shows A's job and its progress.
            let view = try await Self.waitForJob(id, port: b.port) { ($0["tokens_released"] as? Int ?? 0) >= 1 || $0["status"] as? String != "running" }
            if view["status"] as? String == "running" { killedMidGeneration += 1 }
        }
        a.process.kill()
        #expect(killedMidGeneration >= 1)

        // Recovery: A's jobs are resumed through B once their lease has run out, the killed gen with
        // --resume; everything else finishes by itself.
        for id in jobsOnA {
            let failed = try await Self.waitForJob(id, port: b.port, within: .seconds(60)) { $0["status"] as? String != "running" }
            if failed["status"] as? String == "failed" {
                #expect(failed["resumable"] as? Bool == true, "\(failed)")
                let resumed = try await Self.admin(.POST, port: b.port, path: "/admin/jobs/\(id)/resume")
                #expect(resumed.status == 202, "\(resumed.body)")
            }
        }
        if let victim = grantedGens.first {
            let id = try #require(Self.reservedGeneration(victim.stderr), "\(victim.stderr)")
            let resumed = try await ChildProcess.run(gen + ["--store", store, "--resume", id])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stderr.contains("resuming generation \(id)"), "\(resumed.stderr)")
        }
        for child in grantedGens.dropFirst() { #expect(try await child.finish() == 0, "\(child.stderr)") }
        for (_, id) in grantedJobs {
            let view = try await Self.waitForJob(id, port: b.port, within: .seconds(300)) { $0["status"] as? String != "running" }
            #expect(view["status"] as? String == "completed", "\(view)")
        }

        // Exactly three generations' cost, nothing reserved, three sets, and a fourth refused.
        let ledger = try Self.ledger(try await expectSuccess(["budget", "show", "--store", store]))
        #expect(abs(ledger.spent - cost[2]) <= 1e-3 * cost[2], "spent \(ledger.spent), three generations cost \(cost[2])")
        #expect(ledger.committed == ledger.spent)
        #expect(ledger.active == 0)
        let sets = try await expectSuccess(["demos", "list", "--store", store])
        #expect(sets.split(separator: "\n").filter { $0.contains("4 demos") }.count == 3, "\(sets)")
        let fourth = try await ChildProcess.run(gen + ["--store", store])
        #expect(fourth.status == 1)
        #expect(fourth.stderr.contains("privacy budget of data set"), "\(fourth.stderr)")
        let late = try await Self.admin(.POST, port: b.port, path: "/admin/jobs", body: job)
        #expect(late.status == 409, "\(late.body)")
    }

    // MARK: - Helpers

    static func isReserved(_ line: String) -> Bool { line.contains("its full cost is reserved") }

    /// The id in gen's "generation ID: its full cost is reserved; ..." line.
    static func reservedGeneration(_ stderr: String) -> String? {
        guard let line = stderr.split(separator: "\n").first(where: { isReserved(String($0)) }),
              let start = line.range(of: "generation ")?.upperBound else { return nil }
        return String(line[start...].prefix { $0 != ":" })
    }

    @discardableResult
    func expectSuccess(_ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run(arguments)
        try #require(result.status == 0, "fewshot \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    /// spent, committed and the number of running or resumable generations from `fewshot budget show`.
    static func ledger(_ text: String) throws -> (spent: Double, committed: Double, active: Int) {
        func number(after marker: String) throws -> Double {
            let line = try #require(text.split(separator: "\n").first { $0.contains(marker) }, "no '\(marker)' in:\n\(text)")
            let tail = line[line.range(of: marker)!.upperBound...].trimmingCharacters(in: .whitespaces)
            return try #require(Double(tail.prefix { !$0.isWhitespace }), "no number after '\(marker)' in: \(line)")
        }
        return (try number(after: "spent      epsilon"), try number(after: "committed  epsilon"), Int(try number(after: "reserved by")))
    }

    static func waitUntilHealthy(port: Int, process: ChildProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            try #require(process.process.isRunning, "fewshot serve ended: \(process.stderr)")
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(2)),
               response.status == .ok {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("fewshot serve on port \(port) was not healthy within 60 s: \(process.stderr)")
    }

    struct Answer {
        var status: Int
        var body: String
        func with(replica: Int) -> (replica: Int, status: Int, body: String) { (replica, status, body) }
    }

    static func admin(_ method: HTTPMethod, port: Int, path: String, body: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(adminKey)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        return Answer(status: Int(response.status.code), body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    static func json(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "not a JSON object: \(body)")
    }

    /// Polls `GET /admin/jobs/{id}` on `port` until `done` holds for the job's view.
    static func waitForJob(_ id: String, port: Int, within timeout: Duration = .seconds(120), until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let answer = try await admin(.GET, port: port, path: "/admin/jobs/\(id)")
            try #require(answer.status == 200, "\(answer.body)")
            let view = try json(answer.body)
            if done(view) { return view }
            try #require(ContinuousClock.now < deadline, "job \(id) never got there: \(view)")
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
