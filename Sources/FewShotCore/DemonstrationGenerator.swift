import DPAccounting
import Foundation
import Synchronization

/// Progress of a generation, reported after every released token.
public struct GenerationProgress: Sendable {
    public var demonstration: Int
    public var demonstrations: Int
    public var step: Int
    public var maxTokens: Int
    public var llmCalls: Int
    public var elapsed: Duration
}

/// The tokens a demonstration has released so far: DP output, safe to checkpoint. For an extraction
/// task `tokens` are the sentence's tokens followed by the answer's, with no marker between them: the
/// generator finds the boundary again from the sentence's stop rule
/// (``DemonstrationGenerator/sentenceTokenCount(_:)``), so a resumed demonstration continues in the
/// right phase and the checkpoint never holds more than T_text + T_answer tokens.
public struct TokenCheckpoint: Sendable, Hashable {
    public var demonstration: Int
    public var label: String
    public var tokens: [Token]
    public var finished: Bool

    public init(demonstration: Int, label: String, tokens: [Token], finished: Bool) {
        self.demonstration = demonstration
        self.label = label
        self.tokens = tokens
        self.finished = finished
    }
}

/// What a generation released.
public struct GenerationResult: Sendable {
    public var demonstrations: [Demonstration]
    /// Tokens released per demonstration (a demonstration is charged T tokens whatever this is).
    public var tokensReleased: [Int]
    /// The privacy events per label: what the accountant is given.
    public var eventsByLabel: [String: PrivacyEvent]
    public var llmCalls: Int
    public var elapsed: Duration
}

/// Generates synthetic demonstrations token by token with differential privacy (Tang et al. 2024).
///
/// For each step it draws M private batches of the label's examples (``PrivateBatchSampler``), asks
/// the model for each batch prompt's next-token distribution concurrently, projects them on the
/// candidate set (``CandidateVocabulary``), averages them and releases the noisy argmax
/// (``NoisyArgmax``). It never computes epsilon: it reports the ``PrivacyPlan``'s events, which charge
/// every started demonstration its full T tokens. Private text goes only into prompts sent to the
/// model and never into results, errors, progress or logs.
///
/// Extraction tasks (``TaskKind/extraction``, `settings.answerMaxTokens` = T_answer) release each
/// demonstration in two phases with the same step: phase 1 continues the prompts (instruction, the
/// batch's examples with their answers, the sentence header) with the sentence until newline, end of
/// text, an end marker or T_text (= `settings.maxTokens`) tokens; phase 2 continues the same prompts
/// (in partition mode the same batches) with the released sentence and the answer header (e.g.
/// "\nGenre:") until newline, end of text, an end marker or T_answer tokens. A demonstration is
/// charged T_text + T_answer tokens.
public struct DemonstrationGenerator: Sendable {
    public let model: any LanguageModel
    public let task: TaskTemplate
    public let settings: GenerationSettings
    public let noise: NoiseSource
    /// Where demonstration `i` draws its partition-mode subsample from. A resumed demonstration must
    /// draw the same subsample as its first part (algorithm.md), so a ledger run passes a stream keyed
    /// by a secret stored with the reservation; by default it is `noise`.
    public let subsampleRandomness: @Sendable (Int) -> NoiseSource

    public init(
        model: any LanguageModel, task: TaskTemplate, settings: GenerationSettings, noise: NoiseSource,
        subsampleRandomness: (@Sendable (Int) -> NoiseSource)? = nil
    ) {
        self.model = model
        self.task = task
        self.settings = settings
        self.noise = noise
        self.subsampleRandomness = subsampleRandomness ?? { _ in noise }
    }

