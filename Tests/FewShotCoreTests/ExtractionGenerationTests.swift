import DPAccounting
import Foundation
import Testing
import FewShotCore
import FewShotTestSupport

@Suite struct ExtractionGenerationTests {
    let data = sentences(40)

    @Test func sentenceStopsAtNewlineThenTheAnswerFollowsTheHeader() async throws {
        let model = movieModel()
        let generator = DemonstrationGenerator(model: model, task: movieTask, settings: extractionSettings(shots: 2), noise: .seeded(1))
        let result = try await generator.generate(privateData: data)
        #expect(result.demonstrations == Array(repeating: Demonstration(label: "", text: "scary scary scary", answer: "horror"), count: 2))
        // 3 words + newline, then 1 word + newline.
        #expect(result.tokensReleased == [6, 6])
        // Per step the public prompt and the non-empty batches (at most M = 4).
        #expect(result.llmCalls == model.requests.count && result.llmCalls <= 2 * 6 * (4 + 1))
        let answerRequests = model.requests.filter { isAnswerPhase($0.prompt) }
        #expect(answerRequests.count >= 2 * 2 * 2 && answerRequests.count <= 2 * 2 * 5)
        // Phase 2 continues the same kind of prompt with the released sentence and the header.
        #expect(answerRequests.allSatisfy { $0.prompt.continuation[0].text == " scary scary scary\nGenre:" })
        #expect(answerRequests.allSatisfy { $0.prompt.text.hasSuffix("Sentence:") })
    }

