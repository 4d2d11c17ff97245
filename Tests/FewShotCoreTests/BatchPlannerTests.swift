import FewShotCore
import Testing

/// The automatic plan (`--batches auto`): the most batches within the compute limit, per label at
/// most |D_y|/N, from public quantities only.
@Suite struct BatchPlannerTests {
    static let agnews = TaskTemplate(
        name: "agnews",
        labels: ["World", "Sports", "Business", "Sci/Tech"].map { TaskLabel(name: $0, word: $0) },
        generation: PromptFormat(instruction: "Given a label of news type, generate the chosen type of news article.\n\n",
                                     example: "News Type: {label}\nText: {text}\n\n"),
        classification: PromptFormat(instruction: "Classify.\n\n", example: "Article: {text}\nAnswer: {label}\n\n"))

    static func agnewsSettings() -> GenerationSettings {
        GenerationSettings(
            batches: 1, batchSize: 1, maxTokens: 100, sampling: .partition, privacy: .publicOnly,
            labels: ["World", "Sports", "Business", "Sci/Tech"], maxExampleTokens: 80)
    }

    @Test func agnewsGetsHundredsOfBatchesWithinFifteenMinutes() {
        let counts = Dictionary(uniqueKeysWithValues: Self.agnews.labels.map { ($0.name, 30_000) })
        let plan = BatchPlanner().plan(task: Self.agnews, settings: Self.agnewsSettings(), examplesPerLabel: counts)
        let m = Set(plan.batchesByLabel.values)
        #expect(m.count == 1)
        // Tokens (175/s) and requests (20 ms each, one per non-empty batch and step) within 15 minutes.
        #expect((80...150).contains(m.first!), "M = \(m)")
        #expect(plan.estimatedSeconds <= 15 * 60)
        #expect(plan.reason.contains("compute limit"))
        // One more batch per label would exceed the limit.
        var more = Self.agnewsSettings().applying(plan)
        more.batchesByLabel = more.batchesByLabel.mapValues { $0 + 1 }
        #expect(BatchPlanner().estimate(task: Self.agnews, settings: more).seconds > 15 * 60)
    }

    @Test func moreComputeMeansMoreBatches() {
        let counts = Dictionary(uniqueKeysWithValues: Self.agnews.labels.map { ($0.name, 30_000) })
        let short = BatchPlanner(computeLimitSeconds: 5 * 60).plan(task: Self.agnews, settings: Self.agnewsSettings(), examplesPerLabel: counts)
        let long = BatchPlanner(computeLimitSeconds: 60 * 60).plan(task: Self.agnews, settings: Self.agnewsSettings(), examplesPerLabel: counts)
        #expect(long.batchesByLabel["World"]! > 3 * short.batchesByLabel["World"]!)
    }

    @Test func smallLabelsAreCappedAtTheirSizeAndTheRestGetsTheirCompute() {
        let counts = ["World": 40, "Sports": 30_000, "Business": 30_000, "Sci/Tech": 30_000]
        let plan = BatchPlanner().plan(task: Self.agnews, settings: Self.agnewsSettings(), examplesPerLabel: counts)
        #expect(plan.batchesByLabel["World"] == 40)
        let even = BatchPlanner().plan(
            task: Self.agnews, settings: Self.agnewsSettings(),
            examplesPerLabel: Dictionary(uniqueKeysWithValues: Self.agnews.labels.map { ($0.name, 30_000) }))
        #expect(plan.batchesByLabel["Sports"]! > even.batchesByLabel["Sports"]!)
        #expect(plan.reason.contains("World"))
        // A whole small data set fits: every label uses all its examples.
        let tiny = BatchPlanner().plan(task: Self.agnews, settings: Self.agnewsSettings(),
                                       examplesPerLabel: ["World": 20, "Sports": 30, "Business": 25, "Sci/Tech": 21])
        #expect(tiny.batchesByLabel == ["World": 20, "Sports": 30, "Business": 25, "Sci/Tech": 21])
        #expect(tiny.reason.contains("all its examples"))
    }

    @Test func thePlanDependsOnTheCountsNotOnTheTexts() {
        // Same counts, same plan: the planner never sees example text (a fixed example token limit).
        let counts = Dictionary(uniqueKeysWithValues: Self.agnews.labels.map { ($0.name, 5_000) })
        let a = BatchPlanner().plan(task: Self.agnews, settings: Self.agnewsSettings(), examplesPerLabel: counts)
        let b = BatchPlanner().plan(task: Self.agnews, settings: Self.agnewsSettings(), examplesPerLabel: counts)
        #expect(a == b)
        var shorter = Self.agnewsSettings()
        shorter.maxExampleTokens = 20
        #expect(BatchPlanner().plan(task: Self.agnews, settings: shorter, examplesPerLabel: counts).batchesByLabel["World"]!
                > a.batchesByLabel["World"]!)
    }
}

/// Estimates of settings no plan would run: they used to overflow Int (a subsample-mode estimate is
/// M * T * P tokens) and trap the process (`gen --max-tokens 4000000000000 --sampling subsample
/// --dry-run`, or the same job request); they now saturate.
@Suite struct BatchPlannerExtremesTests {
    @Test func anEstimateBeyondIntIsIntMax() {
        let settings = GenerationSettings(
            batches: 10_000_000, batchSize: 1_000_000, maxTokens: 100_000, sampling: .subsample, privacy: .publicOnly,
            labels: ["World"], maxExampleTokens: 1_000_000)
        let one = BatchPlanner.demonstrationCost(
            batches: 10_000_000, promptTokens: BatchPlanner.promptTokens(task: BatchPlannerTests.agnews, settings: settings), settings: settings)
        #expect(one.tokens > 9e18 && one.tokens.isFinite)
        #expect(BatchPlanner().estimate(task: BatchPlannerTests.agnews, settings: settings).tokens == .max)
        let plan = BatchPlanner().plan(task: BatchPlannerTests.agnews, settings: settings, examplesPerLabel: ["World": 30_000_000_000])
        #expect(plan.batchesByLabel["World"] == 1 && plan.reason.contains("even M = 1 exceeds"), "\(plan.reason)")
    }

    @Test func minutesOfAnyLengthArePrinted() {
        #expect(BatchPlanner.minutes(1e300) == String(format: "%.0f", 1e300 / 60))
        #expect(BatchPlanner.minutes(90) == "1.5" && BatchPlanner.minutes(1_200) == "20")
    }
}
