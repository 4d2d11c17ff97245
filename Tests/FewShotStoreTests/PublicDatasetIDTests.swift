import DPAccounting
import FewShotCore
import FewShotTestSupport
import Foundation
import GRDB
import Testing
@testable import FewShotStore

/// A data set's content fingerprint (an unsalted SHA-256) lets someone who knows every example but one
/// test guesses of the last, so it never leaves the store: what is shown is the public id, a keyed
/// hash under a secret kept in the store. Users name data sets by public id, prefix or name only.
@Suite struct PublicDatasetIDTests {
    let accountant = BasicCompositionAccountant()

    @Test func thePublicIDIsAKeyedHashThatDiffersPerStoreAndSurvivesReopening() throws {
        let directory = try TemporaryDirectory()
        let fingerprint = randomFingerprint()
        var ids: [String] = []
        for name in ["a.sqlite", "b.sqlite"] {
            let store = try FewShotStore(path: directory.file(name))
            let record = try store.registerDataset(fingerprint: fingerprint, name: "d.jsonl", labelCounts: ["A": 3])
            #expect(record.publicID.count == 64 && record.publicID.allSatisfy { "0123456789abcdef".contains($0) })
            #expect(record.publicID != fingerprint)
            #expect(record.publicID == store.publicDatasetID(fingerprint: fingerprint))
            ids.append(record.publicID)
            try store.close()
        }
        // Another store has another secret, so the same content gets another id: the id is keyed.
        #expect(ids[0] != ids[1])
        let reopened = try FewShotStore(path: directory.file("a.sqlite"))
        #expect(try reopened.dataset(matching: "d.jsonl").publicID == ids[0])
        #expect(reopened.publicDatasetID(fingerprint: fingerprint) == ids[0])
        let secret = try reopened.pool.read { try Data.fetchOne($0, sql: "SELECT secret FROM store_secret") }
        #expect(secret?.count == 32)
    }

    @Test(arguments: StoreBackend.enabled) func usersNameADataSetByPublicIDPrefixOrNameButNeverByFingerprint(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, fingerprint) = try makeStore(directory)
        let publicID = store.publicDatasetID(fingerprint: fingerprint)
        #expect(try store.dataset(matching: publicID).fingerprint == fingerprint)
        #expect(try store.dataset(matching: String(publicID.prefix(6))).fingerprint == fingerprint)
        #expect(try store.dataset(matching: "private.jsonl").fingerprint == fingerprint)
        #expect(throws: StoreError.unknownDataset(fingerprint)) { try store.dataset(matching: fingerprint) }
        #expect(throws: StoreError.self) { try store.dataset(matching: String(fingerprint.prefix(8))) }
        // The ledger's own callers, which hold the data, still look it up by fingerprint.
        #expect(try store.dataset(fingerprint: fingerprint)?.publicID == publicID)
    }

    @Test(arguments: StoreBackend.enabled) func setsJobsExportsAndRefusalsNameThePublicIDNeverTheFingerprint(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, fingerprint) = try makeStore(directory)
        let publicID = store.publicDatasetID(fingerprint: fingerprint)
        try store.setBudget(dataset: fingerprint, epsilon: 1, delta: 1e-5)   // exactly the first generation's cost
        let reservation = try store.reserve(
            dataset: fingerprint, plan: purePlan(labels: ["A", "B"], tokens: 4, perToken: 0.25), accountant: accountant, job: #"{"task": "t"}"#)
        try store.checkpoint(reservation, demonstration: 0, released: tokens(4), finished: true)
        try store.checkpoint(reservation, demonstration: 1, released: tokens(4), finished: true)
        try store.complete(reservation, demonstrations: demonstrationSet(labels: ["A", "B"], texts: ["one", "two"]))

        #expect(try store.demonstrationSet(reservation.id).dataset == publicID)
        #expect(try store.demonstrationSets().map(\.dataset) == [publicID])
        #expect(try store.demonstrationSets(dataset: String(publicID.prefix(8))).count == 1)
        #expect(try store.generationJobs().map(\.dataset) == [publicID])
        let export = try store.exportJSONL(reservation.id)
        #expect(export.contains(publicID))
        #expect(!export.contains(fingerprint.prefix(12)))
        #expect(try store.budgetStatus(dataset: fingerprint, accountant: accountant).dataset.publicID == publicID)

        let refusal = #expect(throws: BudgetExceeded.self) {
            try store.reserve(dataset: fingerprint, plan: purePlan(labels: ["A"], tokens: 1, perToken: 0.25), accountant: accountant)
        }
        #expect(refusal?.dataset == publicID)
        #expect(refusal.map { "\($0)".contains(publicID.prefix(12)) && !"\($0)".contains(fingerprint.prefix(12)) } == true)
    }

    /// A store made before public ids existed (schema v1 + v2, one data set with a budget) is migrated
    /// on its first open: a secret is made and every data set gets its public id; the ledger is kept.
    @Test func aStoreFromBeforePublicIDsGetsASecretAndIDsOnFirstOpen() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("old.sqlite")
        let fingerprint = randomFingerprint()
        do {
            let queue = try DatabaseQueue(path: path)
            try StoreSchema.migrator.migrate(queue, upTo: "v2-generation-jobs")
            try queue.write { db in
                try db.execute(sql: "INSERT INTO dataset (fingerprint, name, labelCounts, registered) VALUES (?, 'old.jsonl', '{\"A\":4}', ?)",
                               arguments: [fingerprint, Date()])
                try db.execute(sql: "INSERT INTO budget (dataset, epsilon, delta, updated) VALUES (?, 3, 1e-5, ?)", arguments: [fingerprint, Date()])
            }
            try queue.close()
        }
        let store = try FewShotStore(path: path)
        let record = try store.dataset(matching: "old.jsonl")
        #expect(record.fingerprint == fingerprint)
        #expect(record.publicID == store.publicDatasetID(fingerprint: fingerprint))
        #expect(record.publicID != fingerprint)
        #expect(try store.budget(fingerprint: fingerprint) == PrivacyBudget(epsilon: 3, delta: 1e-5))
    }
}
