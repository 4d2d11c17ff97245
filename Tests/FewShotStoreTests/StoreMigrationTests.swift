import DPAccounting
import FewShotCore
import FewShotStore
import FewShotStorePostgres
import FewShotTestSupport
import Foundation
import Testing

/// Moving an SQLite store into PostgreSQL (`fewshot store migrate`): everything arrives, data sets keep
/// their public ids, the ledger composes to the same epsilons, and a failed generation resumes there.
@Suite(.enabled(if: StoreBackend.enabled.contains(.postgres), "needs PostgreSQL (FEWSHOT_TEST_POSTGRES_URL)"))
struct StoreMigrationTests {
    let accountant = DefaultAccountant()

    /// One demonstration per label, each `tokens` tokens of a Gaussian (what the default accountant composes).
    func plan(labels: [String], tokens: Int) -> GenerationPlan {
        GenerationPlan(demonstrations: labels.map { .init(label: $0, tokenEvent: .gaussian(noiseMultiplier: 4), maxTokens: tokens) })
    }

    @Test func anSQLiteStoreMovesIntoAnEmptyPostgresStoreWithItsIDsLedgerAndResumableGenerations() throws {
        let sqlite = try StorePlace(.sqlite)
        let source = try FewShotStore(path: sqlite.location)
        let dataset = randomFingerprint()
        let record = try source.registerDataset(fingerprint: dataset, name: "private.jsonl", labelCounts: ["A": 10, "B": 10])
        try source.setBudget(dataset: dataset, epsilon: 100, delta: 1e-5)
        _ = try source.releaseLabelCounts(dataset: dataset, accountant: accountant) { _ in
            LabelCountRelease(counts: ["A": 11, "B": 9], noiseMultiplier: LabelCountRelease.defaultNoiseMultiplier, isReleased: true)
        }
        let done = try source.reserve(dataset: dataset, plan: plan(labels: ["A", "B"], tokens: 2), accountant: accountant, job: "{\"job\":1}")
        try source.checkpoint(done, demonstration: 0, released: tokens(2), finished: true)
        try source.checkpoint(done, demonstration: 1, released: tokens(1), finished: true)
        try source.complete(done, demonstrations: demonstrationSet(labels: ["A", "B"], texts: ["a", "b"]))
        let failed = try source.reserve(dataset: dataset, plan: plan(labels: ["A"], tokens: 4), accountant: accountant)
        try source.checkpoint(failed, demonstration: 0, released: tokens(1), finished: false)
        try source.markFailed(failed, reason: "test")
        let before = try source.budgetStatus(dataset: dataset, accountant: accountant)

        let postgres = try StorePlace(.postgres)
        let target = try #require(try postgres.open() as? PostgresStore)
        try target.importLedger(try source.exportLedger())
        try target.close()
        // A second import is refused: only an empty store is filled.
        let again = try #require(try postgres.open() as? PostgresStore)
        #expect(throws: PostgresStoreError.targetNotEmpty(location: again.location, datasets: 1)) { try again.importLedger(try source.exportLedger()) }

        let copy = try postgres.open()
        #expect(try copy.dataset(matching: "private.jsonl").publicID == record.publicID)
        #expect(copy.publicDatasetID(fingerprint: dataset) == record.publicID)
        #expect(try copy.budgetStatus(dataset: dataset, accountant: accountant) == before)
        #expect(try copy.releasedLabelCounts(dataset: dataset)?.counts == ["A": 11, "B": 9])
        #expect(try copy.demonstrationSet(done.id) == source.demonstrationSet(done.id))
        #expect(try copy.generationJob(done.id).request == "{\"job\":1}")
        #expect(try copy.subsampleKey(generation: failed.id) == source.subsampleKey(generation: failed.id))

        let pending = try copy.resumable(dataset: dataset)
        try #require(pending.map(\.reservation.id) == [failed.id])
        let resumed = try copy.resume(generation: failed.id)
        #expect(resumed.progress[0].released == tokens(1))
        try copy.checkpoint(resumed.reservation, demonstration: 0, released: tokens(4), finished: true)
        try copy.complete(resumed.reservation, demonstrations: demonstrationSet(labels: ["A"], texts: ["a"]))
        #expect(try copy.budgetStatus(dataset: dataset, accountant: accountant).committedEpsilon == before.committedEpsilon)
    }

    @Test func aRunningGenerationIsNotMoved() throws {
        let sqlite = try StorePlace(.sqlite)
        let source = try FewShotStore(path: sqlite.location)
        let dataset = randomFingerprint()
        try source.registerDataset(fingerprint: dataset, name: "d.jsonl", labelCounts: ["A": 10])
        _ = try source.reserve(dataset: dataset, plan: plan(labels: ["A"], tokens: 2), accountant: accountant)
        #expect(throws: StoreError.self) { try source.exportLedger() }
    }
}
