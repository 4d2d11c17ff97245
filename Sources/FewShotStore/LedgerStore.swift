import DPAccounting
import FewShotCore
import FewShotData
import Foundation

/// The operations of a fewshot store, whichever database holds it: data sets and their budgets, the
/// privacy-budget ledger (reserve, checkpoint, complete, abandon, resume), demonstration sets and jobs.
/// ``FewShotStore`` keeps them in an embedded SQLite file (the default); `FewShotStorePostgres` in a
/// PostgreSQL database that several processes and hosts share.
///
/// Guarantees every implementation gives (the store test suite runs against each):
/// - Check-and-reserve is atomic across every process using the store: concurrent reservations on
///   one data set never together exceed its budget; a refused one records nothing (``BudgetExceeded``).
/// - A checkpoint is durable before it returns; a token not checkpointed was not released.
/// - A generation whose owner is gone (a process that ended, or a lease that expired) is marked
///   failed and can be resumed or abandoned from any process; its started demonstrations stay charged.
/// - Content fingerprints never leave the store: records and errors name data sets by public id.
public protocol LedgerStore: AnyObject, Sendable {
    /// Where the store is, as it can be shown (a file path, or a URL without secrets).
    var location: String { get }

    // Data sets and budgets (see Datasets.swift).
    @discardableResult
    func registerDataset(fingerprint: String, name: String, labelCounts: [String: Int]) throws -> DatasetRecord
    func datasets() throws -> [DatasetRecord]
    func dataset(matching reference: String) throws -> DatasetRecord
    func dataset(fingerprint: String) throws -> DatasetRecord?
    func setBudget(dataset reference: String, epsilon: Double, delta: Double) throws
    func budget(dataset reference: String) throws -> PrivacyBudget?
    func budget(fingerprint: String) throws -> PrivacyBudget?
    func publicDatasetID(fingerprint: String) -> String

    // Label counts (see LabelCountReleases.swift).
    func releasedLabelCounts(dataset reference: String) throws -> LabelCountRelease?
    func releaseLabelCounts(
        dataset reference: String, noiseMultiplier: Double, accountant: any PrivacyAccountant, draw: (Double) -> LabelCountRelease
    ) throws -> LabelCountRelease

    // The ledger (see PrivacyLedger.swift).
    func reserve(dataset reference: String, plan: GenerationPlan, accountant: any PrivacyAccountant, job: String?, seededNoise: Bool) throws -> Reservation
    func checkpoint(_ reservation: Reservation, demonstration position: Int, released: [Token], finished: Bool) throws
    func checkpoint(_ reservation: Reservation, demonstration position: Int, released: [Token], finished: Bool) async throws
    @discardableResult
    func complete(_ reservation: Reservation, demonstrations record: DemonstrationSetRecord) throws -> DemonstrationSetRecord
    /// Gives up a generation that is failed or run by this process (id or unique prefix): every
    /// started demonstration (finished or interrupted mid-way) stays charged in full, one never started
    /// is returned.
    @discardableResult
    func abandon(generation reference: String) throws -> Reservation
    func markFailed(_ reservation: Reservation, reason: String) throws
    func resumable(dataset reference: String?) throws -> [ResumableGeneration]
    func resume(generation reference: String, seededNoise: Bool) throws -> ResumableGeneration
    func subsampleKey(generation id: String) throws -> Data
    func budgetStatus(dataset reference: String, accountant: any PrivacyAccountant, delta: Double?) throws -> BudgetStatus

    // Demonstration sets and jobs (see DemonstrationSets.swift, GenerationJobs.swift).
    func demonstrationSets(dataset reference: String?) throws -> [DemonstrationSetRecord]
    func demonstrationSet(_ reference: String) throws -> DemonstrationSetRecord
    func deleteDemonstrationSet(_ reference: String) throws
    func generationJobs() throws -> [GenerationJobRecord]
    func generationJob(_ reference: String) throws -> GenerationJobRecord
    /// Sets a running job's cancel flag for the process that runs it; false if the job is not running.
    func requestCancel(generation reference: String) throws -> Bool
    /// Whether generation `id` is running and its cancel flag is set: one read, for the runner's poll.
    func cancelRequested(generation id: String) throws -> Bool

    /// Releases the store's connections; it must not be used afterwards.
    func close() throws
}

/// The defaults of the protocol's parameters, as ``FewShotStore`` has them.
extension LedgerStore {
    public func releaseLabelCounts(
        dataset reference: String, accountant: any PrivacyAccountant, draw: (Double) -> LabelCountRelease
    ) throws -> LabelCountRelease {
        try releaseLabelCounts(dataset: reference, noiseMultiplier: LabelCountRelease.defaultNoiseMultiplier, accountant: accountant, draw: draw)
    }

    public func reserve(dataset reference: String, plan: GenerationPlan, accountant: any PrivacyAccountant) throws -> Reservation {
        try reserve(dataset: reference, plan: plan, accountant: accountant, job: nil, seededNoise: false)
    }

    public func reserve(dataset reference: String, plan: GenerationPlan, accountant: any PrivacyAccountant, job: String?) throws -> Reservation {
        try reserve(dataset: reference, plan: plan, accountant: accountant, job: job, seededNoise: false)
    }

    public func reserve(dataset reference: String, plan: GenerationPlan, accountant: any PrivacyAccountant, seededNoise: Bool) throws -> Reservation {
        try reserve(dataset: reference, plan: plan, accountant: accountant, job: nil, seededNoise: seededNoise)
    }

    public func abandon(_ reservation: Reservation) throws { try abandon(generation: reservation.id) }

    public func resumable() throws -> [ResumableGeneration] { try resumable(dataset: nil) }

    public func resume(generation reference: String) throws -> ResumableGeneration { try resume(generation: reference, seededNoise: false) }

    public func budgetStatus(dataset reference: String, accountant: any PrivacyAccountant) throws -> BudgetStatus {
        try budgetStatus(dataset: reference, accountant: accountant, delta: nil)
    }

    public func demonstrationSets() throws -> [DemonstrationSetRecord] { try demonstrationSets(dataset: nil) }

    /// The set as JSON Lines: one ``DemonstrationLine`` per demonstration, with the set's metadata.
    public func exportJSONL(_ reference: String) throws -> String {
        let set = try demonstrationSet(reference)
        return DemonstrationLine.file(try set.demonstrations.map { try DemonstrationLine.encoded(set.exportedLine($0)) })
    }
}

extension FewShotStore: LedgerStore {
    public var location: String { path }
}
