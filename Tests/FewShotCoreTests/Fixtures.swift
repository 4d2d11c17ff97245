import FewShotCore
import FewShotTestSupport

/// A two-label task whose prompts are easy to read in assertions.
let toyTask = TaskTemplate(
    name: "toy",
    labels: [TaskLabel(name: "pos", word: "Positive"), TaskLabel(name: "neg", word: "Negative")],
    generation: PromptFormat(instruction: "Write a review.\n\n", example: "Label: {label}\nText: {text}\n\n"),
    classification: PromptFormat(instruction: "Classify.\n\n", example: "Text: {text}\nLabel: {label}\n\n"),
    endMarkers: ["<END>"]
)

func examples(_ label: String, _ count: Int, prefix: String = "secret") -> [LabeledExample] {
    (0..<count).map { LabeledExample(text: "\(prefix)-\(label)-\($0)", label: label) }
}

func settings(
    batches: Int = 4, batchSize: Int = 2, maxTokens: Int = 5, sampling: SamplingMode = .subsample,
    vocabulary: VocabularyMode = .rvp, privacy: PrivacyLevel = .noNoise, labels: [String] = ["pos", "neg"],
    mechanism: NoiseMechanism = .gaussian, topK: Int = 10
) -> GenerationSettings {
    GenerationSettings(
        batches: batches, batchSize: batchSize, maxTokens: maxTokens, mechanism: mechanism, vocabulary: vocabulary,
        topK: topK, sampling: sampling, privacy: privacy, labels: labels)
}
