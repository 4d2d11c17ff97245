import FewShotCore
import FewShotTestSupport
import Foundation
import Testing
@testable import FewShotEval

@Suite struct EvaluationTests {
    func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-eval-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func evalTask(_ model: ToyModel, generator: (any DemonstrationSource)? = nil) -> EvalTask {
        EvalTask(template: Toy.task, test: Toy.test, demonstrations: TaskDemonstrationSource(task: Toy.task, train: Toy.train, model: model, generator: generator))
    }

    @Test func accuracyRawAndCalibratedMatchHandCount() async throws {
        let model = Toy.model()
        let settings = EvalSettings(conditions: [.zeroShot], seeds: [0])
        let report = try await Evaluation(model: model, settings: settings, outputDirectory: temporaryDirectory(), progress: { _ in })
            .run([evalTask(model)])
        let cell = try #require(report.cells.first)
        #expect(report.cells.count == 1)
        #expect(cell.testExamples == 4)
        #expect(cell.correct == 2 && cell.accuracy == 0.5)
        #expect(cell.correctCalibrated == 3 && cell.calibratedAccuracy == 0.75)
        #expect(cell.contentFreeProbabilities == [0.75, 0.25])
    }

    @Test func deterministicConditionsRunOnceSeededOnesPerSeed() async throws {
        let model = Toy.model()
        let settings = EvalSettings(conditions: [.zeroShot, .publicOnly, .realExamples], seeds: [7, 8, 9])
        let report = try await Evaluation(model: model, settings: settings, outputDirectory: temporaryDirectory(), progress: { _ in })
            .run([evalTask(model)])
        #expect(report.cells(task: "toy", condition: .zeroShot).map(\.seed) == [7])
        #expect(report.cells(task: "toy", condition: .publicOnly).map(\.seed) == [7])
        #expect(report.cells(task: "toy", condition: .realExamples).map(\.seed) == [7, 8, 9])
    }

    @Test func publicDemonstrationsComeGreedilyFromThePublicPrompt() async throws {
        let model = Toy.model()
        let source = TaskDemonstrationSource(task: Toy.task, train: Toy.train, model: model)
        let result = try await source.demonstrations(for: .publicOnly, seed: 0)
        #expect(result.demonstrations == [Demonstration(label: "World", text: "Big news"), Demonstration(label: "Sports", text: "Late goal")])
        #expect(!result.containsPrivateText)
        let prompts = model.generations.map(\.prompt.text)
        #expect(prompts == Toy.task.labels.map { Toy.task.publicGenerationPrompt(label: $0) })
        #expect(prompts.allSatisfy { !$0.contains("train ") })
    }

    @Test func realDemonstrationsFollowTheSeedAndAreNeverStored() async throws {
        let model = Toy.model()
        let source = TaskDemonstrationSource(task: Toy.task, train: Toy.train, model: model)
        let a = try await source.demonstrations(for: .realExamples, seed: 1)
        let b = try await source.demonstrations(for: .realExamples, seed: 1)
        #expect(a.demonstrations == b.demonstrations)
        #expect(a.containsPrivateText)
        #expect(a.demonstrations.map(\.label) == ["World", "Sports"])
        var differs = false
        for seed in 2..<12 where try await source.demonstrations(for: .realExamples, seed: UInt64(seed)).demonstrations != a.demonstrations { differs = true }
        #expect(differs)

        let directory = temporaryDirectory()
        let settings = EvalSettings(conditions: [.realExamples], seeds: [1])
        let report = try await Evaluation(model: model, settings: settings, outputDirectory: directory, progress: { _ in })
            .run([evalTask(model)])
        #expect(report.cells.first?.demonstrations == nil)
        try report.write(to: directory)
        for file in try FileManager.default.subpathsOfDirectory(atPath: directory.path) {
            let url = directory.appendingPathComponent(file)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            #expect(!text.contains("train "), "private text in \(file)")
        }
    }

