import Crypto
import DPAccounting
import FewShotCore
import FewShotStore
import Foundation

/// Runs a prepared generation against the privacy ledger: reserve (or resume) before any token is
/// released, checkpoint every token before the next step, complete into a stored demonstration set.
/// `fewshot gen` and the server's generation jobs both run generations through this type.
///
/// Guarantees: the ledger holds the plan's full cost before the model is called; a token is
/// checkpointed before the next one is computed, so a crash loses no charge; any failure
/// (including cancellation, checked after each checkpoint) marks the generation failed, keeping its
/// reservation, so it can be resumed or abandoned. Without a ledger nothing is reserved or stored.
public struct LedgerGeneration: Sendable {
    public let prepared: PreparedGeneration
    public let ledger: (any LedgerStore)?

    public init(prepared: PreparedGeneration, ledger: (any LedgerStore)?) {
        self.prepared = prepared
        self.ledger = ledger
    }

    /// The plan the ledger records for `prepared` (no count: the summary must not hold |D|).
    static func storePlan(for prepared: PreparedGeneration) -> GenerationPlan {
        GenerationPlan(prepared.plan, summary: "task \(prepared.task.name)")
    }

    /// The plan of this generation as prepared (``begin(resume:job:)`` records it with the released counts).
    public var storePlan: GenerationPlan { Self.storePlan(for: prepared) }

    /// Releases the data set's DP label counts if it has none yet (charged to the ledger), prepares
    /// the generation again with them, then reserves its cost (throws `BudgetExceeded` when it does
    /// not fit), or, with `resume`, takes over that failed generation after checking that it is this
    /// data and plan. `job` is stored with the reservation (the spec of a server job, as JSON).
    /// Without a ledger the counts are drawn for this run alone.
    public func begin(resume: String? = nil, job: String? = nil) throws -> GenerationStart {
        let seeded = !prepared.noise.isPrivate
        let dataset = prepared.dataset
        let counted = PreparedGeneration.countedLabels(prepared.task)
        guard let ledger else {
            let release = LabelCountRelease.draw(exact: dataset.countsByLabel, labels: counted, noise: prepared.noise)
            return GenerationStart(
                prepared: try prepared.withLabelCounts(release) ?? prepared, reservation: nil, resumeFrom: [:],
                subsampleKey: SymmetricKey(size: .bits256), seededNoise: seeded)
        }
        _ = try ledger.registerDataset(fingerprint: dataset.fingerprint, name: dataset.source, labelCounts: dataset.countsByLabel)
        var prepared = self.prepared
        if prepared.usesReleasedLabelCounts {
            // Stored counts serve every later generation, so they always get secure noise, even in a seeded run.
            let release = try ledger.releaseLabelCounts(dataset: dataset.fingerprint, accountant: prepared.accountant) { sigma in
                LabelCountRelease.draw(exact: dataset.countsByLabel, labels: counted, noiseMultiplier: sigma, noise: .secure())
            }
            prepared = try prepared.withLabelCounts(release) ?? prepared
        }
        let storePlan = Self.storePlan(for: prepared)
        guard let resume else {
            let reservation = try ledger.reserve(
                dataset: dataset.fingerprint, plan: storePlan, accountant: prepared.accountant, job: job, seededNoise: seeded)
            return GenerationStart(
                prepared: prepared, reservation: reservation, resumeFrom: [:],
                subsampleKey: SymmetricKey(data: try ledger.subsampleKey(generation: reservation.id)), seededNoise: seeded)
        }
        let state = try ledger.resume(generation: resume, seededNoise: seeded)
        guard state.reservation.dataset == dataset.fingerprint else {
            try ledger.markFailed(state.reservation, reason: "resume refused: different data")
            throw GenerationSpecError(
                field: "resume", problem: "generation \(state.reservation.id) read another data file (or this one has changed since); resume it with the original file")
        }
        if let difference = Self.firstDifference(stored: state.reservation.plan.demonstrations, new: storePlan.demonstrations) {
            try ledger.markFailed(state.reservation, reason: "resume refused: different options")
            throw GenerationSpecError(
                field: "resume", problem: "generation \(state.reservation.id): \(difference) differs from the generation's plan; resume it with the original options")
        }
        var resumeFrom: [Int: TokenCheckpoint] = [:]
        for (position, p) in state.progress.enumerated() where !p.released.isEmpty || p.finished {
            resumeFrom[position] = TokenCheckpoint(demonstration: position, label: p.label ?? "", tokens: p.released, finished: p.finished)
        }
        return GenerationStart(
            prepared: prepared, reservation: state.reservation, resumeFrom: resumeFrom,
            subsampleKey: SymmetricKey(data: try ledger.subsampleKey(generation: state.reservation.id)), seededNoise: state.seededNoise)
    }

    /// The first option that makes `new` differ from the `stored` plan, in the options' words; nil if equal.
    static func firstDifference(stored: [GenerationPlan.Demonstration], new: [GenerationPlan.Demonstration]) -> String? {
        guard stored.count == new.count else { return "the number of demonstrations (--shots: \(new.count), planned \(stored.count))" }
        for (i, (old, now)) in zip(stored, new).enumerated() {
            if old.label != now.label { return "the label of demonstration \(i + 1) (--labels or --shots)" }
            if old.group != now.group { return "the example group of demonstration \(i + 1) (--groups)" }
            if old.maxTokens != now.maxTokens { return "the tokens per demonstration (--max-tokens: \(now.maxTokens), planned \(old.maxTokens))" }
            if old.tokenEvent != now.tokenEvent || old.plannedEvent != now.plannedEvent {
                return "the privacy event of demonstration \(i + 1) (--epsilon, --delta, --sigma, --batches, --batch-size, --compute-limit, --sampling or --subsample)"
            }
        }
        return nil
    }

