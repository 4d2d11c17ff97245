import DPAccounting
import Foundation
import Testing
import FewShotCore
import FewShotTestSupport

/// A fake whose private prompts vote for the word after "secret-<label>-" in their examples' text
/// count, and whose public prompt prefers "public".
func votingModel(delay: Duration = .zero, slots: Int? = 16) -> FakeLanguageModel {
    FakeLanguageModel(vocabulary: [" good", " bad", " public", "\n", "<END>", "\u{e9}"], delay: delay, slots: slots) { prompt in
        let text = prompt.text
        let generated = prompt.continuation.count
        if generated >= 3 { return ["\n": 1] }
        if text.contains("secret-pos") { return [" good": 0.8, " bad": 0.1, " public": 0.1] }
        if text.contains("secret-neg") { return [" bad": 0.8, " good": 0.1, " public": 0.1] }
        return [" public": 0.5, " good": 0.25, " bad": 0.25]
    }
}

@Suite struct DemonstrationGeneratorTests {
    let data = examples("pos", 20) + examples("neg", 20)

    @Test func withoutNoiseThePrivateMajorityWinsAndNewlineStops() async throws {
        let model = votingModel()
        let generator = DemonstrationGenerator(model: model, task: toyTask, settings: settings(maxTokens: 10), noise: .seeded(1))
        let result = try await generator.generate(privateData: data)
        #expect(result.demonstrations == [Demonstration(label: "pos", text: "good good good"), Demonstration(label: "neg", text: "bad bad bad")])
        #expect(result.tokensReleased == [4, 4])
        // Per step: 1 public (RVP) + the non-empty private batches (an empty batch's prompt is the
        // public one, whose distribution is reused).
        #expect(result.llmCalls == model.requests.count)
        #expect(model.requests.filter { !$0.prompt.text.contains("secret") }.count == 2 * 4)
        #expect(model.requests.filter { $0.prompt.text.contains("secret") }.count <= 2 * 4 * 4)
    }

    @Test func publicOnlyNeverReadsPrivateData() async throws {
        let model = votingModel()
        let generator = DemonstrationGenerator(model: model, task: toyTask, settings: settings(privacy: .publicOnly), noise: .secure())
        let result = try await generator.generate(privateData: data)
        #expect(result.demonstrations.map(\.text) == ["public public public", "public public public"])
        #expect(model.requests.allSatisfy { !$0.prompt.text.contains("secret") })
        #expect(result.eventsByLabel.values.allSatisfy { $0 == .noOp })
    }

    @Test func maxTokensAndEndMarkerStop() async throws {
        let model = FakeLanguageModel(vocabulary: [" x", "<END>"]) { prompt in
            prompt.continuation.count == 2 ? ["<END>": 1] : [" x": 1]
        }
        let short = DemonstrationGenerator(model: model, task: toyTask, settings: settings(maxTokens: 1, labels: ["pos"]), noise: .seeded(1))
        #expect(try await short.generate(privateData: data).demonstrations.map(\.text) == ["x"])
        let marked = DemonstrationGenerator(model: model, task: toyTask, settings: settings(maxTokens: 9, labels: ["pos"]), noise: .seeded(1))
        let result = try await marked.generate(privateData: data)
        #expect(result.demonstrations.map(\.text) == ["x x"])
        #expect(result.tokensReleased == [3])
    }

    @Test func multiByteCharactersSplitAcrossTokensComeOutWhole() async throws {
        // "é" is C3 A9; each byte is its own token, as byte-level BPE vocabularies allow.
        let c3 = Token(id: 10, bytes: [0xC3]), a9 = Token(id: 11, bytes: [0xA9]), nl = Token(id: 12, text: "\n")
        struct ByteModel: LanguageModel {
            let steps: [Token]
            var modelName: String { "bytes" }
            func nextTokenDistribution(_ r: DistributionRequest) async throws -> NextTokenDistribution {
                NextTokenDistribution(top: [TokenLogprob(token: steps[min(r.prompt.continuation.count, steps.count - 1)], logprob: 0)])
            }
            func generate(_ r: GenerationRequest) async throws -> String { "" }
        }
        let generator = DemonstrationGenerator(model: ByteModel(steps: [c3, a9, nl]), task: toyTask, settings: settings(labels: ["pos"]), noise: .seeded(1))
        #expect(try await generator.generate(privateData: data).demonstrations.map(\.text) == ["\u{e9}"])
    }