    @Test func dpConditionsWithoutAGeneratorFailClearly() async throws {
        let model = Toy.model()
        let settings = EvalSettings(conditions: [.privateGenerated(epsilon: 4)], seeds: [0])
        await #expect(throws: EvalError.conditionNeedsGenerator(.privateGenerated(epsilon: 4))) {
            _ = try await Evaluation(model: model, settings: settings, outputDirectory: temporaryDirectory(), progress: { _ in })
                .run([evalTask(model)])
        }
    }

    @Test func dpConditionsUseTheGivenGenerator() async throws {
        struct Scripted: DemonstrationSource {
            func demonstrations(for condition: EvalCondition, seed: UInt64) async throws -> EvalDemonstrations {
                EvalDemonstrations(demonstrations: [Demonstration(label: "World", text: "dp \(condition.id) \(seed)")])
            }
        }
        let model = Toy.model()
        let settings = EvalSettings(conditions: [.privateGenerated(epsilon: 2), .nonPrivateGenerated], seeds: [0, 1])
        let report = try await Evaluation(model: model, settings: settings, outputDirectory: temporaryDirectory(), progress: { _ in })
            .run([evalTask(model, generator: Scripted())])
        #expect(report.cells.map { $0.demonstrations?.first?.text } == ["dp eps-2 0", "dp eps-2 1", "dp eps-inf 0", "dp eps-inf 1"])
        #expect(report.cells.map(\.epsilon) == ["2", "2", "inf", "inf"])
    }

    @Test func secondRunLoadsCachedCellsWithoutModelCalls() async throws {
        let directory = temporaryDirectory()
        let settings = EvalSettings(conditions: [.zeroShot, .publicOnly, .realExamples], seeds: [0, 1])
        let first = Toy.model()
        let firstReport = try await Evaluation(model: first, settings: settings, outputDirectory: directory, progress: { _ in })
            .run([evalTask(first)])
        #expect(first.totalCalls > 0)

        let second = Toy.model()
        let secondReport = try await Evaluation(model: second, settings: settings, outputDirectory: directory, progress: { _ in })
            .run([evalTask(second)])
        #expect(second.totalCalls == 0)
        #expect(secondReport == firstReport)

        // An interrupted run: one cell missing is recomputed, and only it.
        try FileManager.default.removeItem(at: ResultCache(directory: directory).url(task: "toy", condition: .realExamples, seed: 1))
        let third = Toy.model()
        let lines = LineLog()
        let thirdReport = try await Evaluation(model: third, settings: settings, outputDirectory: directory, progress: { lines.append($0) })
            .run([evalTask(third)])
        #expect(third.requests.count == 2 + 3 + Toy.test.count)  // label probes, content-free, test
        #expect(third.generations.isEmpty)
        #expect(thirdReport.cells.map(\.correct) == firstReport.cells.map(\.correct))
        #expect(lines.all.filter { $0.contains("cached (") }.count == 3)

        // Different settings do not reuse the cache.
        let fourth = Toy.model()
        var changed = settings
        changed.topK = 50
        _ = try await Evaluation(model: fourth, settings: changed, outputDirectory: directory, progress: { _ in }).run([evalTask(fourth)])
        #expect(fourth.totalCalls > 0)
    }

    @Test func testSubsetIsFixedBySeed() {
        let a = TestSubset(size: 100, count: 10, seed: 3)
        let b = TestSubset(size: 100, count: 10, seed: 3)
        let c = TestSubset(size: 100, count: 10, seed: 4)
        #expect(a.indices == b.indices)
        #expect(a.indices != c.indices)
        #expect(a.indices.count == 10 && Set(a.indices).count == 10)
        #expect(a.indices == a.indices.sorted() && a.indices.allSatisfy { (0..<100).contains($0) })
        #expect(TestSubset(size: 5, count: 10, seed: 3).indices == [0, 1, 2, 3, 4])
        #expect(TestSubset(size: 5, count: nil, seed: 3).indices == [0, 1, 2, 3, 4])
    }

    @Test func unknownTestLabelIsRejected() async throws {
        let model = Toy.model()
        let task = EvalTask(template: Toy.task, test: [LabeledExample(text: "x", label: "Politics")],
                            demonstrations: TaskDemonstrationSource(task: Toy.task, train: Toy.train, model: model))
        await #expect(throws: EvalError.self) {
            _ = try await Evaluation(model: model, settings: EvalSettings(conditions: [.zeroShot], seeds: [0]), outputDirectory: temporaryDirectory(), progress: { _ in }).run([task])
        }
    }
}

/// Collects progress lines from concurrent callers.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
