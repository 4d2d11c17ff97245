import DPAccounting
import FewShotCore
import FewShotData
import Foundation
import LLMBackends
import Testing

/// The DP generator end to end on the real llama-server (FEWSHOT_TEST_LLM_URL, set by scripts/test)
/// with the TREC task and the TREC sample in examples/, at small TREC-like settings.
@Suite(.serialized) struct GeneratorIntegrationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    func backend() async throws -> LlamaCppBackend {
        let url = ProcessInfo.processInfo.environment["FEWSHOT_TEST_LLM_URL"] ?? ""
        try #require(!url.isEmpty, "FEWSHOT_TEST_LLM_URL is not set: run the tests with scripts/test, which starts the local llama-server and sets it")
        return try await LlamaCppBackend.connect(upstreams: [url])
    }

    func trec() throws -> (TaskTemplate, PrivateDataset) {
        let task = try TaskFile.find("trec", in: Self.root.appendingPathComponent("prompts"))
        let data = try PrivateDataFile.load(Self.root.appendingPathComponent("examples/trec_train_sample.jsonl"), task: task)
        return (task, data)
    }

    @Test func partitionModeWithFullVocabularyReleasesCalibratedDemonstrations() async throws {
        let (task, data) = try trec()
        let model = try await backend()
        defer { Task { try? await model.shutdown() } }
        let labels = ["NUM", "LOC"]
        var settings = GenerationSettings(
            batches: 4, batchSize: 1, maxTokens: 6, vocabulary: .full, topK: 50, sampling: .partition,
            privacy: .publicOnly, labels: labels)
        let counts = data.countsByLabel
        let delta = 1.0 / 50
        let plan = PrivacyPlan(settings: settings, examplesPerLabel: counts)
        let accountant = DefaultAccountant()
        let sigma = try Calibration.noiseMultiplier(epsilon: 8, delta: delta, accountant: accountant, event: plan.eventShape(label: "NUM"))
        settings.privacy = .noisy(noiseMultiplierByLabel: ["NUM": sigma, "LOC": sigma])

        let result = try await DemonstrationGenerator(model: model, task: task, settings: settings, noise: .secure())
            .generate(privateData: data.examples)

        #expect(result.demonstrations.map(\.label) == labels)
        #expect(result.tokensReleased.allSatisfy { $0 >= 1 && $0 <= 6 })
        // Each step: the non-empty of the M = 4 private batches, plus the public prompt only when a
        // batch is empty (its distribution stands in for the empty batches; full mode needs no other).
        let steps = result.tokensReleased.reduce(0, +)
        #expect(result.llmCalls >= steps && result.llmCalls <= 5 * steps)
        let privateTexts = Set(data.examples.map(\.text))
        #expect(result.demonstrations.allSatisfy { !privateTexts.contains($0.text) || $0.text.count < 12 })
        for label in labels {
            let epsilon = try accountant.epsilon(for: try #require(result.eventsByLabel[label]), delta: delta)
            #expect(epsilon <= 8 && epsilon > 7, "label \(label): epsilon \(epsilon)")
        }
    }

    @Test func subsampleModeWithoutNoiseFollowsThePrivateMajority() async throws {
        let (task, data) = try trec()
        let model = try await backend()
        defer { Task { try? await model.shutdown() } }
        let settings = GenerationSettings(
            batches: 3, batchSize: 1, maxTokens: 5, vocabulary: .rvp, topK: 20, sampling: .subsample,
            privacy: .noNoise, labels: ["HUM"])
        let result = try await DemonstrationGenerator(model: model, task: task, settings: settings, noise: .secure())
            .generate(privateData: data.examples)
        #expect(result.demonstrations.count == 1)
        #expect(!result.demonstrations[0].text.isEmpty)
        #expect(result.eventsByLabel["HUM"] == .nonPrivate)
        #expect(try DefaultAccountant().epsilon(for: .nonPrivate, delta: 1e-5) == .infinity)
    }
}
