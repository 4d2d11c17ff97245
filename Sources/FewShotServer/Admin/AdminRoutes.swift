import DPAccounting
import FewShotCore
import FewShotStore
import Foundation
import Hummingbird

/// The admin API over the store, mounted under `/admin` behind the admin key:
///
/// - `GET /admin/sets` — demonstration sets (metadata, no texts); `GET /admin/sets/{id}` — one set
///   with its demonstrations (DP output, public); `DELETE /admin/sets/{id}` — delete a set (its
///   privacy cost stays charged).
/// - `GET /admin/budgets` — every data set's budget and spending; `GET /admin/budgets/{dataset}`;
///   `PUT /admin/budgets/{dataset}` with `{"epsilon": e, "delta": d}` — set a budget.
///
/// Guarantees: spending is whatever the ledger's accountant derives from stored events (this code
/// adds no epsilons); data sets appear by public id, name and label counts only — never their text,
/// nor their content fingerprint, which is not accepted as `{dataset}` either (a caller could test
/// guesses of a data set's content against it).
/// Store work runs off the server's event loops and request tasks' threads.
public struct AdminRoutes<Context: RequestContext>: Sendable {
    let store: any LedgerStore
    let accountant: DefaultAccountant
    let metrics: ServerMetrics

    public init(store: any LedgerStore, accountant: DefaultAccountant = DefaultAccountant(), metrics: ServerMetrics) {
        self.store = store
        self.accountant = accountant
        self.metrics = metrics
    }

    public func add(to group: RouterGroup<Context>) {
        group.get("sets") { _, _ in
            try await Self.offload { try store.demonstrationSets().map(SetSummary.init) }
        }
        group.get("sets/{id}") { _, context in
            let id = try context.parameters.require("id")
            return try await Self.offload { SetDetail(try store.demonstrationSet(id)) }
        }
        group.delete("sets/{id}") { _, context in
            let id = try context.parameters.require("id")
            return try await Self.offload {
                let record = try store.demonstrationSet(id)
                try store.deleteDemonstrationSet(record.id)
                return Deleted(deleted: record.id)
            }
        }
        group.get("budgets") { _, _ in
            try await Self.offload { try store.datasets().map { try budgetView($0) } }
        }
        group.get("budgets/{dataset}") { _, context in
            let dataset = try context.parameters.require("dataset")
            return try await Self.offload { try budgetView(store.dataset(matching: dataset)) }
        }
        group.put("budgets/{dataset}") { request, context in
            let dataset = try context.parameters.require("dataset")
            let wanted = try await request.adminBody(BudgetRequest.self) { _ in
                OpenAIError.invalidRequest("body must be {\"epsilon\": number >= 0, \"delta\": number in (0, 1)}", code: "invalid_budget")
            }
            guard wanted.epsilon.isFinite, wanted.epsilon >= 0 else { throw OpenAIError.invalidRequest("'epsilon' must be a finite number >= 0", code: "invalid_budget") }
            guard wanted.delta > 0, wanted.delta < 1 else { throw OpenAIError.invalidRequest("'delta' must be in (0, 1)", code: "invalid_budget") }
            return try await Self.offload {
                let record = try store.dataset(matching: dataset)
                try store.setBudget(dataset: record.fingerprint, epsilon: wanted.epsilon, delta: wanted.delta)
                return try budgetView(record)
            }
        }
    }

    /// Recomputes `fewshot_epsilon_spent` for every data set from the ledger.
    public func refreshEpsilonMetrics() async throws {
        try await Self.offload {
            for dataset in try store.datasets() { _ = try budgetView(dataset) }
        }
    }

    func budgetView(_ dataset: DatasetRecord) throws -> BudgetView {
        let status = try store.budgetStatus(dataset: dataset.fingerprint, accountant: accountant)
        metrics.setEpsilonSpent(dataset: String(status.dataset.publicID.prefix(16)), epsilon: status.spentEpsilon)
        return BudgetView(status)
    }

    /// Runs blocking store and accounting work on a Dispatch queue, mapping store errors to statuses.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await mappingStoreErrors { try await blocking(work) }
    }

    /// Runs `body`, turning store and budget errors into OpenAI-style errors with a fitting status.
    static func mappingStoreErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw Self.httpError(error)
        } catch let error as BudgetExceeded {
            throw OpenAIError(status: .conflict, message: "\(error)", type: "invalid_request_error", code: "budget_exceeded")
        }
    }

    static func httpError(_ error: StoreError) -> OpenAIError {
        switch error {
        case .unknownDataset, .unknownDemonstrationSet, .unknownGeneration:
            return OpenAIError(status: .notFound, message: error.description, type: "invalid_request_error", code: "not_found")
        case .ambiguousDataset:
            return OpenAIError(status: .conflict, message: error.description, type: "invalid_request_error", code: "ambiguous")
        case .invalidFingerprint, .invalidBudget:
            return .invalidRequest(error.description, code: "invalid_request")
        default:
            return OpenAIError(status: .internalServerError, message: error.description, type: "server_error", code: "store_error")
        }
    }
}

struct SetSummary: ResponseEncodable {
    var id: String
    var dataset: String
    var task: String
    var labels: [String]
    var demonstrations: Int
    var epsilon: Double
    var delta: Double
    var mechanism: NoiseMechanism
    var sampling: SetSampling
    var model: String
    var created: Date
    /// False when noise was seeded or epsilon is infinite: see ``DemonstrationSetRecord/isPrivate``.
    var `private`: Bool

    init(_ r: DemonstrationSetRecord) {
        id = r.id
        dataset = r.dataset
        task = r.task
        labels = r.labels
        demonstrations = r.demonstrations.count
        epsilon = r.epsilon
        delta = r.delta
        mechanism = r.mechanism
        sampling = r.sampling
        model = r.model
        created = r.created
        `private` = r.isPrivate
    }
}

struct SetDetail: ResponseEncodable {
    var set: SetSummary
    var items: [DemonstrationSetRecord.Demonstration]

    init(_ r: DemonstrationSetRecord) {
        set = SetSummary(r)
        items = r.demonstrations
    }
}

struct Deleted: ResponseEncodable {
    var deleted: String
}

struct BudgetRequest: Decodable {
    var epsilon: Double
    var delta: Double
}

struct BudgetView: ResponseEncodable {
    struct Label: Encodable {
        var label: String?
        /// The released DP count of the label (nil before its first generation), never the exact one.
        var examples: Int?
        var spentEpsilon: Double
        var committedEpsilon: Double
    }

    var dataset: String
    var name: String
    var budgetEpsilon: Double?
    var budgetDelta: Double?
    var delta: Double
    var spentEpsilon: Double
    var committedEpsilon: Double
    var remainingEpsilon: Double?
    var activeGenerations: Int
    var accountant: String
    var labels: [Label]

    init(_ s: BudgetStatus) {
        dataset = s.dataset.publicID
        name = s.dataset.name
        budgetEpsilon = s.budget?.epsilon
        budgetDelta = s.budget?.delta
        delta = s.delta
        spentEpsilon = s.spentEpsilon
        committedEpsilon = s.committedEpsilon
        remainingEpsilon = s.remainingEpsilon
        activeGenerations = s.activeGenerations
        accountant = s.accountant
        labels = s.labels.map { l in
            Label(label: l.label, examples: l.label.flatMap { s.releasedLabelCounts?[$0] }, spentEpsilon: l.spentEpsilon, committedEpsilon: l.committedEpsilon)
        }
    }
}