    /// Generates with `model`, checkpointing each token, and completes the reservation into a stored
    /// set. On any error the generation is marked failed (resumable) and the error rethrown, unless
    /// `abandonWhenStopped` then returns true (a cancel was asked for): it is abandoned instead, in one
    /// step, so nobody ever sees a cancelled job as failed and resumable. `onToken` sees each checkpoint
    /// after it is durable.
    public func run(
        _ start: GenerationStart, model: any LanguageModel,
        onToken: (@Sendable (TokenCheckpoint) -> Void)? = nil,
        onProgress: (@Sendable (GenerationProgress) -> Void)? = nil,
        abandonWhenStopped: (@Sendable () -> Bool)? = nil
    ) async throws -> GenerationOutcome {
        let prepared = start.prepared
        let generator = DemonstrationGenerator(
            model: model, task: prepared.task, settings: prepared.settings, noise: prepared.noise,
            subsampleRandomness: KeyedSubsampleStream.randomness(key: start.subsampleKey))
        let ledger = self.ledger
        let reservation = start.reservation
        let result: GenerationResult
        do {
            result = try await generator.generate(
                privateData: prepared.dataset.examples, resume: start.resumeFrom,
                onToken: { checkpoint in
                    if let ledger, let reservation {
                        try await ledger.checkpoint(reservation, demonstration: checkpoint.demonstration, released: checkpoint.tokens, finished: checkpoint.finished)
                    }
                    onToken?(checkpoint)
                    try Task.checkCancellation()
                },
                onProgress: onProgress)
        } catch {
            if let ledger, let reservation {
                Self.stop(reservation, ledger: ledger, abandon: abandonWhenStopped?() ?? false, after: error)
            }
            throw error
        }
        let record = Self.makeRecord(prepared, result, generation: reservation?.id, model: model.modelName, seededNoise: start.seededNoise, ledger: ledger)
        var stored: DemonstrationSetRecord?
        if let ledger, let reservation {
            stored = try ledger.complete(reservation, demonstrations: record.storeRecord(result.demonstrations, labels: prepared.labels))
        }
        return GenerationOutcome(reservation: reservation, result: result, record: record, stored: stored)
    }

    /// Ends a run that threw: abandoned when asked, else (or when abandoning fails) failed and resumable,
    /// which keeps its whole reservation.
    private static func stop(_ reservation: Reservation, ledger: any LedgerStore, abandon: Bool, after error: any Error) {
        var reason = stopReason(error)
        if abandon {
            do { try ledger.abandon(reservation); return } catch { reason += "; abandoning failed: \(error)" }
        }
        try? ledger.markFailed(reservation, reason: reason)
    }

    /// Why a run stopped, as the ledger records it: "interrupted" for a cancelled task, else the error.
    public static func stopReason(_ error: any Error) -> String {
        error is CancellationError ? "interrupted" : "\(error)"
    }

    static func makeRecord(
        _ p: PreparedGeneration, _ result: GenerationResult, generation: String?, model: String, seededNoise: Bool, ledger: (any LedgerStore)?
    ) -> GenerationRecord {
        let accountant = p.accountant
        let answers = result.eventsByLabel.mapValues { try? accountant.answer(for: $0, delta: p.delta) }
        let perLabel = answers.mapValues { $0?.epsilon ?? .infinity }
        let claimed = perLabel.values.max() ?? 0
        let answering = Set(answers.values.map { $0?.accountant ?? accountant.name })
        let settings = p.settings
        return GenerationRecord(
            task: p.task.name, dataset: ledger?.publicDatasetID(fingerprint: p.dataset.fingerprint), generation: generation,
            epsilon: claimed, epsilonPerLabel: perLabel, delta: p.delta, sigma: p.noiseMultiplier,
            accountant: answering.sorted().joined(separator: "+"), mechanism: settings.mechanism,
            sampling: settings.sampling, subsample: settings.subsampleScheme,
            vocabulary: settings.vocabulary, topK: settings.topK,
            batches: settings.batches, batchSize: settings.batchSize, maxTokens: settings.maxTokens,
            answerMaxTokens: settings.answerMaxTokens, tokensReleased: result.tokensReleased, llmCalls: result.llmCalls, model: model,
            events: result.eventsByLabel, labels: PlanReport(p).labels, labelCounts: p.settings.labelCounts.map(GenerationRecord.LabelCounts.init),
            adjacency: GenerationRecord.adjacency(subsample: settings.subsampleScheme),
            private: !seededNoise && claimed.isFinite, seed: p.spec.seed, seededNoise: seededNoise)
    }
}

/// Where a generation starts: its reservation (nil without a ledger) and, when resumed, the tokens
/// each demonstration already released (and paid for).
public struct GenerationStart: Sendable {
    /// The generation as it runs: prepared with the data set's released label counts.
    public var prepared: PreparedGeneration
    public var reservation: Reservation?
    public var resumeFrom: [Int: TokenCheckpoint]
    /// The secret from which each demonstration's partition subsample is drawn (the store's, so a
    /// resume draws the same subsamples; a fresh one without a ledger).
    var subsampleKey: SymmetricKey
    /// Whether any run of this generation (this one, or one it resumes) used seeded noise.
    public var seededNoise: Bool

    /// Tokens released before this run (by the generation being resumed).
    public var tokensAlreadyReleased: Int { resumeFrom.values.map(\.tokens.count).reduce(0, +) }
}

/// A finished generation: the generator's result, its privacy record and the stored set (nil without a ledger).
public struct GenerationOutcome: Sendable {
    public var reservation: Reservation?
    public var result: GenerationResult
    public var record: GenerationRecord
    public var stored: DemonstrationSetRecord?
}