    @Test func privatePromptsHoldWholeExamplesAndThePublicPromptNone() async throws {
        let model = movieModel()
        _ = try await DemonstrationGenerator(model: model, task: movieTask, settings: extractionSettings(), noise: .seeded(2)).generate(privateData: data)
        let privatePrompts = model.requests.map(\.prompt.text).filter { $0.contains("secret") }
        #expect(!privatePrompts.isEmpty)
        #expect(privatePrompts.allSatisfy { $0.hasPrefix("Write about films.\n\nSentence: secret-sentence-") })
        #expect(privatePrompts.allSatisfy { $0.contains("\nGenre: secret-answer-") })
        #expect(model.requests.map(\.prompt.text).contains("Write about films.\n\nSentence:"))
        #expect(movieTask.extractionGenerationPrompt(examples: [LabeledExample(text: "s {answer}", answer: "a {text}")])
            == "Write about films.\n\nSentence: s {answer}\nGenre: a {text}\n\nSentence:")
    }

    @Test func tokenLimitsStopEachPhase() async throws {
        let model = movieModel(stops: false)
        let generator = DemonstrationGenerator(
            model: model, task: movieTask, settings: extractionSettings(maxTokens: 5, answerMaxTokens: 3), noise: .seeded(1))
        let result = try await generator.generate(privateData: data)
        #expect(result.demonstrations == [Demonstration(label: "", text: "scary scary scary scary scary", answer: "horror horror horror")])
        #expect(result.tokensReleased == [8])
        #expect(model.requests.filter { isAnswerPhase($0.prompt) }.map(\.prompt.continuation.count).max() == 3)
        #expect(model.requests.filter { !isAnswerPhase($0.prompt) }.map(\.prompt.continuation.count).max() == 4)
    }

    @Test func partitionModeKeepsTheSameBatchesAcrossBothPhases() async throws {
        let model = movieModel()
        let generator = DemonstrationGenerator(model: model, task: movieTask, settings: extractionSettings(sampling: .partition), noise: .seeded(3))
        _ = try await generator.generate(privateData: data)
        let used = (0..<4).filter { slot in model.requests.contains { $0.slot == slot } }
        #expect(!used.isEmpty)
        for slot in used {
            let prompts = Set(model.requests.filter { $0.slot == slot }.map(\.prompt.text))
            #expect(prompts.count == 1, "slot \(slot) saw \(prompts.count) different batches")
        }
    }

    @Test func publicOnlyReadsNoPrivateExample() async throws {
        let model = movieModel()
        let generator = DemonstrationGenerator(model: model, task: movieTask, settings: extractionSettings(privacy: .publicOnly), noise: .secure())
        let result = try await generator.generate(privateData: data)
        #expect(result.demonstrations == [Demonstration(label: "", text: "film film film", answer: "comedy")])
        #expect(model.requests.allSatisfy { !$0.prompt.text.contains("secret") })
    }

    @Test func resumeContinuesInThePhaseTheCheckpointIsIn() async throws {
        let film = Token(id: 2, text: " film"), newline = Token(id: 3, text: "\n")
        let comedy = Token(id: 5, text: " comedy")
        let cases: [(tokens: [Token], text: String, answer: String, counts: [Int])] = [
            // Mid-sentence: continues the sentence.
            ([film], "film scary scary", "horror", [2, 3, 4, 5, 6]),
            // Sentence done, no answer token yet: the next step is already in phase 2.
            ([film, film, film, newline], "film film film", "horror", [5, 6]),
            // Sentence done (at T_text, no newline) and part of the answer.
            ([film, film, film, film, film, comedy], "film film film film film", "comedy", [7]),
        ]
        for c in cases {
            let model = movieModel()
            let log = CheckpointLog()
            let generator = DemonstrationGenerator(model: model, task: movieTask, settings: extractionSettings(), noise: .seeded(1))
            let resumed = TokenCheckpoint(demonstration: 0, label: "", tokens: c.tokens, finished: false)
            let result = try await generator.generate(privateData: data, resume: [0: resumed], onToken: { await log.add($0) })
            #expect(result.demonstrations == [Demonstration(label: "", text: c.text, answer: c.answer)])
            #expect(await log.all.map(\.tokens.count) == c.counts)
            #expect(await log.all.last?.finished == true)
            #expect(await log.all.allSatisfy { Array($0.tokens.prefix(c.tokens.count)) == c.tokens })
        }
    }

    @Test func theSentenceBoundaryIsFoundFromTheReleasedTokensAlone() {
        let generator = DemonstrationGenerator(model: movieModel(), task: movieTask, settings: extractionSettings(maxTokens: 5), noise: .seeded(1))
        let a = Token(text: " a"), newline = Token(text: "\n"), end = Token(text: "<END>")
        #expect(generator.sentenceTokenCount([]) == nil)
        #expect(generator.sentenceTokenCount([a, a]) == nil)
        #expect(generator.sentenceTokenCount([a, newline, a]) == 2)
        #expect(generator.sentenceTokenCount([a, end, a, a]) == 2)
        #expect(generator.sentenceTokenCount([a, a, a, a, a, a, newline]) == 5)
    }

    @Test func tooLittleDataIsRefusedBeforeAnyRequest() async throws {
        let model = movieModel()
        var exact = extractionSettings()
        exact.subsampleScheme = .withoutReplacement  // a Poisson sample would run on any non-empty data set
        let generator = DemonstrationGenerator(model: model, task: movieTask, settings: exact, noise: .secure())
        let refusal = GenerationError.tooFewExamples(label: "", available: 7, needed: 8)
        await #expect(throws: refusal) { try await generator.generate(privateData: sentences(7)) }
        #expect(refusal.description.hasPrefix("the data set has 7 private examples, but one step needs M*N = 8"))
        #expect(model.requests.isEmpty)
    }

    @Test func settingsMustMatchTheTaskKind() async throws {
        let model = movieModel()
        let noAnswerLength = DemonstrationGenerator(model: model, task: movieTask, settings: extractionSettings(answerMaxTokens: nil), noise: .secure())
        await #expect(throws: GenerationError.self) { try await noAnswerLength.generate(privateData: data) }
        var labelled = extractionSettings()
        labelled.labels = ["pos"]
        let withLabel = DemonstrationGenerator(model: model, task: movieTask, settings: labelled, noise: .secure())
        await #expect(throws: GenerationError.self) { try await withLabel.generate(privateData: data + examples("pos", 10)) }
        var classification = settings(labels: ["pos"])
        classification.answerMaxTokens = 3
        let answerOnClassification = DemonstrationGenerator(model: votingModel(), task: toyTask, settings: classification, noise: .secure())
        await #expect(throws: GenerationError.self) { try await answerOnClassification.generate(privateData: examples("pos", 20)) }
        #expect(model.requests.isEmpty)
        let zeroAnswer = DemonstrationGenerator(model: model, task: movieTask, settings: extractionSettings(answerMaxTokens: 0), noise: .secure())
        await #expect(throws: GenerationError.belowOne(.answerMaxTokens, symbol: "T_answer", got: 0)) {
            try await zeroAnswer.generate(privateData: data)
        }
    }

    @Test func eventsChargeEveryShotItsSentenceAndAnswerTokensSequentially() async throws {
        let s = extractionSettings(shots: 3, privacy: .noisy(noiseMultiplierByLabel: ["": 0.7]))
        let result = try await DemonstrationGenerator(model: movieModel(), task: movieTask, settings: s, noise: .seeded(9)).generate(privateData: data)
        let token = PrivacyEvent.poissonSampled(samplingRate: 8.0 / 40.0, event: .gaussian(noiseMultiplier: 0.7))
        #expect(result.eventsByLabel == ["": .selfComposed(event: token, count: 3 * (5 + 3))])
        #expect(result.demonstrations.allSatisfy { !$0.text.contains("secret") && !($0.answer ?? "").contains("secret") })
    }
}
