import FewShotStore
import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL store's schema, built by numbered migrations recorded in `schema_version`. The same
/// tables as the SQLite store (``FewShotStore``), with one difference: a generation's owner is a
/// process token plus a lease that its process renews, so that a process on any host can tell that
/// the owner died (the SQLite store asks the local kernel about a pid instead).
///
/// Guarantees: migrations run in one transaction under an advisory lock, so processes opening a new
/// database at once apply each migration exactly once; a database with a version this build does not
/// know is refused (``PostgresStoreError/newerSchema(location:version:)``) and left untouched.
enum PostgresSchema {
    /// Serialises migrations of one database (an arbitrary constant: "FSHT" in ASCII).
    static let migrationLock: Int64 = 0x4653_4854

    static let migrations: [(version: Int, name: String, statements: [String])] = [
        (1, "ledger", [
            """
            CREATE TABLE store_secret (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                secret BYTEA NOT NULL CHECK (length(secret) = \(DatasetKey.byteCount)),
                created TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE dataset (
                fingerprint TEXT PRIMARY KEY,
                public_id TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                label_counts TEXT NOT NULL,
                registered TIMESTAMPTZ NOT NULL
            )
            """,
            """
            CREATE TABLE budget (
                dataset TEXT PRIMARY KEY REFERENCES dataset(fingerprint),
                epsilon DOUBLE PRECISION NOT NULL CHECK (epsilon >= 0),
                delta DOUBLE PRECISION NOT NULL CHECK (delta > 0 AND delta < 1),
                updated TIMESTAMPTZ NOT NULL
            )
            """,
            """
            CREATE TABLE label_count_release (
                dataset TEXT PRIMARY KEY REFERENCES dataset(fingerprint),
                counts TEXT NOT NULL,
                noise_multiplier DOUBLE PRECISION NOT NULL,
                released TIMESTAMPTZ NOT NULL
            )
            """,
            """
            CREATE TABLE generation (
                id TEXT PRIMARY KEY,
                dataset TEXT NOT NULL REFERENCES dataset(fingerprint),
                status TEXT NOT NULL CHECK (status IN ('running', 'failed', 'completed', 'abandoned')),
                plan TEXT NOT NULL,
                accountant TEXT NOT NULL,
                owner_host TEXT NOT NULL,
                owner_pid INTEGER NOT NULL,
                owner_start TEXT NOT NULL,
                owner_token TEXT NOT NULL,
                lease_expires TIMESTAMPTZ NOT NULL,
                failure_reason TEXT NOT NULL DEFAULT '',
                subsample_key BYTEA NOT NULL CHECK (length(subsample_key) = 32),
                seeded_noise BOOLEAN NOT NULL DEFAULT false,
                created TIMESTAMPTZ NOT NULL,
                updated TIMESTAMPTZ NOT NULL
            )
            """,
            "CREATE INDEX generation_dataset ON generation(dataset, status)",
            "CREATE INDEX generation_running ON generation(status, lease_expires)",
            """
            CREATE TABLE demonstration_slot (
                generation TEXT NOT NULL REFERENCES generation(id),
                position INTEGER NOT NULL,
                label TEXT,
                token_event TEXT NOT NULL,
                event TEXT,
                example_group INTEGER,
                max_tokens INTEGER NOT NULL CHECK (max_tokens >= 1),
                released_count INTEGER NOT NULL DEFAULT 0 CHECK (released_count >= 0 AND released_count <= max_tokens),
                released TEXT NOT NULL DEFAULT '[]',
                finished BOOLEAN NOT NULL DEFAULT false,
                charged_tokens INTEGER CHECK (charged_tokens IS NULL OR (charged_tokens >= 0 AND charged_tokens <= max_tokens)),
                PRIMARY KEY (generation, position)
            )
            """,
            """
            CREATE TABLE demonstration_set (
                id TEXT PRIMARY KEY REFERENCES generation(id),
                dataset TEXT NOT NULL REFERENCES dataset(fingerprint),
                created TIMESTAMPTZ NOT NULL,
                record TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE generation_job (
                generation TEXT PRIMARY KEY REFERENCES generation(id),
                request TEXT NOT NULL
            )
            """,
        ]),
        (2, "job-cancel-requests", [
            // A job's cancel request, set by whichever replica's admin API received it and seen by the
            // replica that runs the job.
            "ALTER TABLE generation_job ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT false",
        ]),
    ]

    static var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

    /// Brings the database (in `schema`, created if absent) to the latest version; returns the store's key.
    static func migrate(_ connection: PostgresConnection, schema: String?, location: String, logger: Logger) async throws -> DatasetKey {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            if let schema {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
            }
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS schema_version (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            let rows = try await connection.query("SELECT coalesce(max(version), 0) AS version FROM schema_version", logger: logger).collect()
            let current = try rows.first.map { try $0.makeRandomAccess()["version"].decode(Int.self) } ?? 0
            if current > latestVersion { throw PostgresStoreError.newerSchema(location: location, version: current) }
            for migration in migrations where migration.version > current {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                if migration.version == 1 {
                    try await connection.query("INSERT INTO store_secret (id, secret) VALUES (1, \(DatasetKey.generateSecret()))", logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_version (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
            }
            let secret = try await connection.query("SELECT secret FROM store_secret WHERE id = 1", logger: logger).collect()
            guard let row = secret.first else { throw StoreError.damagedSecret }
            let key = try DatasetKey(secret: try row.makeRandomAccess()["secret"].decode(Data.self))
            try await connection.query("COMMIT", logger: logger)
            return key
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
