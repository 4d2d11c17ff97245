import FewShotCore
import FewShotTestSupport

/// An extraction task whose prompts are easy to read in assertions.
let movieTask = TaskTemplate(
    name: "movie", labels: [],
    generation: PromptFormat(instruction: "Write about films.\n\n", example: "Sentence: {text}\nGenre: {answer}\n\n"),
    classification: PromptFormat(instruction: "", example: "Sentence: {text}\nGenre: {answer}\n\n"),
    endMarkers: ["<END>"], defaults: TaskDefaults(batches: 4, batchSize: 2, maxTokens: 5, answerMaxTokens: 3),
    kind: .extraction)

func sentences(_ count: Int) -> [LabeledExample] {
    (0..<count).map { LabeledExample(text: "secret-sentence-\($0)", answer: "secret-answer-\($0)") }
}

func extractionSettings(
    shots: Int = 1, maxTokens: Int = 5, answerMaxTokens: Int? = 3, sampling: SamplingMode = .subsample,
    privacy: PrivacyLevel = .noNoise, batches: Int = 4, batchSize: Int = 2
) -> GenerationSettings {
    GenerationSettings(
        batches: batches, batchSize: batchSize, maxTokens: maxTokens, topK: 10, sampling: sampling, privacy: privacy,
        labels: Array(repeating: TaskTemplate.extractionGroup, count: shots), answerMaxTokens: answerMaxTokens)
}

/// Phase 2 is recognised by the answer header in the continuation.
func isAnswerPhase(_ prompt: ModelPrompt) -> Bool {
    prompt.continuation.first.map { $0.id == nil && $0.text.hasSuffix("\nGenre:") } ?? false
}

/// Private prompts vote " scary" for the sentence (newline after 3 words) and " horror" for the
/// answer (newline after 1 word); the public prompt prefers " film" and " comedy". With `stops` false
/// the model never ends a phase, so only T_text and T_answer stop it.
func movieModel(stops: Bool = true) -> FakeLanguageModel {
    FakeLanguageModel(vocabulary: [" a", " scary", " film", "\n", " horror", " comedy", "<END>"]) { prompt in
        let isPrivate = prompt.text.contains("secret")
        if isAnswerPhase(prompt) {
            if stops && prompt.continuation.count >= 2 { return ["\n": 1] }
            return isPrivate ? [" horror": 0.8, " comedy": 0.2] : [" comedy": 0.6, " horror": 0.4]
        }
        if stops && prompt.continuation.count >= 3 { return ["\n": 1] }
        return isPrivate ? [" scary": 0.8, " film": 0.2] : [" film": 0.6, " scary": 0.4]
    }
}
