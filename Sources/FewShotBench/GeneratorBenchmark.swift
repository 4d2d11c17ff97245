import ArgumentParser
import AsyncHTTPClient
import FewShotCore
import FewShotData
import Foundation
import Synchronization
import LLMBackends
import NIOCore

/// `fewshot-bench gen`: the generator on a real llama-server, `subsample` against `partition` mode at
/// equal M, N, T, and the generator's overhead over a plain HTTP client sending the very same
/// requests (same bodies, same per-step concurrency). Prints wall time, LLM calls, calls/s, time per
/// token and per step, and the ratios the targets are stated in.
struct GeneratorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generator speed: subsample vs partition, and overhead over a plain client issuing the same requests.")

    @Option(help: "llama-server base URL.")
    var llm: String

    @Option(help: "Task name or file.")
    var task = "agnews"

    @Option(help: "Private data (JSONL/CSV).")
    var data = "examples/agnews_train_sample.jsonl"

    @Option(help: "Directory of task files.")
    var prompts = "prompts"

    @Option(help: "Label to generate for (default: the task's first).")
    var label: String?

    @Option(help: "M") var batches = 10
    @Option(help: "N") var batchSize = 2
    @Option(help: "T: most tokens per demonstration (a newline may end it sooner; per-step times compare).") var maxTokens = 8
    @Option(help: "Top-k per request.") var topK = 100
    @Option(help: "Modes to run, comma-separated.") var modes = "partition,subsample"

    func run() async throws {
        let task = try TaskFile.find(self.task, in: URL(fileURLWithPath: prompts))
        let dataset = try PrivateDataFile.load(URL(fileURLWithPath: data), task: task)
        let labelName = label ?? task.labels[0].name
        let backend = try await LlamaCppBackend.connect(upstreams: [llm])
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(10), read: .seconds(600))))
        do {
            try await measure(task: task, dataset: dataset, labelName: labelName, backend: backend, client: client)
        } catch {
            try? await backend.shutdown()
            try? await client.shutdown()
            throw error
        }
        try await backend.shutdown()
        try await client.shutdown()
    }

    func measure(task: TaskTemplate, dataset: PrivateDataset, labelName: String, backend: LlamaCppBackend, client: HTTPClient) async throws {
        print("fewshot-bench gen: task \(task.name), label \(labelName), M=\(batches) N=\(batchSize) T=\(maxTokens) top-k \(topK), model \(backend.modelName) at \(llm)")
        var perStep: [SamplingMode: Double] = [:]
        for mode in modes.split(separator: ",").compactMap({ SamplingMode(rawValue: String($0)) }) {
            let recorder = RecordingModel(backend)
            // llama-server keeps a RAM cache of earlier prompts across slots. A nonce at the top of every
            // prompt, replaced by a fresh one of the same length for the replay, keeps both runs cold.
            let nonce = UUID().uuidString
            var runTask = task
            runTask.generation.instruction = "Run \(nonce).\n" + task.generation.instruction
            let settings = GenerationSettings(
                batches: batches, batchSize: batchSize, maxTokens: maxTokens, vocabulary: .rvp, topK: topK,
                sampling: mode, privacy: .noisy(noiseMultiplierByLabel: [labelName: 1.0]), labels: [labelName])
            try await evictSlots(backend)
            let start = ContinuousClock.now
            let result = try await DemonstrationGenerator(model: recorder, task: runTask, settings: settings, noise: .secure())
                .generate(privateData: dataset.examples)
            let wall = (ContinuousClock.now - start) / .seconds(1)
            let steps = result.tokensReleased.reduce(0, +)
            let stepTimes = recorder.stepDurations()
            let steady = stepTimes.count > 1 ? stepTimes.dropFirst().reduce(0, +) / Double(stepTimes.count - 1) : wall
            perStep[mode] = steady

            try await evictSlots(backend)
            let fresh = Data(UUID().uuidString.utf8)
            let plain = try await replay(recorder.requestsByStep().map { $0.map { $0.replacing(Data(nonce.utf8), with: fresh) } }, client: client)
            print(String(
                format: "%@: %d tokens, wall %.2f s, %d LLM calls, %.1f calls/s, %.3f s/token; first step %.3f s, later steps %.3f s each",
                mode.rawValue, steps, wall, result.llmCalls, Double(result.llmCalls) / wall, wall / Double(max(steps, 1)),
                stepTimes.first ?? 0, steady))
            print(String(format: "%@: plain client, same %d requests at the same concurrency: %.2f s; generator/plain = %.3f",
                         mode.rawValue, recorder.count, plain, wall / plain))
        }
        if let sub = perStep[.subsample], let part = perStep[.partition] {
            print(String(format: "partition is %.1fx faster per step than subsample (steps after the first)", sub / part))
        }
    }

    /// Fills every slot with an unrelated prompt, so no run starts with the previous run's cache.
    func evictSlots(_ backend: LlamaCppBackend) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for slot in 0...batches {
                group.addTask {
                    _ = try await backend.nextTokenDistribution(DistributionRequest(
                        prompt: ModelPrompt(text: "Cache eviction \(slot) \(UUID().uuidString)"), topK: 1, slot: slot, cachePrompt: true))
                }
            }
            try await group.waitForAll()
        }
    }

    /// Sends the recorded request bodies with a bare HTTP client, step by step, each step's requests at once.
    func replay(_ steps: [[Data]], client: HTTPClient) async throws -> Double {
        let start = ContinuousClock.now
        for bodies in steps {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for body in bodies {
                    group.addTask {
                        var request = HTTPClientRequest(url: llm + "/completion")
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(bytes: body))
                        let response = try await client.execute(request, timeout: .seconds(600))
                        _ = try await response.body.collect(upTo: 64 << 20)
                        guard response.status == .ok else { throw ValidationError("plain client: HTTP \(response.status.code)") }
                    }
                }
                try await group.waitForAll()
            }
        }
        return (ContinuousClock.now - start) / .seconds(1)
    }
}

