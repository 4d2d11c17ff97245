import FewShotCore
import FewShotData
import Foundation
import GRDB

extension FewShotStore {
    /// Stored demonstration sets, newest first (optionally of one data set). Their `dataset` is the
    /// data set's public id.
    public func demonstrationSets(dataset reference: String?) throws -> [DemonstrationSetRecord] {
        try pool.read { db in
            let fingerprint = try reference.map { try Self.resolveDataset(db, $0).fingerprint }
            return try String.fetchAll(db, sql: """
                SELECT record FROM demonstration_set WHERE (? IS NULL OR dataset = ?) ORDER BY created DESC, id
                """, arguments: [fingerprint, fingerprint]).map(publicRecord)
        }
    }

    /// The demonstration set whose id is `reference` or starts with it (at least 4 characters). Its
    /// `dataset` is the data set's public id.
    public func demonstrationSet(_ reference: String) throws -> DemonstrationSetRecord {
        try pool.read { db in try publicRecord(Self.resolveSet(db, reference).record) }
    }

    /// A stored record as it leaves the store: the ledger keeps the content fingerprint in it, callers
    /// see the public id.
    func publicRecord(_ stored: String) throws -> DemonstrationSetRecord {
        var record = try JSONCoding.decode(DemonstrationSetRecord.self, stored)
        record.dataset = datasetKey.publicID(fingerprint: record.dataset)
        return record
    }

    /// Deletes a demonstration set. Its privacy cost stays charged: the ledger keeps the generation.
    public func deleteDemonstrationSet(_ reference: String) throws {
        try pool.write { db in
            let id = try Self.resolveSet(db, reference).id
            try db.execute(sql: "DELETE FROM demonstration_set WHERE id = ?", arguments: [id])
        }
    }

    static func resolveSet(_ db: Database, _ reference: String) throws -> (id: String, record: String) {
        let rows = try Row.fetchAll(db, sql: """
            SELECT id, record FROM demonstration_set WHERE id = ? OR (length(?) >= 4 AND substr(id, 1, length(?)) = ?)
            """, arguments: [reference, reference, reference, reference.lowercased()])
        if let exact = rows.first(where: { $0["id"] == reference }) { return (exact["id"], exact["record"]) }
        switch rows.count {
        case 1: return (rows[0]["id"], rows[0]["record"])
        case 0: throw StoreError.unknownDemonstrationSet(reference)
        default: throw StoreError.unknownDemonstrationSet("\(reference) (ambiguous: \(rows.count) sets start with it)")
        }
    }
}

extension DemonstrationSetRecord {
    /// One line of an exported set: the demonstration plus what is needed to judge its privacy claim.
    func exportedLine(_ demonstration: Demonstration) -> DemonstrationLine {
        var line = DemonstrationLine(FewShotCore.Demonstration(writtenLabel: demonstration.label, text: demonstration.text, answer: demonstration.answer))
        line.set = id
        line.dataset = dataset
        line.task = task
        line.epsilon = epsilon
        line.delta = delta
        line.sigma = sigma
        line.mechanism = mechanism.rawValue
        line.sampling = sampling.description
        line.m = batches
        line.n = examplesPerBatch
        line.t = maxTokens
        line.model = model
        line.created = created
        line.accountant = accountant
        line.seeded = seeded
        // False when noise was seeded or epsilon is infinite: see ``isPrivate``.
        line.private = isPrivate
        return line
    }
}
