import FewShotStore
import FewShotStorePostgres
import Foundation
import Testing

/// The store implementations the store suite runs against.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// SQLite always. PostgreSQL when `FEWSHOT_TEST_POSTGRES_URL` names a database (scripts/test makes
    /// one), and always in CI (`CI=true`) or with `FEWSHOT_TEST_REQUIRE_POSTGRES=1`: there a missing URL
    /// fails every PostgreSQL case instead of leaving it out. A developer without PostgreSQL is told
    /// that the suite ran on SQLite only.
    static let enabled: [StoreBackend] = {
        let environment = ProcessInfo.processInfo.environment
        if postgresURL != nil || environment["CI"] == "true" || environment["FEWSHOT_TEST_REQUIRE_POSTGRES"] == "1" {
            return [.sqlite, .postgres]
        }
        FileHandle.standardError.write(Data(
            "note: FEWSHOT_TEST_POSTGRES_URL is not set, so the store suite runs on SQLite only (scripts/test runs it on PostgreSQL too)\n".utf8))
        return [.sqlite]
    }()

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["FEWSHOT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

struct PostgresTestDatabaseMissing: Error, CustomStringConvertible {
    var description: String {
        "the PostgreSQL store tests are required here (CI or FEWSHOT_TEST_REQUIRE_POSTGRES=1) but FEWSHOT_TEST_POSTGRES_URL is not set: "
            + "run them through scripts/test, or `eval \"$(scripts/postgres-for-tests)\"` first"
    }
}

/// A fresh, empty store of one backend for one test: a file in a temporary directory, or a schema of
/// its own in the test database. ``open()`` may be called again to reopen the same store.
final class StorePlace: @unchecked Sendable {  // immutable after init
    let backend: StoreBackend
    let directory: TemporaryDirectory
    /// The file path or the PostgreSQL URL (with `schema=`) of the store.
    let location: String
    /// The PostgreSQL schema of the store (nil on SQLite).
    let schema: String?

    init(_ backend: StoreBackend, leaseSeconds: Int? = nil) throws {
        self.backend = backend
        directory = try TemporaryDirectory()
        switch backend {
        case .sqlite:
            location = directory.file("fewshot.sqlite")
            schema = nil
        case .postgres:
            guard let url = StoreBackend.postgresURL else { throw PostgresTestDatabaseMissing() }
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            location = url + (url.contains("?") ? "&" : "?") + "schema=\(schema)" + (leaseSeconds.map { "&lease_seconds=\($0)" } ?? "")
            self.schema = schema
        }
    }

    func open() throws -> any LedgerStore {
        switch backend {
        case .sqlite: return try FewShotStore(path: location)
        case .postgres: return try PostgresStore(url: location)
        }
    }
}

/// A store with one registered data set of labels A and B.
func makeStore(_ place: StorePlace, labels: [String: Int] = ["A": 100, "B": 100]) throws -> (any LedgerStore, String) {
    let store = try place.open()
    let fingerprint = randomFingerprint()
    try store.registerDataset(fingerprint: fingerprint, name: "private.jsonl", labelCounts: labels)
    return (store, fingerprint)
}