    /// Runs the generation. `resume` maps a demonstration index to tokens it already released (from a
    /// checkpoint); those are not generated again. `onToken` is called after every release, before
    /// the next step starts, so a checkpoint is durable before more is released.
    public func generate(
        privateData: [LabeledExample],
        resume: [Int: TokenCheckpoint] = [:],
        onToken: (@Sendable (TokenCheckpoint) async throws -> Void)? = nil,
        onProgress: (@Sendable (GenerationProgress) -> Void)? = nil
    ) async throws -> GenerationResult {
        // In partition mode a demonstration's subsample is drawn from its label's examples in a
        // canonical order, so a resumed run (the same data, possibly reordered: the same
        // fingerprint) with the same subsample randomness draws the same subsample.
        var byLabel = Dictionary(grouping: privateData, by: \.label)
        if settings.sampling == .partition || settings.groups > 1 {
            byLabel = byLabel.mapValues { $0.sorted { ($0.text, $0.answer ?? "") < ($1.text, $1.answer ?? "") } }
        }
        let counts = byLabel.mapValues(\.count)
        try settings.validate(examplesPerLabel: counts)
        let groups = groupedExamples(byLabel)
        try checkKind()
        let vocabularySize = try await fullModeVocabularySize()
        // Partition mode pins batch b to slot b and the public prompt to slot M, so each keeps its
        // prompt cache; with fewer slots the server picks slots by prompt similarity instead.
        let slots = settings.sampling == .partition ? try await model.slotCount() ?? 0 : 0
        let pinSlots = slots > settings.largestBatchCount
        let plan = PrivacyPlan(settings: settings, examplesPerLabel: counts)
        let clock = ContinuousClock()
        let start = clock.now
        let calls = CallCounter()
        var demonstrations: [Demonstration] = []
        var released: [Int] = []

        for (index, labelName) in settings.labels.enumerated() {
            var state = resume[index] ?? TokenCheckpoint(demonstration: index, label: labelName, tokens: [], finished: false)
            let examples = groups.map { $0[labelName]?[settings.group(ofDemonstration: index)] ?? [] } ?? byLabel[labelName] ?? []
            let sampler = sampler(for: labelName, plan: plan)
            var fixedBatches: [[LabeledExample]]? = nil
            while !state.finished && !complete(state.tokens) {
                if settings.sampling == .partition, fixedBatches == nil {
                    fixedBatches = try await truncated(sampler.draw(from: examples, noise: subsampleRandomness(index)))
                }
                let batches: [[LabeledExample]]
                if let fixedBatches { batches = fixedBatches } else { batches = try await truncated(sampler.draw(from: examples, noise: noise)) }
                let token: Token
                switch task.kind {
                case .classification:
                    let label = task.label(named: labelName)!
                    token = try await releaseToken(
                        group: labelName, publicPrompt: task.publicGenerationPrompt(label: label),
                        privatePrompt: { task.generationPrompt(examples: $0, label: label) }, batches: batches,
                        prefix: state.tokens, vocabularySize: vocabularySize, pinSlots: pinSlots, calls: calls)
                case .extraction:
                    // Phase 1 continues the sentence; phase 2 the same prompts + sentence + answer header.
                    let prefix = sentenceTokenCount(state.tokens).map { answerContinuation(state.tokens, sentenceTokens: $0) } ?? state.tokens
                    token = try await releaseToken(
                        group: labelName, publicPrompt: task.publicExtractionGenerationPrompt,
                        privatePrompt: { task.extractionGenerationPrompt(examples: $0) }, batches: batches,
                        prefix: prefix, vocabularySize: vocabularySize, pinSlots: pinSlots, calls: calls)
                }
                state.tokens.append(token)
                state.finished = complete(state.tokens)
                try await onToken?(state)
                onProgress?(GenerationProgress(
                    demonstration: index, demonstrations: settings.labels.count, step: state.tokens.count,
                    maxTokens: settings.tokensPerDemonstration, llmCalls: calls.value, elapsed: clock.now - start))
            }
            demonstrations.append(demonstration(label: labelName, tokens: state.tokens))
            released.append(state.tokens.count)
        }
        return GenerationResult(
            demonstrations: demonstrations, tokensReleased: released,
            eventsByLabel: plan.plannedEventsByLabel(), llmCalls: calls.value, elapsed: clock.now - start)
    }

    /// With `settings.groups` = G > 1, each label's examples (in canonical order) split into G
    /// disjoint groups, each example to a uniformly random group, independently of the others (so
    /// adding or removing one changes one group only). The assignment comes from the subsample
    /// randomness at indices after the demonstrations' (one per label, in label order), so a resumed
    /// generation sees the same groups. nil without groups.
    private func groupedExamples(_ byLabel: [String: [LabeledExample]]) -> [String: [[LabeledExample]]]? {
        guard settings.groups > 1 else { return nil }
        var result: [String: [[LabeledExample]]] = [:]
        for (ordinal, label) in Set(settings.labels).sorted().enumerated() {
            let randomness = subsampleRandomness(settings.labels.count + ordinal)
            var parts = Array(repeating: [LabeledExample](), count: settings.groups)
            for example in byLabel[label] ?? [] { parts[randomness.uniformInt(below: settings.groups)].append(example) }
            result[label] = parts
        }
        return result
    }

    /// The sampler of `label`'s batches, at the plan's sampling rate (the rate the accountant is told).
    private func sampler(for label: String, plan: PrivacyPlan) -> PrivateBatchSampler {
        PrivateBatchSampler(
            batches: settings.batches(for: label), batchSize: settings.batchSize, scheme: settings.subsampleScheme,
            samplingRate: plan.samplingRate(label: label))
    }

