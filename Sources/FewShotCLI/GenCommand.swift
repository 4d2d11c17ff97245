import ArgumentParser
import FewShotCore
import FewShotData
import FewShotGeneration
import FewShotStore
import Foundation

/// `fewshot gen`: generate DP demonstrations from a private data file, charge them to the data
/// set's ledger, store them, and print them with the epsilon the accountant derives from the events.
/// The work itself is ``LedgerGeneration``'s, shared with the server's generation jobs.
struct Gen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate differentially private demonstrations from a private data file.",
        discussion: """
            Defaults per task come from prompts/<task>.yaml: partition sampling with M chosen by the automatic \
            plan (--batches auto) within --compute-limit. --dry-run --json prints the plan and its cost without \
            calling the LLM or touching the ledger. --epsilon inf releases the noiseless argmax (NOT private); \
            --epsilon 0 uses the public prompt only. Private text is never printed or stored.
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

    @Option(help: "A pool: split each label's examples into this many disjoint groups (or 'max': as many as keep the one-set plan's M*N examples per group) and make one set per group, at the privacy cost of one set; --compute-limit then applies per group.")
    var groups: GroupCount?

    @OptionGroup var generator: GeneratorOptions

    @OptionGroup var prompts: PromptsOption

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

    @Flag(help: "Print the plan (M, N, q, sigma, noise, events, estimated LLM tokens and minutes) and stop: no LLM call, no ledger write.")
    var dryRun = false

    @OptionGroup var store: StoreOptions
    @OptionGroup var llm: LLMOptions

    func validate() throws {
        do { try spec().validate() } catch let error as GenerationSpecError { throw error.validationError }
        if noStore, resume != nil { throw ValidationError("--resume needs the store; drop --no-store") }
    }

    /// The options as a generation request.
    func spec() throws -> GenerationSpec {
        GenerationSpec(
            task: task, data: data, epsilon: try TargetEpsilon(parsing: epsilon), delta: delta, sigma: sigma, shots: shots,
            labels: labels.map { $0.split(separator: ",").map(String.init) }, seed: seed, groups: groups, generator: generator.overrides)
    }

    func run() async throws {
        try await namingOptions(generate)
    }

    func generate() async throws {
        let preview = try PreparedGeneration.prepare(try spec(), prompts: prompts.directory)
        if let summary = preview.dataset.inputSummary { warn(summary) }
        // Plan with the data set's released DP label counts when the store has them (gen releases
        // them before reserving otherwise, and plans again with them).
        let prepared = try releasedLabelCounts(preview.dataset).flatMap { try preview.withLabelCounts($0) } ?? preview
        let report = PlanReport(prepared)
        if dryRun {
            if json { print(try report.json()) } else { print(report.summary) }
            return
        }
        if !prepared.noise.isPrivate { warn("--seed given: the noise is reproducible and the output is NOT differentially private") }
        warn(report.plan)
        // A generation is a batch job: a slow answer (a loaded machine, the first step's M prompts) is
        // worth waiting for, and a dead server is noticed at once (connection refused) anyway.
        let connected = try await llm.connect(defaultTimeout: report.requestTimeoutSeconds(minimum: 600))
        do {
            try await ServerCapacity.check(prepared, report: report, model: connected.model)
        } catch {
            try? await connected.shutdown()
            throw error
        }
        let generation = LedgerGeneration(prepared: prepared, ledger: try openLedger(dataset: prepared.dataset))
        let start: GenerationStart
        do { start = try generation.begin(resume: resume) } catch {
            try? await connected.shutdown()
            throw error
        }
        if let resume {
            warn("resuming generation \(resume): \(start.tokensAlreadyReleased) tokens already released; their demonstrations are paid for in full")
        } else if let reservation = start.reservation {
            // Said before the first token, so that an operator whose process is killed (which prints
            // nothing more) knows what to resume.
            warn("generation \(reservation.id): its full cost is reserved; if this process stops, continue it with --resume \(reservation.id)")
        }
        let progress = ProgressBar()
        let outcome: GenerationOutcome
        do {
            outcome = try await generation.run(start, model: connected.model, onProgress: progress.update)
            progress.finish()
            try await connected.shutdown()
        } catch {
            progress.finish()
            try? await connected.shutdown()
            if let reservation = start.reservation {
                warn("generation \(reservation.id) failed; every demonstration it started stays charged in full. Resume with --resume \(reservation.id), or give it up with `fewshot budget abandon \(reservation.id)`")
            }
            throw error
        }
        let lines = try outcome.record.jsonLines(outcome.result.demonstrations)
        if let out { try lines.joined(separator: "\n").appending("\n").write(toFile: out, atomically: true, encoding: .utf8) }
        if json {
            print(lines.joined(separator: "\n"))
        } else {
            print(outcome.record.summary(outcome.result.demonstrations, elapsed: outcome.result.elapsed))
        }
    }

    /// The data set's released label counts in an existing store (read only), nil if there are none.
    func releasedLabelCounts(_ dataset: PrivateDataset) throws -> LabelCountRelease? {
        guard store.exists else { return nil }
        do { return try store.open().releasedLabelCounts(dataset: dataset.fingerprint) } catch StoreError.unknownDataset {
            return nil
        }
    }

    func openLedger(dataset: PrivateDataset) throws -> (any LedgerStore)? {
        if noStore {
            guard store.exists else { return nil }
            let ledger = try store.open()
            if try ledger.budget(fingerprint: dataset.fingerprint) != nil {
                let id = ledger.publicDatasetID(fingerprint: dataset.fingerprint).prefix(12)
                throw ValidationError("--no-store: data set \(id) has a privacy budget, so every generation must go through the ledger")
            }
            return nil
        }
        return try store.open()
    }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("fewshot: \(message)\n".utf8))
}

extension GroupCount: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}
