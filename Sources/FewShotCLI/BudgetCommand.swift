import ArgumentParser
import DPAccounting
import FewShotData
import FewShotStore
import Foundation

/// `fewshot budget`: show and set the privacy budget of private data sets.
struct Budget: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Show or set the privacy budget (epsilon, delta) of private data sets.",
        subcommands: [Show.self, SetBudget.self, Abandon.self])

    /// `fewshot budget show [DATASET]`
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show budget, spent and reserved epsilon per data set and label (composed from the ledger's events).")

        @Argument(help: "Data set id (as listed here), a prefix of it (4+ characters) or its registered name. All data sets if omitted.")
        var dataset: String?

        @Option(name: .long, help: "Report epsilon at this delta for data sets without a budget (default: 1 / number of examples).")
        var delta: Double?

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if let delta, !(delta > 0 && delta < 1) { throw ValidationError("--delta must be in (0, 1), got \(delta)") }
        }

        func run() throws {
            let store = try storeOptions.open()
            let datasets = try dataset.map { [try store.dataset(matching: Budget.reference($0))] } ?? store.datasets()
            if datasets.isEmpty {
                print("No data sets in \(store.location).")
                return
            }
            let accountant = DefaultAccountant()
            for record in datasets {
                let status = try store.budgetStatus(dataset: record.fingerprint, accountant: accountant, delta: delta)
                print(Self.render(status))
                for generation in try store.resumable(dataset: record.fingerprint) {
                    let released = generation.progress.map { "\($0.released.count)/\($0.maxTokens)" }.joined(separator: " ")
                    print("  resumable  \(generation.reservation.id)  tokens released \(released)  (\(generation.failureReason)); resume it or `fewshot budget abandon \(generation.reservation.id.prefix(8))`")
                }
            }
        }

        static func render(_ status: BudgetStatus) -> String {
            var lines = ["\(status.dataset.name)  \(status.dataset.publicID)"]
            if let budget = status.budget {
                lines.append("  budget     epsilon \(EpsilonText.format(budget.epsilon))  delta \(EpsilonText.format(budget.delta))")
            } else {
                lines.append("  budget     none (generations are recorded but never refused); epsilon at delta \(EpsilonText.format(status.delta))")
            }
            lines.append("  spent      epsilon \(EpsilonText.format(status.spentEpsilon))")
            lines.append("  committed  epsilon \(EpsilonText.format(status.committedEpsilon))  (spent + reserved by \(status.activeGenerations) running or resumable generations)")
            if let remaining = status.remainingEpsilon { lines.append("  remaining  epsilon \(EpsilonText.format(remaining))") }
            for label in status.labels {
                let count = label.label.flatMap { status.dataset.labelCounts[$0] }.map { " (\($0) examples)" } ?? ""
                lines.append("    label \(label.label ?? "(none)")\(count): spent \(EpsilonText.format(label.spentEpsilon)), committed \(EpsilonText.format(label.committedEpsilon))")
            }
            lines.append("  accountant \(status.accountant)")
            return lines.joined(separator: "\n")
        }
    }

    /// A data set argument as the ledger knows it: a path to an existing file is resolved as `--data`
    /// resolves it (against the current directory), since `fewshot gen` registers the data set under
    /// that path; anything else (a fingerprint, a prefix, a name) is kept as given.
    static func reference(_ argument: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), !isDirectory.boolValue else { return argument }
        return URL(fileURLWithPath: argument).path
    }

    /// `fewshot budget set DATASET --epsilon E --delta D`, or `fewshot budget set --data FILE --task T ...`
    struct SetBudget: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set the total (epsilon, delta) allowed over everything ever generated from a data set.",
            discussion: """
                Name a registered data set (its id as `fewshot budget show` lists it, a unique prefix, or its \
                name), or give the private data file with --data and --task: it is read and fingerprinted as \
                `fewshot gen` reads it and registered, so its budget is in place before the first generation.
                """)

        @Argument(help: "Data set id (as `fewshot budget show` lists it), a prefix of it (4+ characters), or its registered name.")
        var dataset: String?

        @Option(help: "The private data file (JSONL or CSV) to register and set the budget of, read as `fewshot gen --data` reads it.")
        var data: String?

        @Option(help: "Task of --data (a name in the prompts directory or a task file path), needed to read its labels.")
        var task: String?

        @OptionGroup var prompts: PromptsOption

        @Option(name: .long, help: "Total epsilon allowed (>= 0).")
        var epsilon: Double

        @Option(name: .long, help: "Delta the budget is measured at, in (0, 1); commonly below 1 / number of examples.")
        var delta: Double

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            guard epsilon.isFinite, epsilon >= 0 else { throw ValidationError("--epsilon must be a finite number >= 0, got \(epsilon)") }
            guard delta > 0, delta < 1 else { throw ValidationError("--delta must be in (0, 1), got \(delta)") }
            switch (dataset, data, task) {
            case (nil, nil, _): throw ValidationError("name the data set (its id or name), or give its file with --data FILE --task T")
            case (.some, .some, _): throw ValidationError("give either a data set id/name or --data FILE, not both")
            case (nil, .some, nil): throw ValidationError("--data needs --task to read the file's labels (as for `fewshot gen`)")
            case (.some, nil, .some): throw ValidationError("--task is only for --data FILE")
            default: break
            }
        }

        func run() throws {
            let store = try storeOptions.open()
            let record: DatasetRecord
            if let data, let task {
                // Read exactly as `fewshot gen --data` does (a relative path is relative to the working
                // directory), so the fingerprint is the one its generations are charged to.
                let template = try TaskFile.find(task, in: prompts.directory)
                let file = try PrivateDataFile.load(URL(fileURLWithPath: data), task: template)
                record = try store.registerDataset(fingerprint: file.fingerprint, name: file.source, labelCounts: file.countsByLabel)
            } else {
                record = try store.dataset(matching: Budget.reference(dataset ?? ""))
            }
            try store.setBudget(dataset: record.fingerprint, epsilon: epsilon, delta: delta)
            let status = try store.budgetStatus(dataset: record.fingerprint, accountant: DefaultAccountant())
            print(Show.render(status))
            if let budget = status.budget, status.committedEpsilon > budget.epsilon {
                print("note: more than this budget is already spent or reserved; further generations will be refused.")
            }
        }
    }

    /// `fewshot budget abandon GENERATION`
    struct Abandon: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up a failed generation: what it released stays charged, the rest of its reservation is returned.")

        @Argument(help: "Generation id (as shown by `fewshot budget show`) or a unique prefix of it.")
        var generation: String

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let store = try storeOptions.open()
            let abandoned = try store.abandon(generation: generation)
            print("Abandoned generation \(abandoned.id); every demonstration it started stays charged in full, the rest of its reservation is returned.")
            print(Show.render(try store.budgetStatus(dataset: abandoned.dataset, accountant: DefaultAccountant())))
        }
    }
}
