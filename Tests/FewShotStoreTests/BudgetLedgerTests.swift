import DPAccounting
import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Testing

@Suite struct BudgetLedgerTests {
    let accountant = BasicCompositionAccountant()

    @Test(arguments: StoreBackend.enabled) func refusalSaysWhatIsLeftAndWhatWasAskedAndRecordsNothing(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        try store.setBudget(dataset: dataset, epsilon: 1.0, delta: 1e-5)
        _ = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 3, perToken: 0.25), accountant: accountant)

        let refused = #expect(throws: BudgetExceeded.self) {
            try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 2, perToken: 0.25), accountant: accountant)
        }
        let error = try #require(refused)
        #expect(error.remainingEpsilon == 0.25)
        #expect(error.askedEpsilon == 0.5)
        #expect(error.resultingEpsilon == 1.25)
        #expect(error.committedEpsilon == 0.75)
        #expect(error.delta == 1e-5)
        #expect(error.description.contains("0.25 epsilon left at delta=1e-05"))
        #expect(error.description.contains("asks 0.5 epsilon"))
        #expect(error.description.contains("private.jsonl"))

        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.committedEpsilon == 0.75)
        #expect(status.remainingEpsilon == 0.25)
        #expect(status.activeGenerations == 1)
        // What is left still fits exactly.
        _ = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 1, perToken: 0.25), accountant: accountant)
        #expect(try store.budgetStatus(dataset: dataset, accountant: accountant).remainingEpsilon == 0)
    }

    @Test(arguments: StoreBackend.enabled) func fiftyConcurrentReservationsAgainstABudgetOfThreeGrantExactlyThree(backend: StoreBackend) async throws {
        let place = try StorePlace(backend)
        // Five connections pools opened at once on a new store also race the schema migration.
        let stores = try await withThrowingTaskGroup(of: (any LedgerStore).self) { group in
            for _ in 0..<5 { group.addTask { try place.open() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let dataset = randomFingerprint()
        try stores[0].registerDataset(fingerprint: dataset, name: "race", labelCounts: ["A": 10])
        try stores[0].setBudget(dataset: dataset, epsilon: 3.0, delta: 1e-6)
        let plan = purePlan(labels: ["A"], tokens: 4, perToken: 0.25)

        let outcomes = await withTaskGroup(of: String.self) { group in
            for i in 0..<50 {
                let store = stores[i % stores.count]
                group.addTask {
                    do {
                        _ = try store.reserve(dataset: dataset, plan: plan, accountant: SlowBasicCompositionAccountant())
                        return "granted"
                    } catch is BudgetExceeded {
                        return "refused"
                    } catch {
                        return "error: \(error)"
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "granted" }.count == 3)
        #expect(outcomes.filter { $0 == "refused" }.count == 47)
        #expect(outcomes.filter { $0.hasPrefix("error") }.isEmpty, "\(outcomes.filter { $0.hasPrefix("error") })")

        let status = try place.open().budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.activeGenerations == 3)
        #expect(status.committedEpsilon == 3.0)
        #expect(status.remainingEpsilon == 0)
        #expect(status.spentEpsilon == 0)
        #expect(status.labels.allSatisfy { $0.spentEpsilon >= 0 && $0.committedEpsilon >= 0 })
    }

    @Test(arguments: StoreBackend.enabled) func labelsComposeInParallelAndUnlabeledEventsChargeEveryLabel(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        try store.setBudget(dataset: dataset, epsilon: 1.0, delta: 1e-5)
        // One demonstration per label, each costing the whole budget: disjoint data, so both fit.
        _ = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A", "B"], tokens: 4, perToken: 0.25), accountant: accountant)
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.committedEpsilon == 1.0)
        #expect(status.labels.map(\.label) == ["A", "B"])
        #expect(status.labels.map(\.committedEpsilon) == [1.0, 1.0])
        // A second demonstration of label A composes sequentially with the first.
        #expect(throws: BudgetExceeded.self) {
            try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 1, perToken: 0.25), accountant: accountant)
        }
        // An unlabeled event reads every label, so it is refused too.
        #expect(throws: BudgetExceeded.self) {
            try store.reserve(dataset: dataset, plan: purePlan(labels: [nil], tokens: 1, perToken: 0.25), accountant: accountant)
        }
        // A label never seen before has its own untouched part of the data.
        _ = try store.reserve(dataset: dataset, plan: purePlan(labels: ["C"], tokens: 4, perToken: 0.25), accountant: accountant)
    }

    @Test(arguments: StoreBackend.enabled) func unlabeledTasksComposeSequentially(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory, labels: [:])
        try store.setBudget(dataset: dataset, epsilon: 2.0, delta: 1e-5)
        _ = try store.reserve(dataset: dataset, plan: purePlan(labels: [nil, nil], tokens: 2, perToken: 0.25), accountant: accountant)
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.labels.map(\.label) == [nil])
        #expect(status.committedEpsilon == 1.0)
        _ = try store.reserve(dataset: dataset, plan: purePlan(labels: [nil], tokens: 4, perToken: 0.25), accountant: accountant)
        #expect(throws: BudgetExceeded.self) {
            try store.reserve(dataset: dataset, plan: purePlan(labels: [nil], tokens: 1, perToken: 0.25), accountant: accountant)
        }
    }

    @Test(arguments: StoreBackend.enabled) func spendingIsComposedByTheAccountantNotSummed(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        let pld = DefaultAccountant()
        let token = PrivacyEvent.poissonSampled(samplingRate: 0.02, event: .gaussian(noiseMultiplier: 0.6))
        let delta = 1e-5
        let one = try pld.epsilon(for: .selfComposed(event: token, count: 20), delta: delta)
        let three = try pld.epsilon(for: .selfComposed(event: token, count: 60), delta: delta)
        #expect(three < 3 * one)
        try store.setBudget(dataset: dataset, epsilon: three, delta: delta)
        let plan = GenerationPlan(demonstrations: [.init(label: "A", tokenEvent: token, maxTokens: 20)])
        for _ in 0..<3 { _ = try store.reserve(dataset: dataset, plan: plan, accountant: pld) }
        #expect(throws: BudgetExceeded.self) { try store.reserve(dataset: dataset, plan: plan, accountant: pld) }
        let status = try store.budgetStatus(dataset: dataset, accountant: pld)
        #expect(status.committedEpsilon == three)
        #expect(status.accountant == pld.name)
    }

    @Test(arguments: StoreBackend.enabled) func withoutABudgetReservationsAreRecordedButNotRefused(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        for _ in 0..<3 {
            _ = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 100, perToken: 1), accountant: accountant)
        }
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.budget == nil)
        #expect(status.remainingEpsilon == nil)
        #expect(status.committedEpsilon == 300)
        // No budget, no caller's delta and no released counts: 1e-5, never 1/(the exact 200 examples).
        #expect(status.delta == 1e-5)
    }

    @Test(arguments: StoreBackend.enabled) func eventsTheAccountantCannotHandleAreRefused(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        let plan = GenerationPlan(demonstrations: [.init(label: "A", tokenEvent: .gaussian(noiseMultiplier: 1), maxTokens: 5)])
        #expect(throws: StoreError.self) { try store.reserve(dataset: dataset, plan: plan, accountant: accountant) }
        try store.setBudget(dataset: dataset, epsilon: 10, delta: 1e-5)
        #expect(throws: StoreError.self) { try store.reserve(dataset: dataset, plan: plan, accountant: accountant) }
        #expect(try store.budgetStatus(dataset: dataset, accountant: accountant).activeGenerations == 0)
    }

    /// A budget used to be accepted for any 64-hex fingerprint, creating a phantom data set that no
    /// generation would ever be charged to. Now the data set must be registered (by a generation, or
    /// by `fewshot budget set --data FILE --task T`), and the refusal says how.
    @Test func aBudgetIsRefusedForADataSetThatIsNotRegistered() throws {
        let directory = try TemporaryDirectory()
        let store = try FewShotStore(path: directory.file("s.sqlite"))
        let fingerprint = randomFingerprint()
        let refusal = #expect(throws: StoreError.unknownDataset(fingerprint)) {
            try store.setBudget(dataset: fingerprint, epsilon: 2, delta: 1e-6)
        }
        #expect(refusal.map { "\($0)".contains("--data FILE --task T") } == true)
        #expect(try store.datasets().isEmpty)
        #expect(throws: StoreError.self) { try store.setBudget(dataset: "not-a-fingerprint", epsilon: 1, delta: 1e-5) }

        try store.registerDataset(fingerprint: fingerprint, name: "agnews.jsonl", labelCounts: ["World": 3])
        let publicID = store.publicDatasetID(fingerprint: fingerprint)
        try store.setBudget(dataset: String(publicID.prefix(8)), epsilon: 2, delta: 1e-6)
        let status = try store.budgetStatus(dataset: fingerprint, accountant: accountant)
        #expect(status.budget == PrivacyBudget(epsilon: 2, delta: 1e-6))
        #expect(status.dataset.name == "agnews.jsonl")
        #expect(try store.dataset(matching: "agnews.jsonl").fingerprint == fingerprint)
        #expect(throws: StoreError.self) { try store.setBudget(dataset: fingerprint, epsilon: -1, delta: 1e-5) }
        #expect(throws: StoreError.self) { try store.setBudget(dataset: fingerprint, epsilon: 1, delta: 0) }
    }
}
