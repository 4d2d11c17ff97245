import Foundation
import GRDB

/// The store's schema, built by migrations from the first version on. The SQLite header's
/// application_id marks a file as a fewshot store, so a foreign database is never migrated.
enum StoreSchema {
    /// "FSHT" in ASCII.
    static let applicationID: Int32 = 0x4653_4854

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS dataset (
                    fingerprint TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    labelCounts TEXT NOT NULL,
                    registered DATETIME NOT NULL
                );
                CREATE TABLE IF NOT EXISTS budget (
                    dataset TEXT PRIMARY KEY NOT NULL REFERENCES dataset(fingerprint),
                    epsilon DOUBLE NOT NULL CHECK (epsilon >= 0),
                    delta DOUBLE NOT NULL CHECK (delta > 0 AND delta < 1),
                    updated DATETIME NOT NULL
                );
                CREATE TABLE IF NOT EXISTS generation (
                    id TEXT PRIMARY KEY NOT NULL,
                    dataset TEXT NOT NULL REFERENCES dataset(fingerprint),
                    status TEXT NOT NULL CHECK (status IN ('running', 'failed', 'completed', 'abandoned')),
                    plan TEXT NOT NULL,
                    accountant TEXT NOT NULL,
                    ownerHost TEXT NOT NULL,
                    ownerPID INTEGER NOT NULL,
                    ownerStart TEXT NOT NULL,
                    failureReason TEXT NOT NULL DEFAULT '',
                    created DATETIME NOT NULL,
                    updated DATETIME NOT NULL
                );
                CREATE INDEX IF NOT EXISTS generation_dataset ON generation(dataset, status);
                CREATE TABLE IF NOT EXISTS demonstration_slot (
                    generation TEXT NOT NULL REFERENCES generation(id),
                    position INTEGER NOT NULL,
                    label TEXT,
                    tokenEvent TEXT NOT NULL,
                    maxTokens INTEGER NOT NULL CHECK (maxTokens >= 1),
                    releasedCount INTEGER NOT NULL DEFAULT 0 CHECK (releasedCount >= 0 AND releasedCount <= maxTokens),
                    released TEXT NOT NULL DEFAULT '[]',
                    finished BOOLEAN NOT NULL DEFAULT 0,
                    chargedTokens INTEGER CHECK (chargedTokens IS NULL OR (chargedTokens >= 0 AND chargedTokens <= maxTokens)),
                    PRIMARY KEY (generation, position)
                );
                CREATE TABLE IF NOT EXISTS demonstration_set (
                    id TEXT PRIMARY KEY NOT NULL REFERENCES generation(id),
                    dataset TEXT NOT NULL REFERENCES dataset(fingerprint),
                    created DATETIME NOT NULL,
                    record TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-generation-jobs") { db in
            // The request of a generation started as a server job (task, data path, settings; no
            // private text), kept so that the job can be listed and resumed after a restart.
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS generation_job (
                    generation TEXT PRIMARY KEY NOT NULL REFERENCES generation(id),
                    request TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3-dataset-public-id") { db in
            // A secret made once per store, and each data set's public id: HMAC-SHA256(secret, fingerprint).
            // The content fingerprint stays the ledger's key but is never shown (see DatasetKey).
            try db.execute(sql: """
                CREATE TABLE store_secret (
                    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
                    secret BLOB NOT NULL CHECK (length(secret) = \(DatasetKey.byteCount)),
                    created DATETIME NOT NULL
                );
                ALTER TABLE dataset ADD COLUMN publicID TEXT;
                """)
            try db.execute(sql: "INSERT INTO store_secret (id, secret, created) VALUES (1, ?, ?)",
                           arguments: [DatasetKey.generateSecret(), Date()])
            let key = try DatasetKey.read(db)
            for fingerprint in try String.fetchAll(db, sql: "SELECT fingerprint FROM dataset") {
                try db.execute(sql: "UPDATE dataset SET publicID = ? WHERE fingerprint = ?",
                               arguments: [key.publicID(fingerprint: fingerprint), fingerprint])
            }
            try db.execute(sql: "CREATE UNIQUE INDEX dataset_public_id ON dataset(publicID)")
        }
        migrator.registerMigration("v3-demonstration-events") { db in
            // Per-demonstration planned events (amplified partition mode charges a whole
            // demonstration as one Poisson-subsampled event, not per token); NULL on older slots,
            // whose cost stays selfComposed(tokenEvent, tokens). A secret per generation from which a
            // demonstration's partition subsample is derived, so that a resumed demonstration draws
            // the same subsample; and whether any run of the generation used seeded (not private) noise.
            try db.execute(sql: """
                ALTER TABLE demonstration_slot ADD COLUMN event TEXT;
                ALTER TABLE generation ADD COLUMN subsampleKey BLOB;
                ALTER TABLE generation ADD COLUMN seededNoise BOOLEAN NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v4-label-count-release") { db in
            // The DP estimate of a data set's label counts (LabelCountRelease), released once and
            // charged once: q, M and delta of every generation on the data set come from it.
            try db.execute(sql: """
                CREATE TABLE label_count_release (
                    dataset TEXT PRIMARY KEY NOT NULL REFERENCES dataset(fingerprint),
                    counts TEXT NOT NULL,
                    noiseMultiplier DOUBLE NOT NULL,
                    released DATETIME NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5-demonstration-groups") { db in
            // The disjoint example group a demonstration reads (gen --groups): one generation's
            // groups compose in parallel. NULL without groups.
            try db.execute(sql: "ALTER TABLE demonstration_slot ADD COLUMN exampleGroup INTEGER")
        }
        migrator.registerMigration("v6-job-cancel-requests") { db in
            // A job's cancel request, set by whichever process's admin API received it and seen by the
            // process that runs the job (two `fewshot serve` on one store file).
            try db.execute(sql: "ALTER TABLE generation_job ADD COLUMN cancelRequested BOOLEAN NOT NULL DEFAULT 0")
        }
        return migrator
    }
}
