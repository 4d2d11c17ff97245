import FewShotStore
import FewShotTestSupport
import Foundation
import Testing

@Suite struct StoreFileTests {
    @Test func aFileThatIsNotSQLiteIsRefusedAndLeftUntouched() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("notes.txt")
        let bytes = Data("these are my notes, not a database\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StoreError.self) { try FewShotStore(path: path) }
        guard case .notAStore(let reportedPath, _)? = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(reportedPath == path)
        #expect("\(error!)".contains(path))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["notes.txt"])
    }

    @Test func aCorruptDatabaseIsRefusedAndLeftUntouched() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("broken.sqlite")
        var generator = SystemRandomNumberGenerator()
        var bytes = Data("SQLite format 3\0".utf8)
        bytes.append(contentsOf: (0..<8176).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError.self) { try FewShotStore(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func anotherProgramsSQLiteDatabaseIsRefusedAndLeftUntouched() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("other.sqlite")
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table notes(x)'); c.execute(\"insert into notes values ('hi')\"); c.commit()", path]
        try sqlite.run()
        sqlite.waitUntilExit()
        try #require(sqlite.terminationStatus == 0, "python3 with sqlite3 is needed to write a foreign database")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = #expect(throws: StoreError.self) { try FewShotStore(path: path) }
        guard case .foreignDatabase(_, let applicationID, let objects)? = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(applicationID == 0 && objects == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func aStoreKeepsItsLedgerAcrossReopening() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("nested/dir/fewshot.sqlite")
        let fingerprint = randomFingerprint()
        do {
            let store = try FewShotStore(path: path)
            try store.registerDataset(fingerprint: fingerprint, name: "d", labelCounts: ["A": 5])
            try store.setBudget(dataset: fingerprint, epsilon: 1, delta: 1e-5)
            _ = try store.reserve(dataset: fingerprint, plan: purePlan(labels: ["A"], tokens: 2, perToken: 0.25), accountant: BasicCompositionAccountant())
            try store.close()
        }
        // The header marks the file as ours (application_id "FSHT") and in WAL mode (versions 2, 2).
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(100)
        #expect(Array(header[68..<72]) == Array("FSHT".utf8))
        #expect(header[18] == 2 && header[19] == 2)
        let reopened = try FewShotStore(path: path)
        try reopened.verifyIntegrity()
        let status = try reopened.budgetStatus(dataset: fingerprint, accountant: BasicCompositionAccountant())
        #expect(status.committedEpsilon == 0.5)
        // Still running: this very process owns it, so reopening does not mark it failed.
        #expect(status.activeGenerations == 1)
        #expect(try reopened.resumable().isEmpty)
    }

    @Test func aStoreFromANewerFewshotIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("newer.sqlite")
        try FewShotStore(path: path).close()
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"insert into grdb_migrations values ('v999-from-the-future')\"); c.commit()", path]
        try sqlite.run()
        sqlite.waitUntilExit()
        try #require(sqlite.terminationStatus == 0)
        #expect(throws: StoreError.newerSchema(path: path)) { try FewShotStore(path: path) }
    }

    @Test func anEmptyFileBecomesAStore() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("empty.sqlite")
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        let store = try FewShotStore(path: path)
        try store.verifyIntegrity()
        #expect(try store.datasets().isEmpty)
    }

    @Test func theDefaultPathFollowsFewshotStoreThenXDGThenHome() {
        #expect(StoreLocation.defaultPath(environment: ["FEWSHOT_STORE": "/x/s.sqlite", "XDG_DATA_HOME": "/d", "HOME": "/h"]) == "/x/s.sqlite")
        #expect(StoreLocation.defaultPath(environment: ["XDG_DATA_HOME": "/d", "HOME": "/h"]) == "/d/fewshot/fewshot.sqlite")
        #expect(StoreLocation.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/share/fewshot/fewshot.sqlite")
        #expect(StoreLocation.resolve("/cli.sqlite", environment: ["FEWSHOT_STORE": "/x/s.sqlite"]) == "/cli.sqlite")
        #expect(StoreLocation.resolve(nil, environment: ["FEWSHOT_STORE": "/x/s.sqlite"]) == "/x/s.sqlite")
    }

    @Test func fingerprintsMustBeSHA256Hex() throws {
        let directory = try TemporaryDirectory()
        let store = try FewShotStore(path: directory.file("s.sqlite"))
        #expect(throws: StoreError.self) { try store.registerDataset(fingerprint: "Bob's private sentence", name: "x", labelCounts: [:]) }
        #expect(throws: StoreError.self) { try store.registerDataset(fingerprint: String(repeating: "A", count: 64), name: "x", labelCounts: [:]) }
    }
}