    @Test func tooLittleDataIsRefusedBeforeAnyRequest() async throws {
        // Without replacement a step needs M*N examples.
        let model = votingModel()
        var exact = settings(batches: 10, batchSize: 3)
        exact.subsampleScheme = .withoutReplacement
        let generator = DemonstrationGenerator(model: model, task: toyTask, settings: exact, noise: .secure())
        await #expect(throws: GenerationError.tooFewExamples(label: "pos", available: 20, needed: 30)) {
            try await generator.generate(privateData: data)
        }
        #expect(model.requests.isEmpty)
    }

    @Test func aPoissonSampleNeedsOnlyANonEmptyLabel() async throws {
        // q comes from the released DP count, which may exceed the exact one, so M*N > |D_y| runs
        // (at q = 1 when the released count says so); a label without examples is refused.
        let model = votingModel()
        let generator = DemonstrationGenerator(model: model, task: toyTask, settings: settings(batches: 10, batchSize: 3), noise: .seeded(1))
        _ = try await generator.generate(privateData: data)
        #expect(!model.requests.isEmpty)
        let empty = votingModel()
        let refused = DemonstrationGenerator(model: empty, task: toyTask, settings: settings(batches: 10, batchSize: 3), noise: .secure())
        await #expect(throws: GenerationError.tooFewExamples(label: "neg", available: 0, needed: 1)) {
            try await refused.generate(privateData: data.filter { $0.label == "pos" })
        }
        #expect(empty.requests.isEmpty)
    }

    @Test func partitionModeKeepsBatchesAndSlotsForTheWholeDemonstration() async throws {
        let model = votingModel()
        let generator = DemonstrationGenerator(
            model: model, task: toyTask, settings: settings(sampling: .partition, labels: ["pos"]), noise: .seeded(4))
        _ = try await generator.generate(privateData: data)
        let privateRequests = model.requests.filter { $0.slot != nil && $0.slot! < 4 }
        #expect(model.requests.allSatisfy { $0.cachePrompt && $0.slot != nil })
        // A slot whose batch is empty gets no request (the public prompt's distribution stands in).
        let used = (0..<4).filter { slot in privateRequests.contains { $0.slot == slot } }
        #expect(!used.isEmpty)
        for slot in used {
            let prompts = Set(privateRequests.filter { $0.slot == slot }.map(\.prompt.text))
            #expect(prompts.count == 1, "slot \(slot) saw \(prompts.count) different batches")
            // Each step only adds the released token to the continuation.
            #expect(privateRequests.filter { $0.slot == slot }.map(\.prompt.continuation.count) == [0, 1, 2, 3])
        }
    }

    @Test func partitionModeDoesNotPinSlotsTheServerDoesNotHave() async throws {
        let model = votingModel(slots: 4)  // M = 4 batches + the public prompt need 5 slots
        let generator = DemonstrationGenerator(
            model: model, task: toyTask, settings: settings(sampling: .partition, labels: ["pos"]), noise: .seeded(4))
        _ = try await generator.generate(privateData: data)
        #expect(model.requests.allSatisfy { $0.cachePrompt && $0.slot == nil })
    }

    @Test func subsampleModeDrawsFreshBatchesAndSendsThemConcurrently() async throws {
        let model = votingModel(delay: .milliseconds(20))
        let generator = DemonstrationGenerator(model: model, task: toyTask, settings: settings(batches: 6, batchSize: 1, labels: ["pos"]), noise: .seeded(5))
        _ = try await generator.generate(privateData: data)
        // The non-empty private batches at once (at most M); the public prompt is asked alone before them.
        #expect(model.peakConcurrency > 1 && model.peakConcurrency <= 6)
        let batchPrompts = Set(model.requests.filter { $0.prompt.text.contains("secret") }.map(\.prompt.text))
        #expect(batchPrompts.count > 6)
        #expect(model.requests.allSatisfy { !$0.cachePrompt && $0.slot == nil })
    }

    @Test func fullVocabularyAlsoNoisesTokensNoPromptListed() async throws {
        // Aggregate is 1 on " good" and 0 on the 5 other tokens; with huge noise every token is about
        // equally likely, so tokens outside the union must come out too.
        let model = votingModel()
        let s = settings(maxTokens: 1, vocabulary: .full, privacy: .noisy(noiseMultiplierByLabel: ["pos": 1000]), labels: ["pos"])
        var seen = Set<String>()
        for seed in 0..<200 {
            let generator = DemonstrationGenerator(model: model, task: toyTask, settings: s, noise: .seeded(UInt64(seed)))
            seen.insert(try await generator.generate(privateData: data).demonstrations[0].text)
        }
        #expect(seen.contains("<END>") || seen.contains("\u{e9}"), "seen \(seen)")
    }

    @Test func eventsChargeTheFullPlannedTokensPerLabel() async throws {
        let model = votingModel()
        let s = settings(maxTokens: 8, privacy: .noisy(noiseMultiplierByLabel: ["pos": 0.5, "neg": 0.6]), labels: ["pos", "neg", "pos"])
        let result = try await DemonstrationGenerator(model: model, task: toyTask, settings: s, noise: .seeded(9)).generate(privateData: data)
        let q = 8.0 / 20.0
        #expect(result.eventsByLabel["pos"] == .selfComposed(event: .poissonSampled(samplingRate: q, event: .gaussian(noiseMultiplier: 0.5)), count: 16))
        #expect(result.eventsByLabel["neg"] == .selfComposed(event: .poissonSampled(samplingRate: q, event: .gaussian(noiseMultiplier: 0.6)), count: 8))
    }

    @Test func seededRunsAreReproducibleAndResultsHoldNoPrivateText() async throws {
        let s = settings(maxTokens: 6, privacy: .noisy(noiseMultiplierByLabel: ["pos": 0.3, "neg": 0.3]))
        let a = try await DemonstrationGenerator(model: votingModel(), task: toyTask, settings: s, noise: .seeded(42)).generate(privateData: data)
        let b = try await DemonstrationGenerator(model: votingModel(), task: toyTask, settings: s, noise: .seeded(42)).generate(privateData: data)
        #expect(a.demonstrations == b.demonstrations)
        #expect(a.demonstrations.allSatisfy { !$0.text.contains("secret") })
        #expect(!NoiseSource.seeded(42).isPrivate && NoiseSource.secure().isPrivate)
    }

    @Test func resumeContinuesFromTheCheckpointWithoutReleasingAgain() async throws {
        let model = votingModel()
        let checkpoints = CheckpointLog()
        let generator = DemonstrationGenerator(model: model, task: toyTask, settings: settings(maxTokens: 10, labels: ["pos"]), noise: .seeded(1))
        let resumed = TokenCheckpoint(demonstration: 0, label: "pos", tokens: [Token(id: 1, text: " bad"), Token(id: 1, text: " bad")], finished: false)
        let result = try await generator.generate(privateData: data, resume: [0: resumed], onToken: { await checkpoints.add($0) })
        #expect(result.demonstrations.map(\.text) == ["bad bad good"])
        let counts = await checkpoints.all.map { $0.tokens.count }
        #expect(counts == [3, 4])
    }
}

actor CheckpointLog {
    var all: [TokenCheckpoint] = []
    func add(_ c: TokenCheckpoint) { all.append(c) }
}
