import FewShotStore
import FewShotStorePostgres
import Foundation
import Testing

/// The PostgreSQL store URL and opening: a password is never taken from the URL, bad URLs name what is
/// wrong, a wrong password or a newer schema is refused with the fix.
@Suite struct PostgresStoreAddressTests {
    @Test func aURLWithAPasswordIsRefusedWithoutRepeatingThePassword() {
        let error = #expect(throws: PostgresStoreError.self) { try PostgresStoreAddress(url: "postgres://fewshot:hunter2@db:5432/ledger") }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("PGPASSWORD"))
        #expect(!message.contains("hunter2"), "\(message)")
    }

    @Test func aURLIsReadWithItsDefaultsAndShownWithoutSecrets() throws {
        let address = try PostgresStoreAddress(url: "postgresql://fewshot@db.internal/ledger")
        #expect(address.host == "db.internal" && address.port == 5432 && address.user == "fewshot" && address.database == "ledger")
        #expect(address.schema == nil && address.tls == .prefer && address.leaseSeconds == 30)
        #expect(address.description == "postgres://fewshot@db.internal:5432/ledger")
        let tuned = try PostgresStoreAddress(url: "postgres://u@h:6000/d?schema=team_a&sslmode=require&lease_seconds=5")
        #expect(tuned.port == 6000 && tuned.schema == "team_a" && tuned.tls == .require && tuned.leaseSeconds == 5)
        #expect(tuned.description == "postgres://u@h:6000/d?schema=team_a&sslmode=require&lease_seconds=5")
    }

    @Test(arguments: [
        ("postgres://h:5432/d", "no user"),
        ("postgres://u@h:5432/", "no database"),
        ("postgres://u@h/d?schema=Bad-Name", "schema"),
        ("postgres://u@h/d?sslmode=sometimes", "sslmode"),
        ("postgres://u@h/d?lease_seconds=0", "lease_seconds"),
        ("postgres://u@h/d?password=x", "unknown parameter"),
    ])
    func badURLsNameWhatIsWrong(url: String, named: String) {
        let error = #expect(throws: PostgresStoreError.self) { try PostgresStoreAddress(url: url) }
        #expect(error.map { "\($0)" }?.contains(named) == true, "\(String(describing: error))")
    }
}

@Suite(.enabled(if: StoreBackend.enabled.contains(.postgres), "needs PostgreSQL (FEWSHOT_TEST_POSTGRES_URL)"))
struct PostgresStoreOpeningTests {
    @Test func aWrongPasswordIsRefusedNamingWhereThePasswordComesFrom() throws {
        let place = try StorePlace(.postgres)
        let error = #expect(throws: PostgresStoreError.self) {
            try PostgresStore(url: place.location, environment: ["PGPASSWORD": "not-the-password"])
        }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("password authentication failed") && message.contains("PGPASSWORD"), "\(message)")
        #expect(!message.contains("not-the-password"))
    }

    @Test func aStoreOfANewerFewshotIsRefusedAndReopeningMigratesNothingTwice() throws {
        let place = try StorePlace(.postgres)
        let store = try #require(try place.open() as? PostgresStore)
        let fingerprint = randomFingerprint()
        let record = try store.registerDataset(fingerprint: fingerprint, name: "d.jsonl", labelCounts: ["A": 1])
        try store.close()
        // Reopened: same secret (same public id), nothing migrated again.
        #expect(try place.open().dataset(fingerprint: fingerprint)?.publicID == record.publicID)
        try PostgresStoreTestSQL.run("INSERT INTO schema_version (version, name) VALUES (99, 'from the future')", in: place)
        let error = #expect(throws: PostgresStoreError.self) { try place.open() }
        #expect(error.map { "\($0)" }?.contains("schema version 99") == true)
    }
}

/// Runs one SQL statement in a test store's schema with psql (as the test database's owner).
enum PostgresStoreTestSQL {
    static func run(_ sql: String, in place: StorePlace) throws {
        let url = try #require(URLComponents(string: place.location))
        let schema = try #require(url.queryItems?.first { $0.name == "schema" }?.value)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = ["-v", "ON_ERROR_STOP=1", "-h", url.host ?? "127.0.0.1", "-p", "\(url.port ?? 5432)", "-U", url.user ?? "",
                             "-d", String(url.path.dropFirst()), "-c", "SET search_path = \(schema); \(sql)"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "psql failed: \(sql)")
    }
}
