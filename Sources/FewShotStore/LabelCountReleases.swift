import DPAccounting
import FewShotCore
import Foundation
import GRDB

/// The DP label counts of each data set (``LabelCountRelease``): released at most once, charged to
/// the ledger in the same transaction, then reused by every generation on the data set.
///
/// Guarantees: a data set's counts are drawn once (concurrent first generations, in any process,
/// are serialized by the write transaction, and the loser reads the winner's counts); the release's
/// event is part of the data set's charges from then on (``charges(_:dataset:)``), composed into
/// every label; a release that does not fit the budget is refused with ``BudgetExceeded`` and
/// nothing is drawn or recorded. The exact counts never leave the store through this API.
extension FewShotStore {
    /// The released label counts of a data set (fingerprint or public id), nil before the first release.
    public func releasedLabelCounts(dataset reference: String) throws -> LabelCountRelease? {
        try pool.read { db in
            let dataset = try Self.resolveDataset(db, reference)
            return try Self.fetchLabelCountRelease(db, dataset.fingerprint)
        }
    }

    /// The data set's released label counts, releasing them first when there are none: then the
    /// release's event (a Gaussian of `noiseMultiplier`) is checked against the budget, and only if
    /// it fits is `draw` called (once, inside the transaction) and its result stored and charged.
    public func releaseLabelCounts(
        dataset reference: String, noiseMultiplier: Double,
        accountant: any PrivacyAccountant, draw: (Double) -> LabelCountRelease
    ) throws -> LabelCountRelease {
        if let known = try releasedLabelCounts(dataset: reference) { return known }
        let charge = LedgerCharge.labelCountRelease(noiseMultiplier: noiseMultiplier)
        // A release recorded meanwhile by another process changes the ledger's charges, so the check
        // starts over and the transaction below finds it.
        return try withBudgetCheck(dataset: reference, adding: [charge], accountant: accountant) { db, dataset in
            if let known = try Self.fetchLabelCountRelease(db, dataset.fingerprint) { return known }
            let release = draw(noiseMultiplier)
            precondition(release.isReleased && release.noiseMultiplier == noiseMultiplier, "only a DP release of the stated noise is stored")
            try db.execute(
                sql: "INSERT INTO label_count_release (dataset, counts, noiseMultiplier, released) VALUES (?, ?, ?, ?)",
                arguments: [dataset.fingerprint, try JSONCoding.string(release.counts), release.noiseMultiplier, Date()])
            return release
        }
    }

    static func fetchLabelCountRelease(_ db: Database, _ fingerprint: String) throws -> LabelCountRelease? {
        guard let row = try Row.fetchOne(db, sql: "SELECT counts, noiseMultiplier FROM label_count_release WHERE dataset = ?", arguments: [fingerprint]) else {
            return nil
        }
        let counts = try JSONCoding.decode([String: Int].self, row["counts"])
        return LabelCountRelease(counts: counts, noiseMultiplier: row["noiseMultiplier"], isReleased: true)
    }

    /// The ledger charge of a data set's label-count release (nil before it), for ``charges(_:dataset:)``.
    static func labelCountCharge(_ db: Database, _ fingerprint: String) throws -> SlotCharge? {
        try fetchLabelCountRelease(db, fingerprint).map(SlotCharge.init(labelCountRelease:))
    }
}
