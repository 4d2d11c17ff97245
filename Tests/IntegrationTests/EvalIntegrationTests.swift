import DPAccounting
import FewShotCore
import FewShotData
import FewShotEval
import Foundation
import LLMBackends
import Testing

/// The evaluation harness end to end against the real llama-server named by FEWSHOT_TEST_LLM_URL
/// (scripts/test starts one and sets it): the TREC task file, a handful of questions, one seed,
/// every condition with tiny generation settings. Without the variable the test fails, never skips.
@Suite(.serialized) struct EvalIntegrationTests {
    func serverURL() throws -> String {
        let url = ProcessInfo.processInfo.environment["FEWSHOT_TEST_LLM_URL"] ?? ""
        try #require(!url.isEmpty, "FEWSHOT_TEST_LLM_URL is not set: run the tests with scripts/test, which starts the local llama-server and sets it")
        return url
    }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static let train: [LabeledExample] = [
        ("What does NASA stand for ?", "ABBR"), ("What is the abbreviation for Texas ?", "ABBR"),
        ("What is the best color for a car ?", "ENTY"), ("What instrument did Miles Davis play ?", "ENTY"),
        ("Why is the sky blue ?", "DESC"), ("What is a golden parachute ?", "DESC"),
        ("Who wrote Hamlet ?", "HUM"), ("Who was the first president of France ?", "HUM"),
        ("Where is the Eiffel Tower ?", "LOC"), ("What country has the most people ?", "LOC"),
        ("How many days are in a year ?", "NUM"), ("When did World War II end ?", "NUM"),
    ].map { LabeledExample(text: $0.0, label: $0.1) }

    static let test: [LabeledExample] = [
        ("How far is it from Denver to Aspen ?", "NUM"), ("Who was Galileo ?", "HUM"),
        ("What county is Modesto , California in ?", "LOC"), ("What is an atom ?", "DESC"),
    ].map { LabeledExample(text: $0.0, label: $0.1) }

    @Test func tinyEvaluationEndToEnd() async throws {
        let backend = try await LlamaCppBackend.connect(upstreams: [try serverURL()])
        defer { Task { try await backend.shutdown() } }
        let task = try TaskFile.load(Self.repository.appendingPathComponent("prompts/trec.yaml"))
        var generation = GeneratedDemonstrationSource.defaultSettings(for: task)
        generation.batches = 2
        generation.batchSize = 1
        generation.maxTokens = 3
        generation.vocabulary = .rvp
        let generator = GeneratedDemonstrationSource(
            // Two examples per label: the released DP counts (noise sd 10) say nothing, so delta is given.
            task: task, model: backend, privateData: Self.train, settings: generation, accountant: RDPAccountant(), delta: 0.01)
        let source = TaskDemonstrationSource(task: task, train: Self.train, model: backend, publicMaxTokens: 6, generator: generator)
        let conditions: [EvalCondition] = [.zeroShot, .publicOnly, .privateGenerated(epsilon: 8), .nonPrivateGenerated, .realExamples]
        let settings = EvalSettings(conditions: conditions, seeds: [0], topK: 50)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-eval-it-\(UUID().uuidString)")
        let evalTask = EvalTask(template: task, test: Self.test, demonstrations: source)

        let report = try await Evaluation(model: backend, settings: settings, outputDirectory: directory, progress: { _ in }).run([evalTask])
        #expect(report.cells.map(\.condition) == conditions.map(\.id))
        for cell in report.cells {
            #expect(cell.testExamples == Self.test.count)
            #expect((0...cell.testExamples).contains(cell.correct) && (0...cell.testExamples).contains(cell.correctCalibrated))
            #expect(cell.contentFreeProbabilities.count == task.labels.count)
            #expect(abs(cell.contentFreeProbabilities.reduce(0, +) - 1) < 1e-9)
            #expect(cell.contentFreeProbabilities.allSatisfy { $0 > 0 })
        }
        let byCondition = Dictionary(uniqueKeysWithValues: report.cells.map { ($0.condition, $0) })
        #expect(byCondition["real-shots"]?.demonstrations == nil)
        #expect(byCondition["eps-8"]?.demonstrations?.count == task.labels.count)
        #expect(byCondition["eps-8"]?.notes["sigma"] != nil)
        #expect(byCondition["eps-0"]?.demonstrations?.allSatisfy { !$0.text.contains("\n") } == true)

        let files = try report.write(to: directory)
        #expect(files.count == 4)
        // Resuming: every cell comes from the cache and the report is the same.
        let again = try await Evaluation(model: backend, settings: settings, outputDirectory: directory, progress: { _ in }).run([evalTask])
        #expect(again == report)
    }

    /// The prompt cache shifts logprobs slightly but must not change them materially.
    @Test func cachedAndUncachedLabelProbabilitiesAgree() async throws {
        let backend = try await LlamaCppBackend.connect(upstreams: [try serverURL()])
        defer { Task { try await backend.shutdown() } }
        let task = try TaskFile.load(Self.repository.appendingPathComponent("prompts/trec.yaml"))
        let tokenization = try await LabelTokenization.discover(task: task, model: backend, topK: 50)
        #expect(tokenization.labelTokens.count == task.labels.count)
        let demonstrations = Self.train.enumerated().filter { $0.offset % 2 == 0 }.map { Demonstration(label: $0.element.label, text: $0.element.text) }
        let cached = LabelScorer(task: task, model: backend, tokenization: tokenization, topK: 50, cachePrompt: true, slot: 0)
        let uncached = LabelScorer(task: task, model: backend, tokenization: tokenization, topK: 50, cachePrompt: false, slot: 0)
        for example in Self.test.prefix(2) {
            _ = try await cached.labelProbabilities(demonstrations: demonstrations, query: "N/A")  // warm the slot with the prefix
            let a = ContextualCalibration.normalised(try await cached.labelProbabilities(demonstrations: demonstrations, query: example.text))
            let b = ContextualCalibration.normalised(try await uncached.labelProbabilities(demonstrations: demonstrations, query: example.text))
            #expect(zip(a, b).allSatisfy { abs($0 - $1) < 0.05 }, "cached \(a) vs uncached \(b)")
        }
    }
}
