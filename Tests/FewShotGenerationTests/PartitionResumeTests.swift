import DPAccounting
import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Testing
@testable import FewShotGeneration

/// Amplified partition mode through the ledger (issue 12): a demonstration is one Poisson-subsampled
/// event only if all its tokens come from the same subsample, so a resumed demonstration must draw the
/// subsample its first part drew; and the public prompt is asked alone, before any private prompt.
@Suite struct PartitionResumeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// 60 TREC questions per label, each distinct.
    static func dataFile() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-partition-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let rows = ["DESC", "HUM"].flatMap { label in
            (0..<60).map { "{\"text\": \"What is question \($0) of \(label)?\", \"label_name\": \"\(label)\"}" }
        }
        let file = directory.appendingPathComponent("trec.jsonl")
        try (rows.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    static func spec(_ data: URL) -> GenerationSpec {
        GenerationSpec(
            task: "trec", data: data.path, epsilon: .epsilon(4), labels: ["DESC"],
            generator: GeneratorOverrides(batches: 6, batchSize: 1, maxTokens: 6, vocabulary: .rvp, sampling: .partition))
    }

    static let vocabulary = [" What", " is", " a", " fjord", "?", "\n"]

    static func fake() -> FakeLanguageModel {
        FakeLanguageModel(vocabulary: vocabulary, delay: .milliseconds(2)) { prompt in
            // Never ends early, so every run goes to T tokens.
            [" What": 0.4, " is": 0.3, " a": 0.2, " fjord": 0.1]
        }
    }

    /// The private prompts' texts (the batches) that `model` was asked, without the public prompt.
    static func privatePrompts(_ model: RecordingModel, publicPrompt: String) -> Set<String> {
        Set(model.requests.map(\.prompt.text).filter { $0 != publicPrompt })
    }

    @Test func aResumedDemonstrationDrawsTheSubsampleOfItsFirstPart() async throws {
        let data = try Self.dataFile()
        let prepared = try PreparedGeneration.prepare(Self.spec(data), prompts: Self.root.appendingPathComponent("prompts"))
        #expect(prepared.settings.amplifiedOncePerDemonstration)
        let publicPrompt = prepared.task.publicGenerationPrompt(label: prepared.task.label(named: "DESC")!)
        let store = try FewShotStore(path: data.deletingLastPathComponent().appendingPathComponent("store.sqlite").path)
        let generation = LedgerGeneration(prepared: prepared, ledger: store)

        // First part: fails in the third step (the first request with two released tokens).
        let first = RecordingModel(Self.fake(), failAtStep: 2)
        let start = try generation.begin()
        let id = try #require(start.reservation?.id)
        await #expect(throws: RecordingModel.Failure.self) { try await generation.run(start, model: first) }
        let firstBatches = Self.privatePrompts(first, publicPrompt: publicPrompt)
        #expect(!firstBatches.isEmpty)

        // Resumed: the same batches (prompt texts), though drawn in another process run.
        let second = RecordingModel(Self.fake())
        let resumed = try LedgerGeneration(prepared: try PreparedGeneration.prepare(Self.spec(data), prompts: Self.root.appendingPathComponent("prompts")), ledger: store)
            .begin(resume: id)
        #expect(resumed.tokensAlreadyReleased == 2)
        let outcome = try await LedgerGeneration(prepared: prepared, ledger: store).run(resumed, model: second)
        #expect(outcome.result.tokensReleased == [6])
        #expect(Self.privatePrompts(second, publicPrompt: publicPrompt) == firstBatches)

        // A new generation draws another subsample (positive control: the check can fail).
        let third = RecordingModel(Self.fake())
        _ = try await generation.run(try generation.begin(), model: third)
        #expect(Self.privatePrompts(third, publicPrompt: publicPrompt) != firstBatches)
    }

    @Test func thePublicPromptIsAskedAloneBeforeThePrivateOnes() async throws {
        let data = try Self.dataFile()
        let prepared = try PreparedGeneration.prepare(Self.spec(data), prompts: Self.root.appendingPathComponent("prompts"))
        let publicPrompt = prepared.task.publicGenerationPrompt(label: prepared.task.label(named: "DESC")!)
        // The fake server has 16 slots, so the 6 batches are pinned to slots 0-5 and the public prompt to
        // slot 6 (an empty Poisson batch's prompt has the public prompt's text, so slots tell them apart).
        let model = RecordingModel(Self.fake(), publicSlot: 6)
        let generation = LedgerGeneration(prepared: prepared, ledger: nil)
        _ = try await generation.run(try generation.begin(), model: model)
        #expect(!model.publicOverlapped, "a public request was in flight together with a private one")
        // Each of the 6 steps starts with the public prompt, then its non-empty batches (at most 6).
        let byStep = Dictionary(grouping: model.requests, by: \.prompt.continuation.count)
        #expect(byStep.keys.sorted() == Array(0..<6))
        for (_, requests) in byStep {
            #expect(requests.first?.slot == 6 && requests.first?.prompt.text == publicPrompt)
            #expect(requests.count >= 2 && requests.count <= 7)
        }
    }

    @Test func anEmptyBatchSendsNoRequestAndCountsAsThePublicPrompt() async throws {
        // q = 6/60 with 6 batches: each batch holds Poisson(1) examples, so some are empty. An empty
        // batch's prompt is the public prompt; its distribution is the public one, asked once.
        let data = try Self.dataFile()
        let prepared = try PreparedGeneration.prepare(Self.spec(data), prompts: Self.root.appendingPathComponent("prompts"))
        let publicPrompt = prepared.task.publicGenerationPrompt(label: prepared.task.label(named: "DESC")!)
        var sawAnEmptyBatch = false
        for _ in 0..<5 {
            let model = RecordingModel(Self.fake(), publicSlot: 6)
            let generation = LedgerGeneration(prepared: prepared, ledger: nil)
            let outcome = try await generation.run(try generation.begin(), model: model)
            #expect(!model.requests.contains { $0.slot != 6 && $0.prompt.text == publicPrompt }, "an empty batch was sent")
            let privateRequests = model.requests.filter { $0.slot != 6 }.count
            #expect(outcome.result.llmCalls == model.requests.count)
            if privateRequests < 6 * 6 { sawAnEmptyBatch = true }
        }
        #expect(sawAnEmptyBatch, "5 subsamples of 6 Poisson(1) batches all without an empty batch (chance < 1e-5)")
    }

    @Test func theEventsAreOnePoissonSampledMechanismPerDemonstration() throws {
        let data = try Self.dataFile()
        let prepared = try PreparedGeneration.prepare(Self.spec(data), prompts: Self.root.appendingPathComponent("prompts"))
        let sigma = try #require(prepared.noiseMultipliers["DESC"])
        let demonstration = PrivacyEvent.poissonSampled(
            samplingRate: 6.0 / 60, event: .selfComposed(event: .gaussian(noiseMultiplier: sigma), count: 6))
        // The label's cost composes the label-count release with its demonstration; the ledger's
        // per-demonstration charge is the demonstration alone (the release is charged once per data set).
        let release = PrivacyEvent.gaussian(noiseMultiplier: LabelCountRelease.defaultNoiseMultiplier)
        #expect(prepared.plan.plannedEventsByLabel() == ["DESC": .composed([release, demonstration])])
        #expect(LedgerGeneration(prepared: prepared, ledger: nil).storePlan.demonstrations.map(\.plannedEvent) == [demonstration])
        // Calibrated to the target with the release: epsilon 4 at delta = 1/60, and no looser.
        let epsilon = try DefaultAccountant().epsilon(for: .composed([release, demonstration]), delta: prepared.delta)
        #expect(epsilon <= 4 && epsilon > 3.95, "epsilon \(epsilon)")
        #expect(try DefaultAccountant().epsilon(for: demonstration, delta: prepared.delta) < epsilon)
    }
}