/// Wraps a backend and records each request's body (as the backend would send it) and timing.
final class RecordingModel: LanguageModel, Sendable {
    private let inner: LlamaCppBackend
    private let entries = Mutex<[(step: Int, body: Data, start: ContinuousClock.Instant, end: ContinuousClock.Instant)]>([])

    init(_ inner: LlamaCppBackend) { self.inner = inner }

    var modelName: String { inner.modelName }
    var count: Int { entries.withLock { $0.count } }

    func nextTokenDistribution(_ request: DistributionRequest) async throws -> NextTokenDistribution {
        let body = try inner.requestBody(for: request)
        let start = ContinuousClock.now
        let result = try await inner.nextTokenDistribution(request)
        let end = ContinuousClock.now
        entries.withLock { $0.append((request.prompt.continuation.count, body, start, end)) }
        return result
    }

    func generate(_ request: GenerationRequest) async throws -> String { try await inner.generate(request) }
    func vocabularySize() async throws -> Int? { try await inner.vocabularySize() }
    func token(id: Int) async throws -> Token { try await inner.token(id: id) }
    func slotCount() async throws -> Int? { try await inner.slotCount() }

    func requestsByStep() -> [[Data]] {
        entries.withLock { entries in
            Dictionary(grouping: entries, by: \.step).sorted { $0.key < $1.key }.map { $0.value.map(\.body) }
        }
    }

    /// Wall time of each step: first request start to last response.
    func stepDurations() -> [Double] {
        entries.withLock { entries in
            Dictionary(grouping: entries, by: \.step).sorted { $0.key < $1.key }.map { _, group -> Double in
                let wall: Duration = group.map(\.end).max()! - group.map(\.start).min()!
                return wall / .seconds(1)
            }
        }
    }
}
