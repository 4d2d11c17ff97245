import Foundation

/// Errors the store reports. Each message names the file, record or argument at fault and, where
/// there is one, the fix. None of them ever contains private example text.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The file exists but is not an SQLite database, or SQLite reports it corrupt. The file was not modified.
    case notAStore(path: String, reason: String)
    /// The file is an SQLite database that belongs to another program. The file was not modified.
    case foreignDatabase(path: String, applicationID: Int32, tableCount: Int)
    /// The store was written by a newer fewshot whose schema this one does not know.
    case newerSchema(path: String)
    /// A data set fingerprint that is not 64 lowercase hexadecimal digits (a SHA-256).
    case invalidFingerprint(String)
    case unknownDataset(String)
    case ambiguousDataset(String, matches: [String])
    case unknownGeneration(String)
    case unknownDemonstrationSet(String)
    /// The generation is not in a state that allows the operation (for example a checkpoint after `complete`).
    case generationNotActive(id: String, status: GenerationStatus, operation: String)
    /// Another live process is running this generation.
    case generationOwnedByLiveProcess(id: String, host: String, pid: Int32)
    case invalidPlan(String)
    case invalidCheckpoint(String)
    case invalidBudget(String)
    /// The accountant cannot account for an event exactly; the ledger refuses rather than guess.
    case unsupportedEvent(accountant: String, event: String)
    /// The store's secret, which makes the data sets' public ids, is missing or not 32 bytes.
    case damagedSecret

    public var description: String {
        switch self {
        case let .notAStore(path, reason):
            return "\(path) is not a fewshot store (\(reason)); the file was left untouched. Pass another path with --store or FEWSHOT_STORE."
        case let .foreignDatabase(path, applicationID, tableCount):
            return "\(path) is an SQLite database of another program (application_id \(applicationID), \(tableCount) schema objects); the file was left untouched. Pass another path with --store or FEWSHOT_STORE."
        case let .newerSchema(path):
            return "\(path) was written by a newer fewshot (unknown schema migrations); upgrade fewshot to use it."
        case let .invalidFingerprint(value):
            return "data set fingerprint '\(value.prefix(80))' is not a SHA-256 (64 lowercase hex digits)"
        case let .unknownDataset(value):
            return "no data set '\(value.prefix(80))' in the store: give its id as `fewshot budget show` lists it, a unique prefix of it (4+ characters) "
                + "or its registered name; a data set is registered by its first generation or by `fewshot budget set --data FILE --task T`"
        case let .ambiguousDataset(value, matches):
            return "data set '\(value)' matches several data sets: \(matches.joined(separator: ", ")); give more of the id"
        case let .unknownGeneration(id):
            return "no generation '\(id)' in the store"
        case let .unknownDemonstrationSet(id):
            return "no demonstration set '\(id)' in the store"
        case let .generationNotActive(id, status, operation):
            return "generation \(id) is \(status); cannot \(operation)"
        case let .generationOwnedByLiveProcess(id, host, pid):
            return "generation \(id) is being run by live process \(pid) on \(host)"
        case let .invalidPlan(reason):
            return "invalid generation plan: \(reason)"
        case let .invalidCheckpoint(reason):
            return "invalid checkpoint: \(reason)"
        case let .invalidBudget(reason):
            return "invalid privacy budget: \(reason)"
        case let .unsupportedEvent(accountant, event):
            return "accountant '\(accountant)' cannot account for \(event) exactly; refusing to guess its cost"
        case .damagedSecret:
            return "the store's secret (table store_secret) is missing or damaged, so data set ids cannot be made; restore the store file from a backup"
        }
    }

    public var errorDescription: String? { description }
}

/// A generation was refused because its planned cost does not fit in what is left of the data
/// set's budget. Nothing was recorded and no token may be released.
public struct BudgetExceeded: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// The data set's public id.
    public var dataset: String
    public var datasetName: String
    /// The budget's epsilon and delta; every epsilon below is at this delta.
    public var budgetEpsilon: Double
    public var delta: Double
    /// Epsilon of everything already spent or reserved on the data set.
    public var committedEpsilon: Double
    /// What is left: `budgetEpsilon - committedEpsilon`, never below zero.
    public var remainingEpsilon: Double
    /// Epsilon of the refused generation's planned cost on its own.
    public var askedEpsilon: Double
    /// Epsilon the data set would reach with the refused generation composed in.
    public var resultingEpsilon: Double

    public var description: String {
        func f(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "infinite" }
        return "privacy budget of data set \(datasetName) (\(dataset.prefix(12))) would be exceeded: "
            + "\(f(remainingEpsilon)) epsilon left at delta=\(f(delta)) of a budget of \(f(budgetEpsilon)) "
            + "(\(f(committedEpsilon)) already spent or reserved); this generation asks \(f(askedEpsilon)) epsilon "
            + "on its own and would bring the total to \(f(resultingEpsilon)). Nothing was reserved."
    }

    public var errorDescription: String? { description }
}
