import DPAccounting
import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Testing
@testable import FewShotGeneration

/// An extraction task (prompts/mit-g.yaml) through the same path as `fewshot gen`: no labels, every
/// shot reads the whole data set, the ledger plans T_text + T_answer per shot without a label, the
/// shots compose sequentially, and the stored set and the JSONL carry the answers.
@Suite struct ExtractionGenerationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    static func dataFile() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-extraction-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let genres = ["comedy", "horror", "western", "drama"]
        let rows = (0..<200).map { i in
            "{\"text\": \"a \(genres[i % 4]) film number \(i)\", \"answer\": \"\(genres[i % 4])\"}"
        }
        let file = directory.appendingPathComponent("movies.jsonl")
        try (rows.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Sentences are " a funny film" and then a newline; answers " comedy" or " horror", then a newline.
    /// Phase 2's continuation starts with the released sentence and the answer header as one text.
    static func model() -> FakeLanguageModel {
        let vocabulary = [" a", " funny", " film", "\n", " comedy", " horror"]
        return FakeLanguageModel(vocabulary: vocabulary) { prompt in
            let texts = prompt.continuation.map(\.text)
            if let first = texts.first, first.hasSuffix("\nGenre:") {
                return texts.count == 1 ? [" comedy": 0.8, " horror": 0.2] : ["\n": 1]
            }
            switch prompt.continuation.count {
            case 0: return [" a": 1]
            case 1: return [" funny": 1]
            case 2: return [" film": 1]
            default: return ["\n": 1]
            }
        }
    }

    func prepare(_ spec: GenerationSpec) throws -> PreparedGeneration {
        try PreparedGeneration.prepare(spec, prompts: Self.root.appendingPathComponent("prompts"))
    }

    @Test func extractionRunsThroughTheLedgerWithAnswersAndSequentialCharges() async throws {
        let data = try Self.dataFile()
        let spec = GenerationSpec(
            task: "mit-g", data: data.path, epsilon: .epsilon(4), shots: 2,
            generator: GeneratorOverrides(batches: 5, batchSize: 2, maxTokens: 6, answerMaxTokens: 3, sampling: .partition))
        let prepared = try prepare(spec)
        #expect(prepared.labels == [TaskTemplate.extractionGroup, TaskTemplate.extractionGroup])
        #expect(prepared.delta == 1.0 / 200)
        #expect(prepared.settings.answerMaxTokens == 3)

        let store = try FewShotStore(path: data.deletingLastPathComponent().appendingPathComponent("store.sqlite").path)
        let generation = LedgerGeneration(prepared: prepared, ledger: store)
        #expect(generation.storePlan.demonstrations.map(\.label) == [nil, nil])
        #expect(generation.storePlan.demonstrations.map(\.maxTokens) == [9, 9])
        let start = try generation.begin()
        // The run plans with the data set's released DP count of the one example group, not the exact 200.
        let released = try #require(try store.releasedLabelCounts(dataset: prepared.dataset.fingerprint))
        #expect(start.prepared.settings.labelCounts == released)
        #expect(start.prepared.delta == 1 / Double(try #require(released.counts[TaskTemplate.extractionGroup])))
        let outcome = try await generation.run(start, model: Self.model())

        let demonstrations = outcome.result.demonstrations
        #expect(demonstrations.allSatisfy { $0.text == "a funny film" }, "\(demonstrations)")
        #expect(demonstrations.allSatisfy { ["comedy", "horror"].contains($0.answer ?? "") }, "\(demonstrations)")
        #expect(outcome.result.tokensReleased.allSatisfy { $0 == 6 }, "3 sentence tokens + newline, then answer + newline")
        let stored = try #require(outcome.stored)
        #expect(stored.labels.isEmpty)
        #expect(stored.demonstrations.allSatisfy { $0.label == nil && $0.answer != nil })
        let lines = try outcome.record.jsonLines(outcome.result.demonstrations)
        #expect(lines.count == 3)
        #expect(lines[0].contains("\"T_answer\":3"))
        #expect(lines.dropFirst().allSatisfy { $0.contains("\"answer\"") && !$0.contains("\"label\"") })
        let export = try store.exportJSONL(stored.id)
        #expect(export.contains("\"answer\""))

        // Both shots read all 200 examples, so they compose: the ledger's spending at the run's
        // delta (the label-count release and the two shots) is the calibrated 4 of the whole run,
        // not 4 per shot.
        let run = start.prepared
        let status = try store.budgetStatus(dataset: prepared.dataset.fingerprint, accountant: DefaultAccountant(), delta: run.delta)
        #expect(status.spentEpsilon <= 4.0001 && status.spentEpsilon > 3.9, "spent \(status.spentEpsilon)")
        let oneShot = try DefaultAccountant().epsilon(
            for: run.plan.demonstrationEvent(label: TaskTemplate.extractionGroup, noiseMultiplier: try #require(run.noiseMultiplier)),
            delta: run.delta)
        #expect(oneShot < status.spentEpsilon - 0.5, "one shot alone costs less than two composed")
    }

    @Test func anExtractionTaskHasNoLabels() throws {
        let data = try Self.dataFile()
        #expect {
            try prepare(GenerationSpec(task: "mit-d", data: data.path, epsilon: .epsilon(4), labels: ["x"]))
        } throws: { error in
            (error as? GenerationSpecError)?.field == "labels"
        }
        let prepared = try prepare(GenerationSpec(task: "mit-d", data: data.path, epsilon: .infinite))
        #expect(prepared.labels.count == 4, "the paper's 4 shots by default")
        #expect(prepared.settings.batches == 20 && prepared.settings.batchSize == 4 && prepared.settings.maxTokens == 20)
    }
}
