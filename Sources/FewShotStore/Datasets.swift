import DPAccounting
import Foundation
import GRDB

extension FewShotStore {
    /// Records a data set by fingerprint (and gives it its public id), or updates its name and label
    /// counts if already known.
    @discardableResult
    public func registerDataset(fingerprint: String, name: String, labelCounts: [String: Int]) throws -> DatasetRecord {
        try DatasetRecord.validate(fingerprint: fingerprint)
        let counts = String(decoding: try JSONCoding.encoder.encode(labelCounts), as: UTF8.self)
        let publicID = datasetKey.publicID(fingerprint: fingerprint)
        return try pool.write { db in
            try db.execute(sql: """
                INSERT INTO dataset (fingerprint, name, labelCounts, registered, publicID) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(fingerprint) DO UPDATE SET name = excluded.name, labelCounts = excluded.labelCounts
                """, arguments: [fingerprint, name, counts, Date(), publicID])
            return try Self.fetchDataset(db, fingerprint)!
        }
    }

    /// All registered data sets, by name.
    public func datasets() throws -> [DatasetRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM dataset ORDER BY name, fingerprint").map(Self.decodeDataset)
        }
    }

    /// The data set a user names: its public id, a unique prefix of it (4+ characters), or its
    /// registered name. Never by its content fingerprint, which does not leave the store: a caller
    /// that holds the data itself looks it up with ``dataset(fingerprint:)``.
    public func dataset(matching reference: String) throws -> DatasetRecord {
        try pool.read { db in try Self.resolvePublicDataset(db, reference) }
    }

    /// The registered data set with this content fingerprint (computed from the data by the caller), or nil.
    public func dataset(fingerprint: String) throws -> DatasetRecord? {
        try pool.read { db in try Self.fetchDataset(db, fingerprint) }
    }

    /// Sets (or replaces) the budget of a registered data set (`reference`: its fingerprint, public id,
    /// unique prefix of that, or name). A data set that is not registered is refused
    /// (``StoreError/unknownDataset(_:)``): register it first (``registerDataset(fingerprint:name:labelCounts:)``,
    /// which `fewshot budget set --data FILE --task T` and every generation do), so that no budget
    /// exists for a data set that was never read.
    public func setBudget(dataset reference: String, epsilon: Double, delta: Double) throws {
        let budget = PrivacyBudget(epsilon: epsilon, delta: delta)
        try budget.validate()
        try pool.write { db in
            let fingerprint = try Self.resolveDataset(db, reference).fingerprint
            try db.execute(sql: """
                INSERT INTO budget (dataset, epsilon, delta, updated) VALUES (?, ?, ?, ?)
                ON CONFLICT(dataset) DO UPDATE SET epsilon = excluded.epsilon, delta = excluded.delta, updated = excluded.updated
                """, arguments: [fingerprint, epsilon, delta, Date()])
        }
    }

    /// The budget set for a data set, or nil if it has none or is not registered. Cheap (no
    /// accounting): for checking that a run which skips the store is allowed to.
    public func budget(dataset reference: String) throws -> PrivacyBudget? {
        try pool.read { db in
            guard let dataset = try? Self.resolveDataset(db, reference) else { return nil }
            return try Self.fetchBudget(db, dataset.fingerprint)
        }
    }

    /// The budget of the data set with this content fingerprint, or nil if it has none or is not
    /// registered: for a run that reads the data but not through the ledger (`gen --no-store`, `eval`).
    public func budget(fingerprint: String) throws -> PrivacyBudget? {
        try pool.read { db in try Self.fetchBudget(db, fingerprint) }
    }

    static func fetchDataset(_ db: Database, _ fingerprint: String) throws -> DatasetRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM dataset WHERE fingerprint = ?", arguments: [fingerprint]).map(decodeDataset)
    }

    static func fetchBudget(_ db: Database, _ fingerprint: String) throws -> PrivacyBudget? {
        try Row.fetchOne(db, sql: "SELECT epsilon, delta FROM budget WHERE dataset = ?", arguments: [fingerprint])
            .map { PrivacyBudget(epsilon: $0["epsilon"], delta: $0["delta"]) }
    }

    /// A data set by its exact content fingerprint (callers inside fewshot that hold the data), else
    /// as ``resolvePublicDataset(_:_:)``.
    static func resolveDataset(_ db: Database, _ reference: String) throws -> DatasetRecord {
        if let exact = try fetchDataset(db, reference) { return exact }
        return try resolvePublicDataset(db, reference)
    }

    /// A data set by public id, unique public-id prefix (4+ characters) or name: what users give.
    static func resolvePublicDataset(_ db: Database, _ reference: String) throws -> DatasetRecord {
        let rows = try Row.fetchAll(db, sql: """
            SELECT * FROM dataset WHERE publicID = ? OR name = ? OR (length(?) >= 4 AND substr(publicID, 1, length(?)) = ?)
            """, arguments: [reference.lowercased(), reference, reference, reference, reference.lowercased()])
        return try pickDataset(rows.map(decodeDataset), reference)
    }

    static func decodeDataset(_ row: Row) throws -> DatasetRecord {
        let counts: String = row["labelCounts"]
        return DatasetRecord(
            fingerprint: row["fingerprint"], publicID: row["publicID"], name: row["name"],
            labelCounts: try JSONCoding.decoder.decode([String: Int].self, from: Data(counts.utf8)),
            registered: row["registered"])
    }
}

/// One JSON configuration for everything the store serialises, so stored text is stable. Stored
/// dates keep full precision (seconds as a double); exported ones are ISO 8601 for people. An
/// infinite epsilon (the no-noise baseline) is written as the string "inf", which JSON can hold.
package enum JSONCoding {
    static let infinity = EpsilonJSON.encoding
    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = infinity
        return encoder
    }()
    package static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = EpsilonJSON.decoding
        return decoder
    }()

    package static func string<T: Encodable>(_ value: T, encoder: JSONEncoder = encoder) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    package static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }
}
