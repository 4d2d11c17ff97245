import ArgumentParser
import DPAccounting
import FewShotCore
import FewShotData
import FewShotStore
import Foundation

/// `fewshot gen`: generate DP demonstrations from a private data file, charge them to the data
/// set's ledger, store them, and print them with the epsilon the accountant derives from the events.
struct Gen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate differentially private demonstrations from a private data file.",
        discussion: """
            Defaults per task follow the paper (prompts/<task>.yaml). --epsilon inf releases the noiseless \
            argmax (NOT private); --epsilon 0 uses the public prompt only. Private text is never printed or stored.
            """)

    @Option(help: "Task name in the prompts directory, or a task file path.")
    var task: String

    @Option(help: "Private data: JSONL (text + label or label_name) or CSV.")
    var data: String

    @Option(help: "Target epsilon; 'inf' for no noise (not private), 0 for the public prompt only.")
    var epsilon: String = "4"

    @Option(help: "Target delta (default: 1/|D_y| of the smallest label used).")
    var delta: Double?

    @Option(help: "Use this noise multiplier instead of calibrating one from --epsilon.")
    var sigma: Double?

    @Option(help: "Number of demonstrations (default: one per label, in the task's label order; more cycle through the labels).")
    var shots: Int?

    @Option(help: "Labels to generate for, comma-separated (default: the task's labels).")
    var labels: String?

    @OptionGroup var generator: GeneratorOptions

    @Option(help: "Directory of task files.")
    var prompts: String = ProcessInfo.processInfo.environment["FEWSHOT_PROMPTS"] ?? "prompts"

    @Option(help: "Seed the noise: reproducible, and then NOT private.")
    var seed: UInt64?

    @Option(help: "Write the JSONL result (privacy record, then one record per demonstration) to this file.")
    var out: String?

    @Flag(help: "Print the JSONL result on stdout instead of the summary.")
    var json = false

    @Option(help: "Resume a failed generation of this data set by its id (same options as the first run).")
    var resume: String?

    @Flag(help: "Do not store the demonstrations or record the cost (refused when the data set has a budget).")
    var noStore = false

    @OptionGroup var store: StoreOptions
    @OptionGroup var llm: LLMOptions

    func validate() throws {
        _ = try parsedEpsilon()
        if let delta, !(delta > 0 && delta < 1) { throw ValidationError("--delta must be in (0, 1), got \(delta)") }
        if let sigma, !(sigma > 0 && sigma.isFinite) { throw ValidationError("--sigma must be positive, got \(sigma)") }
        if let shots, shots < 1 { throw ValidationError("--shots must be at least 1, got \(shots)") }
        if noStore, resume != nil { throw ValidationError("--resume needs the store; drop --no-store") }
    }

    enum TargetPrivacy: Equatable {
        case epsilon(Double)
        case infinite
        case publicOnly
    }

    func parsedEpsilon() throws -> TargetPrivacy {
        switch epsilon.lowercased() {
        case "inf", "infinity": return .infinite
        default:
            guard let value = Double(epsilon), value >= 0, value.isFinite else {
                throw ValidationError("--epsilon must be a non-negative number, 'inf', or 0; got '\(epsilon)'")
            }
            return value == 0 ? .publicOnly : .epsilon(value)
        }
    }

    func run() async throws {
        let taskTemplate = try TaskFile.find(task, in: URL(fileURLWithPath: prompts))
        let dataset = try PrivateDataFile.load(URL(fileURLWithPath: data), task: taskTemplate)
        let chosenLabels = try labelOrder(taskTemplate, counts: dataset.countsByLabel)
        let counts = dataset.countsByLabel
        let targetDelta = delta ?? 1 / Double(chosenLabels.map { counts[$0] ?? 0 }.filter { $0 > 0 }.min() ?? 1)
        let accountantUsed = generator.accountant.accountant
        var settings = generator.settings(for: taskTemplate, labels: chosenLabels, privacy: .publicOnly)
        let noiseMultiplier = try calibrate(&settings, counts: counts, delta: targetDelta, accountant: accountantUsed)
        try settings.validate(examplesPerLabel: counts)
        let plan = PrivacyPlan(settings: settings, examplesPerLabel: counts)
        let noise: NoiseSource = seed.map(NoiseSource.seeded) ?? .secure()
        if !noise.isPrivate { warn("--seed given: the noise is reproducible and the output is NOT differentially private") }

        let ledger = try openLedger(dataset: dataset)
        let connected = try await llm.connect()
        let demonstrationGenerator = DemonstrationGenerator(model: connected.model, task: taskTemplate, settings: settings, noise: noise)
        let progress = ProgressBar()
        let result: GenerationResult
        let reservation: Reservation?
        do {
            (reservation, result) = try await generate(demonstrationGenerator, dataset: dataset, plan: plan, ledger: ledger, accountant: accountantUsed, progress: progress)
            progress.finish()
            try await connected.shutdown()
        } catch {
            progress.finish()
            try? await connected.shutdown()
            throw error
        }

        let perLabel = try result.eventsByLabel.mapValues { try accountantUsed.epsilon(for: $0, delta: targetDelta) }
        let claimedEpsilon = perLabel.values.max() ?? 0
        let answering = result.eventsByLabel.values.map { accountantUsed.answering(for: $0) }
        let record = GenerationRecord(
            task: taskTemplate.name, dataset: dataset.fingerprint, generation: reservation?.id,
            epsilon: claimedEpsilon, epsilonPerLabel: perLabel, delta: targetDelta, sigma: noiseMultiplier,
            accountant: Set(answering).sorted().joined(separator: "+"), mechanism: settings.mechanism.rawValue,
            sampling: settings.sampling.rawValue, subsample: settings.sampling == .subsample ? settings.subsampleScheme.rawValue : nil,
            vocabulary: settings.vocabulary.rawValue, topK: settings.topK,
            batches: settings.batches, batchSize: settings.batchSize, maxTokens: settings.maxTokens,
            tokensReleased: result.tokensReleased, llmCalls: result.llmCalls, model: connected.model.modelName,
            events: result.eventsByLabel, private: noise.isPrivate && claimedEpsilon.isFinite, seed: seed)
        if let ledger, let reservation {
            _ = try ledger.complete(reservation, demonstrations: record.storeRecord(result.demonstrations, labels: chosenLabels))
        }
        let lines = try record.jsonLines(result.demonstrations)
        if let out { try lines.joined(separator: "\n").appending("\n").write(toFile: out, atomically: true, encoding: .utf8) }
        if json {
            print(lines.joined(separator: "\n"))
        } else {
            print(record.summary(result.demonstrations, elapsed: result.elapsed))
        }
    }

    /// The labels to generate for, in order, checked against the task and the data.
    func labelOrder(_ task: TaskTemplate, counts: [String: Int]) throws -> [String] {
        var names = task.labels.map(\.name)
        if let labels {
            names = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for name in names where task.label(named: name) == nil {
                throw ValidationError("--labels: '\(name)' is not a label of task '\(task.name)' (\(task.labels.map(\.name).joined(separator: ", ")))")
            }
        }
        let count = shots ?? names.count
        return (0..<count).map { names[$0 % names.count] }
    }

    /// Sets the run's privacy level; returns the noise multiplier used (nil without noise).
    func calibrate(_ settings: inout GenerationSettings, counts: [String: Int], delta: Double, accountant: any PrivacyAccountant) throws -> Double? {
        switch try parsedEpsilon() {
        case .publicOnly:
            settings.privacy = .publicOnly
            return nil
        case .infinite:
            settings.privacy = .noNoise
            return nil
        case .epsilon(let target):
            let labels = Array(Set(settings.labels))
            try settings.validate(examplesPerLabel: counts)
            let plan = PrivacyPlan(settings: settings, examplesPerLabel: counts)
            // One sigma for every label: the largest any label needs, so each label meets the target.
            let sigma = try sigma ?? labels.map { label in
                try Calibration.noiseMultiplier(epsilon: target, delta: delta, accountant: accountant, event: plan.eventShape(label: label))
            }.max()!
            settings.privacy = .noisy(noiseMultiplierByLabel: Dictionary(uniqueKeysWithValues: labels.map { ($0, sigma) }))
            return sigma
        }
    }

    func openLedger(dataset: PrivateDataset) throws -> FewShotStore? {
        if noStore {
            guard FileManager.default.fileExists(atPath: store.path) else { return nil }
            if try store.open().budget(dataset: dataset.fingerprint) != nil {
                throw ValidationError("--no-store: data set \(dataset.fingerprint.prefix(12)) has a privacy budget, so every generation must go through the ledger")
            }
            return nil
        }
        let opened = try store.open()
        _ = try opened.registerDataset(fingerprint: dataset.fingerprint, name: dataset.source, labelCounts: dataset.countsByLabel)
        return opened
    }

    /// Reserves (or resumes) on the ledger, generates with a checkpoint after every token, and marks
    /// the generation failed (resumable) if anything goes wrong.
    func generate(
        _ generator: DemonstrationGenerator, dataset: PrivateDataset, plan: PrivacyPlan, ledger: FewShotStore?,
        accountant: any PrivacyAccountant, progress: ProgressBar
    ) async throws -> (Reservation?, GenerationResult) {
        guard let ledger else {
            return (nil, try await generator.generate(privateData: dataset.examples, onProgress: progress.update))
        }
        let storePlan = GenerationPlan(plan, summary: "task \(generator.task.name), \(dataset.examples.count) examples")
        let reservation: Reservation
        var resumeFrom: [Int: TokenCheckpoint] = [:]
        if let resume {
            let state = try ledger.resume(generation: resume)
            guard state.reservation.dataset == dataset.fingerprint, state.reservation.plan.demonstrations == storePlan.demonstrations else {
                try ledger.markFailed(state.reservation, reason: "resume refused: different data or options")
                throw ValidationError("--resume \(resume): the data file or the options differ from the generation's plan; rerun it with the original ones")
            }
            reservation = state.reservation
            for (position, p) in state.progress.enumerated() where !p.released.isEmpty || p.finished {
                resumeFrom[position] = TokenCheckpoint(demonstration: position, label: p.label ?? "", tokens: p.released, finished: p.finished)
            }
            warn("resuming generation \(resume): \(resumeFrom.values.map(\.tokens.count).reduce(0, +)) tokens already released and paid for")
        } else {
            reservation = try ledger.reserve(dataset: dataset.fingerprint, plan: storePlan, accountant: accountant)
        }
        do {
            let result = try await generator.generate(
                privateData: dataset.examples, resume: resumeFrom,
                onToken: { checkpoint in
                    try ledger.checkpoint(reservation, demonstration: checkpoint.demonstration, released: checkpoint.tokens, finished: checkpoint.finished)
                },
                onProgress: progress.update)
            return (reservation, result)
        } catch {
            try? ledger.markFailed(reservation, reason: "\(error)")
            warn("generation \(reservation.id) failed; its released tokens stay charged. Resume with --resume \(reservation.id), or give it up with `fewshot budget abandon \(reservation.id)`")
            throw error
        }
    }
}

enum AccountantChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, pld, rdp

    var accountant: any PrivacyAccountant {
        switch self {
        case .auto: DefaultAccountant()
        case .pld: PLDAccountant()
        case .rdp: RDPAccountant()
        }
    }
}

extension PrivacyAccountant {
    /// The name of the accountant that answers for `event` (PLD or RDP behind the default one).
    func answering(for event: PrivacyEvent) -> String {
        (self as? DefaultAccountant)?.accountant(for: event).name ?? name
    }
}

extension NoiseMechanism: ExpressibleByArgument {}
extension VocabularyMode: ExpressibleByArgument {}
extension SamplingMode: ExpressibleByArgument {}
extension SubsampleScheme: ExpressibleByArgument {}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("fewshot: \(message)\n".utf8))
}
