import DPAccounting
import FewShotCore
import FewShotSelection
import Foundation
import Testing
@testable import FewShotEval

/// Issue 14: the pool conditions. `pool-knn-E` classifies each test example with the pool's
/// demonstrations most similar to it; `pool-random-E` with one random demonstration per label from
/// the same pool.
@Suite struct PoolConditionTests {
    @Test func idsParseAndSortNextToTheirEpsilon() {
        #expect(EvalCondition(id: "pool-knn-4") == .poolSelected(epsilon: 4))
        #expect(EvalCondition(id: "pool-random-0.5") == .poolRandom(epsilon: 0.5))
        #expect(EvalCondition(id: "pool-knn-0") == nil)
        #expect(EvalCondition.poolSelected(epsilon: 4).id == "pool-knn-4")
        let sorted = [EvalCondition.realExamples, .poolSelected(epsilon: 4), .privateGenerated(epsilon: 8), .poolRandom(epsilon: 4), .privateGenerated(epsilon: 4)].sorted()
        #expect(sorted == [.privateGenerated(epsilon: 4), .poolRandom(epsilon: 4), .poolSelected(epsilon: 4), .privateGenerated(epsilon: 8), .realExamples])
        #expect(EvalCondition.poolSelected(epsilon: 4).readsTrainingData)
    }

    @Test func bothPoolConditionsDrawFromOnePoolOfGGroups() async throws {
        let large = (0..<100).flatMap { _ in Toy.train }  // 1,000 per label
        let source = GeneratedDemonstrationSource(
            task: Toy.task, model: Toy.model(), privateData: large,
            settings: GeneratedDemonstrationSource.defaultSettings(for: Toy.task), reproducibleNoise: true,
            accountant: RDPAccountant(), poolGroups: 3)
        let knn = try await source.demonstrations(for: .poolSelected(epsilon: 4), seed: 1)
        #expect(knn.demonstrations.count == 6, "3 groups x 2 labels")
        #expect(knn.notes["pool"]?.contains("3 disjoint groups") == true)
        let selector = try #require(knn.selector)
        #expect(selector.rule.k == 2 && selector.rule.balanced)
        let random = try await source.demonstrations(for: .poolRandom(epsilon: 4), seed: 1)
        #expect(random.selector == nil)
        #expect(random.demonstrations.map(\.label) == ["World", "Sports"])
        #expect(random.demonstrations.allSatisfy { knn.demonstrations.contains($0) }, "drawn from the same pool")
        // Per example, the selection comes from the pool, one per label.
        let picked = knn.demonstrations(for: "Late goal")
        #expect(picked.count == 2 && Set(picked.map(\.label)) == ["World", "Sports"])
    }

    @Test func selectedDemonstrationsChangeWithTheTestExample() async throws {
        struct PoolSource: DemonstrationSource {
            let pool = [
                Demonstration(label: "World", text: "election results"), Demonstration(label: "World", text: "weather report"),
                Demonstration(label: "Sports", text: "a late goal"), Demonstration(label: "Sports", text: "tennis final"),
            ]
            func demonstrations(for condition: EvalCondition, seed: UInt64) async throws -> EvalDemonstrations {
                EvalDemonstrations(demonstrations: pool, selector: DemonstrationSelector(pool: pool, rule: DemonstrationSelection(k: 2)))
            }
        }
        let model = Toy.model()
        let settings = EvalSettings(conditions: [.poolSelected(epsilon: 4)], seeds: [0])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-pool-\(UUID().uuidString)")
        let report = try await Evaluation(model: model, settings: settings, outputDirectory: directory, progress: { _ in })
            .run([EvalTask(template: Toy.task, test: Toy.test, demonstrations: TaskDemonstrationSource(
                task: Toy.task, train: Toy.train, model: model, shotsPerLabel: 1, publicMaxTokens: 8, generator: PoolSource()))])
        let cell = try #require(report.cells.first)
        #expect(cell.testExamples == 4)
        #expect(cell.classifications == 4 * 4, "each example and its three content-free inputs")
        // "a goal" was asked with the goal demonstration, "election news" with the election one.
        let prompts = model.requests.map(\.prompt.text)
        #expect(prompts.contains { $0.contains("a late goal") && $0.hasSuffix("Text: a goal\nAnswer:") })
        #expect(prompts.contains { $0.contains("election results") && !$0.contains("weather report") && $0.hasSuffix("Text: election news\nAnswer:") })
    }

    @Test func aPoolIsNotGivenTheNoiseCalibratedForOneSet() async throws {
        // Seeded noise draws the same label counts for both cells; the calibration memo must still
        // tell the pool (q with G groups) from the one set.
        let large = (0..<100).flatMap { _ in Toy.train }
        let source = GeneratedDemonstrationSource(
            task: Toy.task, model: Toy.model(), privateData: large,
            settings: GeneratedDemonstrationSource.defaultSettings(for: Toy.task), reproducibleNoise: true,
            accountant: RDPAccountant(), poolGroups: 3)
        let one = try await source.demonstrations(for: .privateGenerated(epsilon: 4), seed: 1)
        let pool = try await source.demonstrations(for: .poolSelected(epsilon: 4), seed: 1)
        #expect(one.notes["label counts"] == pool.notes["label counts"])
        #expect(one.notes["sigma"] != pool.notes["sigma"], "one set \(one.notes["sigma"] ?? "") and pool \(pool.notes["sigma"] ?? "")")
    }
}
