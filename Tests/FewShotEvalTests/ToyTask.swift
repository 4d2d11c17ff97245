import FewShotCore
import FewShotTestSupport
import Foundation

/// A two-label task and a fake model whose answers are scripted per query, shared by the tests.
enum Toy {
    static let task = TaskTemplate(
        name: "toy",
        labels: [TaskLabel(name: "World", word: "World"), TaskLabel(name: "Sports", word: "Sports")],
        generation: PromptFormat(instruction: "Write a news line.\n\n", example: "Topic: {label}\nText: {text}\n\n"),
        classification: PromptFormat(instruction: "Classify the news.\n\n", example: "Text: {text}\nAnswer: {label}\n\n"),
        defaults: TaskDefaults(batches: 2, batchSize: 1, maxTokens: 8)
    )

    /// The query of a classification prompt: the text after the last "Text: ", before "\nAnswer:".
    static func query(of prompt: ModelPrompt) -> String? {
        let text = prompt.text
        guard text.hasSuffix("\nAnswer:"), let start = text.range(of: "Text: ", options: .backwards) else { return nil }
        return String(text[start.upperBound...].dropLast("\nAnswer:".count))
    }

    /// Biased towards " World": content-free queries give World 0.75; "goal" queries give World 0.55
    /// (wrong, but calibration fixes it); "election" gives World 0.9; anything else 0.5 / 0.5.
    static let rule: @Sendable (ModelPrompt) -> [String: Double] = { prompt in
        if let query = query(of: prompt) {
            if ["N/A", "", "[MASK]"].contains(query) { return [" World": 0.75, " Sports": 0.25] }
            if query.contains("goal") { return [" World": 0.55, " Sports": 0.45] }
            if query.contains("election") { return [" World": 0.9, " Sports": 0.1] }
            return [" World": 0.5, " Sports": 0.5]
        }
        // Public generation prompts: " Big news" for World, " Late goal" for Sports, then a newline.
        let script: [String: [String]] = ["Topic: World\nText:": [" Big", " news", "\n"], "Topic: Sports\nText:": [" Late", " goal", "\n"]]
        for (header, tokens) in script where prompt.text.hasSuffix(header) {
            let step = prompt.continuation.count
            return step < tokens.count ? [tokens[step]: 0.9, " x": 0.1] : ["\n": 1]
        }
        return ["\n": 1]
    }

    static let vocabulary = [
        " World", " Sports", " Big", " news", " Late", " goal", " x", "\n", " N", "UM", "AME", "O", " X", " W", "orld", " the", ",",
    ]

    static func model() -> ToyModel { ToyModel(FakeLanguageModel(vocabulary: vocabulary, distribution: rule)) }

    static func fake(_ rule: @escaping @Sendable (ModelPrompt) -> [String: Double]) -> FakeLanguageModel {
        FakeLanguageModel(vocabulary: vocabulary, distribution: rule)
    }

    /// Expected: raw 2 of 4 correct (World wins the "goal" ties), calibrated 3 of 4.
    static let test = [
        LabeledExample(text: "a goal", label: "Sports"),
        LabeledExample(text: "election news", label: "World"),
        LabeledExample(text: "another goal", label: "Sports"),
        LabeledExample(text: "weather", label: "World"),
    ]

    static let train = (0..<20).map { LabeledExample(text: "train \($0)", label: $0 % 2 == 0 ? "World" : "Sports") }
}

/// The shared fake, plus a record of generation requests (the fake records distribution requests only).
final class ToyModel: LanguageModel, @unchecked Sendable {
    let fake: FakeLanguageModel
    private let lock = NSLock()
    private var generationRecord: [GenerationRequest] = []

    init(_ fake: FakeLanguageModel) { self.fake = fake }

    var modelName: String { fake.modelName }
    var requests: [DistributionRequest] { fake.requests }
    var generations: [GenerationRequest] { lock.withLock { generationRecord } }
    var totalCalls: Int { requests.count + generations.count }

    func nextTokenDistribution(_ request: DistributionRequest) async throws -> NextTokenDistribution {
        try await fake.nextTokenDistribution(request)
    }

    func generate(_ request: GenerationRequest) async throws -> String {
        lock.withLock { generationRecord.append(request) }
        return try await fake.generate(request)
    }
}
