import ArgumentParser
import DPAccounting
import FewShotCore
import FewShotData
import FewShotEval
import FewShotGeneration
import FewShotStore
import Foundation

/// `fewshot eval`: the paper's Table 3 on any task with a train/test pair: zero-shot, epsilon = 0,
/// DP at each epsilon, epsilon = infinity and real examples, over seeds, raw and calibrated.
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate in-context classification with DP, public, real and no demonstrations (the paper's Table 3).",
        discussion: """
            Writes table.md, results.csv, results.json and accuracy-<task>.svg to --out, and caches every \
            (task, condition, seed) cell under --out/cells, so an interrupted run resumes where it stopped. \
            Progress goes to stderr. The paper's protocol: --test-count 1000 for AGNews, all 500 for TREC, \
            --seeds 0,1,2,3,4 and the task's default generation settings. The harness does not charge the \
            privacy ledger: a training file with a budget in the store (--store) is refused for the conditions \
            that read it (eps-<e>, eps-inf, real), and a test file with a budget for all conditions.
            """)

    @Option(name: .customLong("task"), parsing: .upToNextOption, help: "Task names in the prompts directory (or task file paths); one table row each.")
    var tasks: [String]

    @Option(parsing: .upToNextOption, help: "Training JSONL/CSV per task, in --task order (default: <data-dir>/<task>_train.jsonl).")
    var train: [String] = []

    @Option(parsing: .upToNextOption, help: "Test JSONL/CSV per task, in --task order (default: <data-dir>/<task>_test.jsonl).")
    var test: [String] = []

    @Option(help: "Directory holding <task>_train.jsonl and <task>_test.jsonl.")
    var dataDir: String = ProcessInfo.processInfo.environment["FEWSHOT_DATA"] ?? "data"

    @Option(help: "DP epsilons, comma-separated.")
    var epsilons: String = "1,2,4,8"

    @Option(help: "Conditions, comma-separated, from: zero-shot, eps-0, eps-<e>, eps-inf, real (default: all, with --epsilons).")
    var conditions: String?

    @Option(help: "Seeds, comma-separated: one run of each seeded condition per seed.")
    var seeds: String = "0,1,2,3,4"

    @Option(help: "Test examples per task, sampled with --subset-seed (default: all).")
    var testCount: Int?

    @Option(help: "Seed of the test subset (the same subset for every condition and seed).")
    var subsetSeed: UInt64 = 0

    @Option(help: "Top-k tokens read per classification request.")
    var classifyTopK: Int = 100

    @Flag(help: "Do not reuse the server's prompt cache across test examples (slower; for comparison).")
    var noPromptCache = false

    @Option(help: "Server slot that keeps the demonstrations' prompt cache.")
    var slot: Int = 0

    @Option(help: "Real training examples per label in the real-examples condition.")
    var shots: Int = 1

    @Option(help: "Target delta of the DP conditions (default: 1/|D_y| of the smallest label's released DP count, as fewshot gen).")
    var delta: Double?

    @Option(help: "G of the pool conditions pool-knn-<e> and pool-random-<e>: a DP pool of G disjoint groups (gen --groups), one set each, at the cost of one set.")
    var poolGroups: Int = 8

    @OptionGroup var generator: GeneratorOptions

    @Flag(help: "Seed the generator's noise with each run's seed: reproducible, and NOT private.")
    var reproducibleNoise = false

    @OptionGroup var prompts: PromptsOption

    @Option(help: "Output directory (results and the resume cache).")
    var out: String = "eval-out"

    @OptionGroup var llm: LLMOptions

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if !train.isEmpty, train.count != tasks.count { throw ValidationError("--train: give one file per --task (\(tasks.count)), got \(train.count)") }
        if !test.isEmpty, test.count != tasks.count { throw ValidationError("--test: give one file per --task (\(tasks.count)), got \(test.count)") }
        _ = try settings()
        if shots < 1 { throw ValidationError("--shots must be at least 1, got \(shots)") }
        if poolGroups < 1 { throw ValidationError("--pool-groups must be at least 1, got \(poolGroups)") }
        if let delta, !(delta > 0 && delta < 1) { throw ValidationError("--delta must be in (0, 1), got \(delta)") }
    }

    func settings() throws -> EvalSettings {
        let epsilonList = try epsilons.split(separator: ",").map { part -> Double in
            guard let value = Double(part.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite else {
                throw ValidationError("--epsilons: '\(part)' is not a positive number (use conditions eps-0 / eps-inf for 0 and infinity)")
            }
            return value
        }
        var chosen = EvalCondition.standard(epsilons: epsilonList)
        if let conditions {
            chosen = try conditions.split(separator: ",").map { part in
                let id = part.trimmingCharacters(in: .whitespaces)
                guard let condition = EvalCondition(id: id) else {
                    throw ValidationError("--conditions: unknown condition '\(id)'; use zero-shot, eps-0, eps-<epsilon>, eps-inf, real, pool-knn-<epsilon> or pool-random-<epsilon>")
                }
                return condition
            }
        }
        let seedList = try seeds.split(separator: ",").map { part -> UInt64 in
            guard let seed = UInt64(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds: '\(part)' is not a non-negative integer") }
            return seed
        }
        let settings = EvalSettings(
            conditions: chosen, seeds: seedList, testCount: testCount, subsetSeed: subsetSeed, topK: classifyTopK,
            cachePrompt: !noPromptCache, slot: slot)
        do { try settings.validate() } catch { throw ValidationError("\(error)") }
        return settings
    }

    func run() async throws {
        try await namingOptions(evaluate)
    }

    func evaluate() async throws {
        let settings = try settings()
        let directory = URL(fileURLWithPath: out)
        // Read every task's files and check them against the ledger before the LLM is contacted. Only
        // read: a store that does not exist holds no budgets, and eval does not create one.
        let store = storeOptions.exists ? try storeOptions.open() : nil
        let ledger = store.map(StoreLedger.init)
        var loaded: [(template: TaskTemplate, train: PrivateDataset, test: PrivateDataset)] = []
        for (index, name) in tasks.enumerated() {
            let template = try TaskFile.find(name, in: prompts.directory)
            guard template.kind == .classification else {
                throw ValidationError("--task \(name): an extraction task; the harness scores classification tasks only")
            }
            let trainURL = URL(fileURLWithPath: train.isEmpty ? "\(dataDir)/\(template.name)_train.jsonl" : train[index])
            let testURL = URL(fileURLWithPath: test.isEmpty ? "\(dataDir)/\(template.name)_test.jsonl" : test[index])
            let trainSet = try PrivateDataFile.load(trainURL, task: template)
            let testSet = try PrivateDataFile.load(testURL, task: template)
            try BudgetedDataRule.check(
                task: template.name, train: EvalDataFile(path: trainSet.source, fingerprint: trainSet.fingerprint),
                test: EvalDataFile(path: testSet.source, fingerprint: testSet.fingerprint), conditions: settings.conditions, ledger: ledger)
            loaded.append((template, trainSet, testSet))
        }
        // The first step of a partition-mode DP set sends M prompts at once (hundreds with the automatic
        // plan); the last is answered only after the server has read them all.
        let connected = try await llm.connect(defaultTimeout: 600)
        do {
            var evalTasks: [EvalTask] = []
            for (template, trainSet, testSet) in loaded {
                warn("eval: task \(template.name): \(trainSet.examples.count) training examples, \(testSet.examples.count) test examples")
                let (generation, plan) = generator.overrides.plannedSettings(
                    for: template, labels: template.labels.map(\.name), privacy: .noNoise, examplesPerLabel: trainSet.countsByLabel)
                if let plan { warn("eval: task \(template.name): \(plan.reason)") }
                let dpSource = GeneratedDemonstrationSource(
                    task: template, model: connected.model, privateData: trainSet.examples, settings: generation,
                    reproducibleNoise: reproducibleNoise, accountant: generator.noise.accountant.accountant, poolGroups: poolGroups,
                    delta: delta, progress: Evaluation.standardError)
                let source = TaskDemonstrationSource(
                    task: template, train: trainSet.examples, model: connected.model, shotsPerLabel: shots,
                    publicMaxTokens: generator.maxTokens, generator: dpSource)
                evalTasks.append(EvalTask(template: template, test: testSet.examples, demonstrations: source))
            }
            if reproducibleNoise { warn("--reproducible-noise: DP demonstrations use seeded noise and are NOT differentially private") }
            let evaluation = Evaluation(model: connected.model, settings: settings, outputDirectory: directory)
            let report = try await evaluation.run(evalTasks)
            let files = try report.write(to: directory)
            try await connected.shutdown()
            print(report.markdownTable())
            warn("eval: wrote \(files.map(\.path).joined(separator: ", "))")
        } catch {
            try? await connected.shutdown()
            throw error
        }
    }
}

/// The store's ledger as the evaluation harness reads it (budgets by content fingerprint).
struct StoreLedger: EvalLedger {
    let store: any LedgerStore

    func budget(ofFingerprint fingerprint: String) throws -> (epsilon: Double, delta: Double)? {
        try store.budget(fingerprint: fingerprint).map { (epsilon: $0.epsilon, delta: $0.delta) }
    }

    func publicDatasetID(fingerprint: String) -> String { store.publicDatasetID(fingerprint: fingerprint) }
}
