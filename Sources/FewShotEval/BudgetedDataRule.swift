import DPAccounting

/// The privacy ledger as the evaluation harness sees it: the budget of a data set, looked up by the
/// SHA-256 fingerprint of its content, and the public id to name it by. The store provides it.
public protocol EvalLedger: Sendable {
    /// The (epsilon, delta) budget of the data set with this content fingerprint; nil when it has none.
    func budget(ofFingerprint fingerprint: String) throws -> (epsilon: Double, delta: Double)?
    /// The id under which the data set is shown (never its fingerprint).
    func publicDatasetID(fingerprint: String) -> String
}

/// A data file the evaluation reads, as the ledger knows it.
public struct EvalDataFile: Sendable, Hashable {
    public var path: String
    public var fingerprint: String

    public init(path: String, fingerprint: String) {
        self.path = path
        self.fingerprint = fingerprint
    }
}

/// Which evaluations may read a data set that has a privacy budget.
///
/// The harness does not charge the ledger, so it must not read budgeted private text where that text
/// shapes what it reports. Guarantees:
/// - A training file with a budget is refused when any condition reads its examples: a DP epsilon
///   (its demonstrations spend budget), eps-inf (no noise) and real examples. zero-shot and eps-0
///   (the public prompt only) never read it and may run.
/// - A test file with a budget is refused for every condition: every accuracy is computed from its
///   examples without noise.
/// - Data sets without a budget run as before, with nothing recorded.
public enum BudgetedDataRule {
    /// Throws ``BudgetedDataRefusal`` when the run would read a budgeted data set; nil ledger: no budgets.
    public static func check(
        task: String, train: EvalDataFile, test: EvalDataFile, conditions: [EvalCondition], ledger: (any EvalLedger)?
    ) throws {
        guard let ledger else { return }
        let readingTrain = conditions.filter(\.readsTrainingData)
        if !readingTrain.isEmpty, let budget = try ledger.budget(ofFingerprint: train.fingerprint) {
            throw BudgetedDataRefusal(
                task: task, role: "training", file: train.path, dataset: ledger.publicDatasetID(fingerprint: train.fingerprint),
                budgetEpsilon: budget.epsilon, budgetDelta: budget.delta, conditions: readingTrain.map(\.id))
        }
        if let budget = try ledger.budget(ofFingerprint: test.fingerprint) {
            throw BudgetedDataRefusal(
                task: task, role: "test", file: test.path, dataset: ledger.publicDatasetID(fingerprint: test.fingerprint),
                budgetEpsilon: budget.epsilon, budgetDelta: budget.delta, conditions: conditions.map(\.id))
        }
    }
}

/// An evaluation refused because it would read a data set with a privacy budget without charging it.
/// Names the file, the data set, its budget, the conditions at fault and how to proceed.
public struct BudgetedDataRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public var task: String
    /// "training" or "test".
    public var role: String
    public var file: String
    /// The data set's public id.
    public var dataset: String
    public var budgetEpsilon: Double
    public var budgetDelta: Double
    public var conditions: [String]

    public var description: String {
        let fix = role == "training"
            ? "Run only zero-shot and eps-0 on it (--conditions zero-shot,eps-0), or point --store at a store that holds "
                + "no budget for it; to spend its budget on DP demonstrations, use `fewshot gen`, which charges the ledger"
            : "Evaluate on a test file that has no budget, or point --store at a store that holds none for it"
        return "eval: task \(task): the \(role) file \(file) is data set \(dataset.prefix(12)), which has a privacy budget "
            + "(epsilon \(EpsilonText.format(budgetEpsilon)), delta \(EpsilonText.format(budgetDelta))) in the store; "
            + "\(conditions.joined(separator: ", ")) would read its private examples without charging the ledger, so the run is refused. "
            + fix + "."
    }

}

extension EvalCondition {
    /// Whether the condition reads the private training examples: DP and no-noise generation and
    /// real examples do; zero-shot and eps-0 (the public prompt only) do not.
    public var readsTrainingData: Bool {
        switch self {
        case .zeroShot, .publicOnly: return false
        case .privateGenerated, .nonPrivateGenerated, .realExamples, .poolSelected, .poolRandom: return true
        }
    }
}