/// Forwards to a fake model, recording requests; optionally fails at the first request of step
/// `failAtStep` (a prompt with that many released tokens), and
/// notes whether a public-prompt request was ever in flight together with another request.
final class RecordingModel: LanguageModel, @unchecked Sendable {
    struct Failure: Error {}
    let base: FakeLanguageModel
    let failAtStep: Int?
    let publicSlot: Int?
    private let lock = NSLock()
    private var recorded: [DistributionRequest] = []
    private var inFlight = 0
    private var publicInFlight = 0
    private var overlapped = false

    init(_ base: FakeLanguageModel, failAtStep: Int? = nil, publicSlot: Int? = nil) {
        self.base = base
        self.failAtStep = failAtStep
        self.publicSlot = publicSlot
    }

    var modelName: String { base.modelName }
    var requests: [DistributionRequest] { lock.withLock { recorded } }
    var publicOverlapped: Bool { lock.withLock { overlapped } }

    func nextTokenDistribution(_ request: DistributionRequest) async throws -> NextTokenDistribution {
        let isPublic = publicSlot != nil && request.slot == publicSlot
        let fail: Bool = lock.withLock {
            if let failAtStep, request.prompt.continuation.count >= failAtStep { return true }
            recorded.append(request)
            if isPublic ? inFlight > 0 : publicInFlight > 0 { overlapped = true }
            inFlight += 1
            if isPublic { publicInFlight += 1 }
            return false
        }
        if fail { throw Failure() }
        defer { lock.withLock { inFlight -= 1; if isPublic { publicInFlight -= 1 } } }
        return try await base.nextTokenDistribution(request)
    }

    func generate(_ request: GenerationRequest) async throws -> String { try await base.generate(request) }
    func vocabularySize() async throws -> Int? { try await base.vocabularySize() }
    func slotCount() async throws -> Int? { try await base.slotCount() }
    func token(id: Int) async throws -> Token { try await base.token(id: id) }
}

