import FewShotCore
import Foundation

/// One task to evaluate: its template, its labeled test set, and where its demonstrations come from.
public struct EvalTask: Sendable {
    public var template: TaskTemplate
    public var test: [LabeledExample]
    public var demonstrations: any DemonstrationSource

    public init(template: TaskTemplate, test: [LabeledExample], demonstrations: any DemonstrationSource) {
        self.template = template
        self.test = test
        self.demonstrations = demonstrations
    }
}

/// The evaluation harness: for every task, condition and seed, get demonstrations, classify the
/// test subset (raw and with contextual calibration), and cache the cell.
///
/// Guarantees: cells already in the cache under the same settings are loaded, not recomputed (no
/// model call is made for them); every test example is classified with the same subset in every cell;
/// progress goes to `progress` (stderr in the CLI) and never shows private text.
public struct Evaluation: Sendable {
    public let model: any LanguageModel
    public let settings: EvalSettings
    public let cache: ResultCache
    public let progress: @Sendable (String) -> Void

    public init(model: any LanguageModel, settings: EvalSettings, outputDirectory: URL, progress: @escaping @Sendable (String) -> Void = Evaluation.standardError) {
        self.model = model
        self.settings = settings
        self.cache = ResultCache(directory: outputDirectory)
        self.progress = progress
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    public func run(_ tasks: [EvalTask]) async throws -> EvalReport {
        try settings.validate()
        var cells: [EvalCellResult] = []
        for task in tasks {
            cells += try await run(task)
        }
        return EvalReport(model: model.modelName, settings: settings, tasks: tasks.map(\.template.name), cells: cells)
    }

    func run(_ task: EvalTask) async throws -> [EvalCellResult] {
        let template = task.template
        let labelIndex = Dictionary(uniqueKeysWithValues: template.labels.enumerated().map { ($1.name, $0) })
        for (position, example) in task.test.enumerated() where labelIndex[example.label] == nil {
            throw EvalError.invalidSetting("task \(template.name): test example \(position + 1) has label '\(example.label)', which the task does not list")
        }
        let subset = TestSubset(size: task.test.count, count: settings.testCount, seed: settings.subsetSeed)
        let examples = subset.select(from: task.test)
        let base = [
            model.modelName, Self.canonicalJSON(template), "test=\(task.test.count):\(subset.indices.map(String.init).joined(separator: ","))",
            "topK=\(settings.topK)", "cache=\(settings.cachePrompt)", task.demonstrations.cacheKey,
        ]
        var scorer: LabelScorer?
        var cells: [EvalCellResult] = []
        for condition in settings.conditions {
            for seed in settings.seeds(for: condition) {
                let name = "\(template.name) \(condition.id) seed \(seed)"
                let fingerprint = Fingerprint.of(base + [condition.id, "seed=\(seed)"])
                if let cached = try cache.load(task: template.name, condition: condition, seed: seed) {
                    if cached.fingerprint == fingerprint {
                        progress("\(name): cached (accuracy \(Self.percent(cached.accuracy)), calibrated \(Self.percent(cached.calibratedAccuracy)))")
                        cells.append(cached)
                        continue
                    }
                    progress("\(name): cached result was made under other settings; recomputing")
                }
                if scorer == nil {
                    let tokenization = try await LabelTokenization.discover(task: template, model: model, topK: settings.topK)
                    let words = zip(template.labels, tokenization.labelTokens).map { label, tokens in
                        "\(label.name)=" + tokens.map { "[\($0.text)]" }.joined()
                    }
                    progress("\(template.name): label tokens \(words.joined(separator: " ")); scoring \(tokenization.firstTokenSuffices ? "first token" : "whole words (first tokens collide)")")
                    scorer = LabelScorer(task: template, model: model, tokenization: tokenization, topK: settings.topK, cachePrompt: settings.cachePrompt, slot: settings.slot)
                }
                let start = ContinuousClock.now
                progress("\(name): getting demonstrations")
                let demonstrations = try await task.demonstrations.demonstrations(for: condition, seed: seed)
                let classifyStart = ContinuousClock.now
                let tally = try await demonstrations.selector == nil
                    ? classify(examples, demonstrations: demonstrations.demonstrations, scorer: scorer!, labelIndex: labelIndex, name: name)
                    : classifySelecting(examples, demonstrations: demonstrations, scorer: scorer!, labelIndex: labelIndex, name: name)
                let classifying = classifyStart.duration(to: .now)
                let elapsed = start.duration(to: .now)
                let cell = EvalCellResult(
                    task: template.name, condition: condition.id, epsilon: condition.epsilon.map(Self.epsilonText), seed: seed,
                    testExamples: examples.count, correct: tally.correct, correctCalibrated: tally.correctCalibrated,
                    contentFreeProbabilities: tally.contentFree,
                    demonstrations: demonstrations.containsPrivateText ? nil : demonstrations.demonstrations,
                    notes: demonstrations.notes, seconds: elapsed / .seconds(1), classificationSeconds: classifying / .seconds(1),
                    classifications: demonstrations.selector == nil
                        ? examples.count + ContextualCalibration.contentFreeInputs.count
                        : examples.count * (1 + ContextualCalibration.contentFreeInputs.count),
                    fingerprint: fingerprint
                )
                try cache.store(cell, condition: condition)
                progress("\(name): accuracy \(Self.percent(cell.accuracy)), calibrated \(Self.percent(cell.calibratedAccuracy)) (\(examples.count) examples, \(String(format: "%.0f", cell.seconds)) s, \(String(format: "%.3f", cell.classificationSeconds / Double(cell.classifications))) s per classification)")
                cells.append(cell)
            }
        }
        return cells
    }

    struct Tally {
        var correct = 0
        var correctCalibrated = 0
        var contentFree: [Double] = []

        /// Counts one test example: raw and calibrated predictions against its true label.
        mutating func add(_ probabilities: [Double], calibration: ContextualCalibration, truth: Int) {
            if ContextualCalibration.predictedLabel(probabilities) == truth { correct += 1 }
            if ContextualCalibration.predictedLabel(calibration.calibrated(probabilities)) == truth { correctCalibrated += 1 }
        }
    }

    /// Contextual calibration under `demonstrations`: the label probabilities of the content-free inputs.
    func calibration(_ demonstrations: [Demonstration], scorer: LabelScorer) async throws -> ContextualCalibration {
        var vectors: [[Double]] = []
        for input in ContextualCalibration.contentFreeInputs {
            vectors.append(try await scorer.labelProbabilities(demonstrations: demonstrations, query: input))
        }
        return ContextualCalibration(contentFreeVectors: vectors)
    }

    func classify(_ examples: [LabeledExample], demonstrations: [Demonstration], scorer: LabelScorer, labelIndex: [String: Int], name: String) async throws -> Tally {
        let calibration = try await calibration(demonstrations, scorer: scorer)
        var tally = Tally(contentFree: calibration.contentFreeProbabilities)
        let every = max(1, examples.count / 10)
        for (position, example) in examples.enumerated() {
            let probabilities = try await scorer.labelProbabilities(demonstrations: demonstrations, query: example.text)
            tally.add(probabilities, calibration: calibration, truth: labelIndex[example.label]!)
            if (position + 1) % every == 0 && position + 1 < examples.count {
                progress("\(name): \(position + 1)/\(examples.count) classified")
            }
        }
        return tally
    }

    /// Classification with demonstrations chosen per test example: each example is calibrated with
    /// the content-free inputs under its own demonstrations (the prompt prefix they share stays in
    /// the server's cache), so calibration means what it means for a fixed set.
    func classifySelecting(
        _ examples: [LabeledExample], demonstrations pool: EvalDemonstrations, scorer: LabelScorer, labelIndex: [String: Int], name: String
    ) async throws -> Tally {
        var tally = Tally()
        var contentFreeSum: [Double] = []
        let every = max(1, examples.count / 10)
        for (position, example) in examples.enumerated() {
            let demonstrations = pool.demonstrations(for: example.text)
            let probabilities = try await scorer.labelProbabilities(demonstrations: demonstrations, query: example.text)
            let calibration = try await calibration(demonstrations, scorer: scorer)
            contentFreeSum = contentFreeSum.isEmpty ? calibration.contentFreeProbabilities : zip(contentFreeSum, calibration.contentFreeProbabilities).map(+)
            tally.add(probabilities, calibration: calibration, truth: labelIndex[example.label]!)
            if (position + 1) % every == 0 && position + 1 < examples.count {
                progress("\(name): \(position + 1)/\(examples.count) classified (demonstrations selected per example)")
            }
        }
        // Recorded: the mean content-free probabilities over the examples.
        tally.contentFree = contentFreeSum.map { $0 / Double(max(1, examples.count)) }
        return tally
    }

    static func canonicalJSON<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    static func epsilonText(_ value: Double) -> String { value.isInfinite ? "inf" : EvalCondition.format(value) }
}
