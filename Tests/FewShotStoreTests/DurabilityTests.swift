import GRDB
@testable import FewShotStore
import Foundation
import Testing

@Suite struct DurabilityTests {
    /// A reservation must be on disk before its caller releases a token: WAL with FULL sync on the writer.
    @Test func theWriterCommitsWithFullSyncInWALMode() throws {
        let directory = try TemporaryDirectory()
        let store = try FewShotStore(path: directory.file("s.sqlite"))
        let (synchronous, journal) = try store.pool.writeWithoutTransaction { db in
            (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(synchronous == 2)
        #expect(journal == "wal")
    }
}