    /// The batches with every example's text cut to `settings.maxExampleTokens` (a fixed map of each
    /// example alone, so one example still changes one batch). Extraction answers are kept whole.
    private func truncated(_ batches: [[LabeledExample]]) async throws -> [[LabeledExample]] {
        guard let limit = settings.maxExampleTokens else { return batches }
        let model = self.model
        return try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
            for (b, batch) in batches.enumerated() {
                for (i, example) in batch.enumerated() {
                    group.addTask { (b, i, try await model.truncated(example.text, maxTokens: limit)) }
                }
            }
            var result = batches
            for try await (b, i, text) in group { result[b][i].text = text }
            return result
        }
    }

    private func fullModeVocabularySize() async throws -> Int? {
        guard settings.vocabulary == .full, settings.privacy != .publicOnly else { return nil }
        guard let size = try await model.vocabularySize() else {
            throw GenerationError.fullVocabularyUnsupported
        }
        return size
    }

    /// One step: the public and M private distributions, projected, aggregated, noisy argmax. `group`
    /// is the label (or ``TaskTemplate/extractionGroup``) whose sigma applies; `prefix` is what follows
    /// the prompts' text (the released tokens, plus the sentence and answer header in phase 2).
    private func releaseToken(
        group: String, publicPrompt: String, privatePrompt: ([LabeledExample]) -> String,
        batches: [[LabeledExample]], prefix: [Token], vocabularySize: Int?, pinSlots: Bool, calls: CallCounter
    ) async throws -> Token {
        let keepCache = settings.sampling == .partition
        let publicRequest = DistributionRequest(
            prompt: ModelPrompt(text: publicPrompt, continuation: prefix),
            topK: settings.topK, slot: pinSlots ? settings.largestBatchCount : nil, cachePrompt: keepCache)
        if case .publicOnly = settings.privacy {
            calls.add(1)
            let top = try await model.nextTokenDistribution(publicRequest).top
            guard let first = top.first else { throw GenerationError.emptyCandidateSet(label: group) }
            return first.token
        }
        // The public prompt's distribution is fetched on its own, before any private prompt is sent,
        // so no server-side batching can couple it with private prompts: the candidate set (RVP)
        // depends on public data only. An empty batch (a Poisson batch of mean N = 1 is empty about
        // 37% of the time) has exactly the public prompt, so its distribution is the public one
        // (public data, so nothing changes for privacy) and costs no request.
        let emptyIsPublic = privatePrompt([]) == publicPrompt
        let reuseForEmpty = emptyIsPublic && batches.contains(where: \.isEmpty)
        var publicDistribution: NextTokenDistribution? = nil
        if settings.vocabulary == .rvp || reuseForEmpty {
            calls.add(1)
            publicDistribution = try await model.nextTokenDistribution(publicRequest)
        }
        let requests: [(Int, DistributionRequest)] = batches.enumerated().compactMap { b, batch in
            if batch.isEmpty && reuseForEmpty { return nil }
            return (b, DistributionRequest(
                prompt: ModelPrompt(text: privatePrompt(batch), continuation: prefix),
                topK: settings.topK, slot: pinSlots ? b : nil, cachePrompt: keepCache))
        }
        calls.add(requests.count)
        let model = self.model
        let privateDistributions = try await withThrowingTaskGroup(of: (Int, NextTokenDistribution).self) { group in
            for (b, request) in requests {
                group.addTask { (b, try await model.nextTokenDistribution(request)) }
            }
            var results = Array(repeating: publicDistribution ?? NextTokenDistribution(top: []), count: batches.count)
            for try await (b, distribution) in group { results[b] = distribution }
            return results
        }

        let candidates: CandidateVocabulary
        if settings.vocabulary == .rvp, let publicDistribution {
            candidates = .reduced(publicDistribution: publicDistribution, k: settings.topK)
        } else {
            candidates = .union(of: privateDistributions)
        }
        guard candidates.count > 0 else { throw GenerationError.emptyCandidateSet(label: group) }
        var vectors = privateDistributions.map(candidates.probabilityVector)
        let m = Double(settings.batches(for: group))
        let argmax: NoisyArgmax
        switch (settings.privacy, settings.mechanism) {
        case (.noNoise, _), (.publicOnly, _):
            argmax = .none
        case (.noisy(let sigmas), .gaussian):
            argmax = .gaussian(scale: sigmas[group]! * 2.0.squareRoot() / m)
        case (.noisy(let sigmas), .exponential):
            vectors = vectors.map(PrivateAggregate.maxScaled)
            argmax = .gumbel(scale: sigmas[group]! * 2 / m)
        }
        let aggregate = PrivateAggregate.mean(vectors, count: candidates.count)
        let hidden = vocabularySize.map { max(0, $0 - candidates.count) } ?? 0
        switch argmax.select(aggregate, hiddenCandidates: hidden, noise: noise) {
        case .candidate(let i):
            return candidates.tokens[i]
        case .hidden:
            return try await hiddenToken(vocabularySize: vocabularySize!, excluding: candidates)
        }
    }

    /// A uniformly random vocabulary entry outside the candidate set (full mode only).
    private func hiddenToken(vocabularySize: Int, excluding candidates: CandidateVocabulary) async throws -> Token {
        let excluded = Set(candidates.tokens.compactMap(\.id))
        while true {
            let id = noise.uniformInt(below: vocabularySize)
            if !excluded.contains(id) { return try await model.token(id: id) }
        }
    }

    /// Stop rules: newline, the model's end of text, or the task's end marker.
    private func ends(_ tokens: [Token]) -> Bool {
        guard let last = tokens.last else { return false }
        let lastText = last.text
        if lastText.contains("\n") || model.endOfTextMarkers.contains(lastText) { return true }
        let whole = String(decoding: tokens.flatMap(\.bytes), as: UTF8.self)
        return task.endMarkers.contains { !$0.isEmpty && whole.contains($0) }
    }

    /// The demonstration's text: bytes decoded once (multi-byte characters whole), cut at the first
    /// newline, end-of-text marker or end marker, trimmed.
    private func text<S: Sequence<Token>>(of tokens: S) -> String {
        cut(tokens).trimmingCharacters(in: .whitespaces)
    }

    private func cut<S: Sequence<Token>>(_ tokens: S) -> String {
        var text = String(decoding: tokens.flatMap(\.bytes), as: UTF8.self)
        for marker in ["\n"] + model.endOfTextMarkers + task.endMarkers where !marker.isEmpty {
            if let range = text.range(of: marker) { text = String(text[..<range.lowerBound]) }
        }
        return text
    }

    // MARK: Task kinds

    /// Refuses settings that do not fit the task's kind, before any request.
    private func checkKind() throws {
        switch task.kind {
        case .classification:
            guard settings.answerMaxTokens == nil else {
                throw GenerationError.invalidSetting("task '\(task.name)' is a classification task; an answer length (T_answer) is only for extraction tasks")
            }
            for label in settings.labels where task.label(named: label) == nil {
                throw GenerationError.invalidSetting("label '\(label)' is not a label of task '\(task.name)'")
            }
        case .extraction:
            guard settings.answerMaxTokens != nil else {
                throw GenerationError.invalidSetting("task '\(task.name)' is an extraction task; it needs an answer length (T_answer)")
            }
            guard settings.labels.allSatisfy({ $0 == TaskTemplate.extractionGroup }) else {
                throw GenerationError.invalidSetting("task '\(task.name)' is an extraction task and has no labels")
            }
        }
    }

    /// Whether a demonstration with these released tokens is complete: its (answer's) stop rule fired
    /// or it reached its token limit.
    private func complete(_ tokens: [Token]) -> Bool {
        guard let answerMaxTokens = settings.answerMaxTokens else {
            return ends(tokens) || tokens.count >= settings.maxTokens
        }
        guard let sentence = sentenceTokenCount(tokens) else { return false }
        let answer = Array(tokens[sentence...])
        return ends(answer) || answer.count >= answerMaxTokens
    }

    /// Extraction tasks: how many of a demonstration's released `tokens` are its sentence, or nil
    /// while the sentence is still being generated. The sentence ends at the first token where the
    /// stop rule fires (newline, end of text, end marker) or at T_text tokens; the rest is the
    /// answer. A checkpoint therefore needs no phase marker: resuming recomputes the boundary from
    /// the released tokens (with the same task, model and T_text).
    public func sentenceTokenCount(_ tokens: [Token]) -> Int? {
        var count = 0
        while count < tokens.count {
            count += 1
            if count >= settings.maxTokens || ends(Array(tokens[..<count])) { return count }
        }
        return nil
    }

    /// Phase 2's continuation: the released sentence (cut at its stop, trailing spaces removed),
    /// the answer header (e.g. "\nGenre:"), then the answer tokens released so far.
    private func answerContinuation(_ tokens: [Token], sentenceTokens: Int) -> [Token] {
        var sentence = cut(tokens[..<sentenceTokens])
        while sentence.last?.isWhitespace == true { sentence.removeLast() }
        return [Token(id: nil, text: sentence + task.answerHeader)] + tokens[sentenceTokens...]
    }

    /// The released demonstration: its text, or for extraction its sentence and answer.
    private func demonstration(label: String, tokens: [Token]) -> Demonstration {
        guard task.kind == .extraction else { return Demonstration(label: label, text: text(of: tokens)) }
        let sentence = sentenceTokenCount(tokens) ?? tokens.count
        return Demonstration(label: label, text: text(of: tokens[..<sentence]), answer: text(of: tokens[sentence...]))
    }
}

/// Counts LLM calls across concurrent tasks.
final class CallCounter: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) { count.withLock { $0 += n } }
    var value: Int { count.withLock { $0 } }
}
