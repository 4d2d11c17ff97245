import DPAccounting
import Foundation
import GRDB

extension FewShotStore {
    /// Records a data set by fingerprint, or updates its name and label counts if already known.
    @discardableResult
    public func registerDataset(fingerprint: String, name: String, labelCounts: [String: Int]) throws -> DatasetRecord {
        try DatasetRecord.validate(fingerprint: fingerprint)
        let counts = String(decoding: try JSONCoding.encoder.encode(labelCounts), as: UTF8.self)
        return try pool.write { db in
            try db.execute(sql: """
                INSERT INTO dataset (fingerprint, name, labelCounts, registered) VALUES (?, ?, ?, ?)
                ON CONFLICT(fingerprint) DO UPDATE SET name = excluded.name, labelCounts = excluded.labelCounts
                """, arguments: [fingerprint, name, counts, Date()])
            return try Self.fetchDataset(db, fingerprint)!
        }
    }

    /// All registered data sets, by name.
    public func datasets() throws -> [DatasetRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM dataset ORDER BY name, fingerprint").map(Self.decodeDataset)
        }
    }

    /// The data set whose fingerprint is `reference`, starts with it, or whose name is `reference`.
    public func dataset(matching reference: String) throws -> DatasetRecord {
        try pool.read { db in try Self.resolveDataset(db, reference) }
    }

    /// Sets (or replaces) the budget of a data set. A full fingerprint not yet registered is
    /// registered with no label counts, so a budget can be set before the first generation.
    public func setBudget(dataset reference: String, epsilon: Double, delta: Double) throws {
        let budget = PrivacyBudget(epsilon: epsilon, delta: delta)
        try budget.validate()
        try pool.write { db in
            let fingerprint: String
            if let known = try? Self.resolveDataset(db, reference) {
                fingerprint = known.fingerprint
            } else {
                try DatasetRecord.validate(fingerprint: reference)
                try db.execute(sql: "INSERT INTO dataset (fingerprint, name, labelCounts, registered) VALUES (?, ?, '{}', ?)",
                               arguments: [reference, reference, Date()])
                fingerprint = reference
            }
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

    static func fetchDataset(_ db: Database, _ fingerprint: String) throws -> DatasetRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM dataset WHERE fingerprint = ?", arguments: [fingerprint]).map(decodeDataset)
    }

    static func fetchBudget(_ db: Database, _ fingerprint: String) throws -> PrivacyBudget? {
        try Row.fetchOne(db, sql: "SELECT epsilon, delta FROM budget WHERE dataset = ?", arguments: [fingerprint])
            .map { PrivacyBudget(epsilon: $0["epsilon"], delta: $0["delta"]) }
    }

    static func resolveDataset(_ db: Database, _ reference: String) throws -> DatasetRecord {
        if let exact = try fetchDataset(db, reference) { return exact }
        let rows = try Row.fetchAll(db, sql: """
            SELECT * FROM dataset WHERE name = ? OR (length(?) >= 4 AND substr(fingerprint, 1, length(?)) = ?)
            """, arguments: [reference, reference, reference, reference.lowercased()])
        let matches = try rows.map(decodeDataset)
        switch matches.count {
        case 1: return matches[0]
        case 0: throw StoreError.unknownDataset(reference)
        default: throw StoreError.ambiguousDataset(reference, matches: matches.map { "\($0.name) (\($0.fingerprint.prefix(12)))" })
        }
    }

    static func decodeDataset(_ row: Row) throws -> DatasetRecord {
        let counts: String = row["labelCounts"]
        return DatasetRecord(
            fingerprint: row["fingerprint"], name: row["name"],
            labelCounts: try JSONCoding.decoder.decode([String: Int].self, from: Data(counts.utf8)),
            registered: row["registered"])
    }
}

/// One JSON configuration for everything the store serialises, so stored text is stable. Stored
/// dates keep full precision (seconds as a double); exported ones are ISO 8601 for people. An
/// infinite epsilon (the no-noise baseline) is written as the string "inf", which JSON can hold.
enum JSONCoding {
    static let infinity = EpsilonJSON.encoding
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = infinity
        return encoder
    }()
    static let exportEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = infinity
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = EpsilonJSON.decoding
        return decoder
    }()

    static func string<T: Encodable>(_ value: T, encoder: JSONEncoder = encoder) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }
}