/// `fewshot gen --dry-run --json`: the plan as one JSON object, from the prepared generation alone.
@Suite struct PlanReportTests {
    /// `--sigma 1e-200` adds no noise a Double can hold. Where the plan takes every example (q = 1,
    /// so the steps are unsampled Gaussians) the accountant used to price it at epsilon 0.
    @Test func aSigmaTooSmallToBeNoiseIsPlannedAsUnbounded() throws {
        let data = try PartitionResumeTests.dataFile()
        let spec = GenerationSpec(task: "trec", data: data.path, epsilon: .epsilon(4), sigma: 1e-200, labels: ["DESC", "HUM"])
        let prepared = try PreparedGeneration.prepare(spec, prompts: PartitionResumeTests.root.appendingPathComponent("prompts"))
        let report = PlanReport(prepared)
        #expect(report.labels["DESC"]?.q == 1)
        #expect(report.epsilon == .infinity)
    }

    @Test func theDryRunObjectHasTheIssuesFields() throws {
        let data = try PartitionResumeTests.dataFile()
        let spec = GenerationSpec(task: "trec", data: data.path, epsilon: .epsilon(4), labels: ["DESC", "HUM"])
        let prepared = try PreparedGeneration.prepare(spec, prompts: PartitionResumeTests.root.appendingPathComponent("prompts"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(PlanReport(prepared).json().utf8)) as? [String: Any])
        #expect(object["type"] as? String == "plan")
        #expect((object["epsilon"] as? Double).map { $0 <= 4 && $0 > 3.9 } == true)
        #expect(object["delta"] as? Double == 1.0 / 60)
        #expect(object["demonstrations"] as? Int == 2)
        #expect(object["mechanism"] as? String == "gaussian" && object["sampling"] as? String == "partition/poisson")
        #expect((object["events"] as? [String: Any])?.keys.sorted() == ["DESC", "HUM"])
        let labels = try #require(object["labels"] as? [String: [String: Any]])
        let desc = try #require(labels["DESC"])
        // The automatic plan takes every example of these small labels: M = |D_y| = 60, N = 1, q = 1.
        #expect(desc["m"] as? Int == 60 && desc["n"] as? Int == 1 && desc["q"] as? Double == 1)
        let sigma = try #require(desc["sigma"] as? Double)
        #expect(abs((desc["noise_std"] as? Double ?? 0) - sigma * 2.0.squareRoot() / 60) < 1e-12)
        #expect((desc["estimated_llm_tokens"] as? Int).map { $0 > 0 } == true)
        #expect(desc["estimated_minutes"] is Double)
        #expect((object["plan"] as? String)?.hasPrefix("auto plan: M = 60") == true)
        let server = try #require(object["server"] as? [String: Any])
        // 61 prompts, and room for M to grow by three standard deviations of the count release's
        // noise when gen plans again with the released counts (this plan is on a preview).
        #expect(server["parallel"] as? Int == 91)
        #expect((server["command"] as? String)?.hasPrefix("fewshot llm start --parallel 91 --ctx-size ") == true)
        #expect((object["label_counts"] as? [String: Any])?["source"] as? String == "exact (preview)")
        #expect((object["label_counts"] as? [String: Any])?["counts"] == nil, "a preview does not show the exact counts")
    }

    @Test func aLabelWithOneExampleNamesTheLabelTheFileAndTheFix() throws {
        let data = try PartitionResumeTests.dataFile()
        try (String(contentsOf: data, encoding: .utf8) + "{\"text\": \"Who is it?\", \"label_name\": \"NUM\"}\n").write(to: data, atomically: true, encoding: .utf8)
        let spec = GenerationSpec(task: "trec", data: data.path, epsilon: .epsilon(4), labels: ["DESC", "NUM"])
        #expect { try PreparedGeneration.prepare(spec, prompts: PartitionResumeTests.root.appendingPathComponent("prompts")) } throws: { error in
            let text = "\(error)"
            // The job API's words ("pass delta"); a front end can name the settings its own way.
            let named = (error as? GenerationSpecError)?.problem(naming: { "<\($0.rawValue)>" }) ?? ""
            return (error as? GenerationSpecError)?.field == "delta" && text.contains("label 'NUM'") && text.contains(data.path) && text.contains("pass delta")
                && named.hasPrefix(data.path) && named.contains("pass <delta> (e.g. 1e-5), or leave the label out with <labels>")
        }
    }

    @Test func theServerCheckRefusesTooFewSlotsBeforeAnythingIsReserved() async throws {
        let data = try PartitionResumeTests.dataFile()
        let spec = GenerationSpec(task: "trec", data: data.path, epsilon: .epsilon(4), labels: ["DESC"])
        let prepared = try PreparedGeneration.prepare(spec, prompts: PartitionResumeTests.root.appendingPathComponent("prompts"))
        let small = FakeLanguageModel(vocabulary: PartitionResumeTests.vocabulary, slots: 16) { _ in [" What": 1] }
        await #expect { try await ServerCapacity.check(prepared, report: PlanReport(prepared), model: small) } throws: { error in
            "\(error)".contains("16 slots") && "\(error)".contains("fewshot llm start --parallel 91")
        }
        let enough = FakeLanguageModel(vocabulary: PartitionResumeTests.vocabulary, slots: 61) { _ in [" What": 1] }
        try await ServerCapacity.check(prepared, report: PlanReport(prepared), model: enough)
    }
}
