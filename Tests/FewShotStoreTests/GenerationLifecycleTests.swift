import DPAccounting
import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Testing

@Suite struct GenerationLifecycleTests {
    let accountant = BasicCompositionAccountant()

    @Test(arguments: StoreBackend.enabled) func completionChargesEveryStartedDemonstrationItsFullPlan(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory, labels: ["A": 10, "B": 10, "C": 10])
        let reservation = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A", "B", "C"], tokens: 8, perToken: 0.25), accountant: accountant)
        try store.checkpoint(reservation, demonstration: 0, released: tokens(3), finished: true)
        try store.checkpoint(reservation, demonstration: 1, released: tokens(8), finished: true)
        // Before completion: the full plan is reserved, what was released is spent.
        var status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.labels.map(\.spentEpsilon) == [2.0, 2.0, 0])
        #expect(status.labels.map(\.committedEpsilon) == [2.0, 2.0, 2.0])

        let stored = try store.complete(reservation, demonstrations: demonstrationSet(labels: ["A", "B"], texts: ["short", "long one"]))
        status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        // A stopped early at 3 tokens but is charged its planned 8; C never started and is returned.
        #expect(status.labels.map(\.spentEpsilon) == [2.0, 2.0, 0])
        #expect(status.labels.map(\.committedEpsilon) == [2.0, 2.0, 0])
        #expect(status.activeGenerations == 0)
        #expect(stored.id == reservation.id)
        #expect(stored.events == [.selfComposed(event: .pureDP(epsilon: 0.25), count: 8), .selfComposed(event: .pureDP(epsilon: 0.25), count: 8)])
        var shown = stored
        shown.dataset = store.publicDatasetID(fingerprint: dataset)   // what leaves the store names the public id
        #expect(try store.demonstrationSet(reservation.id) == shown)
    }

    @Test(arguments: StoreBackend.enabled) func aCancelRequestIsSeenOnlyWhileTheJobRunsAndAResumeClearsIt(backend: StoreBackend) throws {
        // The flag another replica sets for the process that runs a job (issue 16).
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory, labels: ["A": 10])
        let reservation = try store.reserve(
            dataset: dataset, plan: purePlan(labels: ["A"], tokens: 10, perToken: 0.25), accountant: accountant, job: #"{"task": "t"}"#)
        #expect(try store.cancelRequested(generation: reservation.id) == false)
        #expect(try store.requestCancel(generation: reservation.id) == true)
        #expect(try store.cancelRequested(generation: reservation.id) == true)
        #expect(try store.generationJob(reservation.id).cancelRequested)
        // Failed (its runner stopped first), the flag no longer asks anything, and a resume starts clean.
        try store.markFailed(reservation, reason: "interrupted")
        #expect(try store.cancelRequested(generation: reservation.id) == false)
        #expect(try store.requestCancel(generation: reservation.id) == false)
        _ = try store.resume(generation: reservation.id)
        #expect(try store.cancelRequested(generation: reservation.id) == false)
        #expect(try store.generationJob(reservation.id).cancelRequested == false)
    }

    @Test(arguments: StoreBackend.enabled) func abandonChargesEveryStartedDemonstrationInFullAndReturnsTheRest(backend: StoreBackend) throws {
        // Where an interrupted demonstration stopped can depend on the data, so it is charged its
        // whole plan (issue 13.3); only a demonstration that never started is returned.
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory, labels: ["A": 10, "B": 10, "C": 10])
        try store.setBudget(dataset: dataset, epsilon: 2.5, delta: 1e-5)
        let reservation = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A", "B", "C"], tokens: 10, perToken: 0.25), accountant: accountant)
        try store.checkpoint(reservation, demonstration: 0, released: tokens(4), finished: true)
        try store.checkpoint(reservation, demonstration: 1, released: tokens(3), finished: false)
        try store.abandon(reservation)
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.labels.map(\.spentEpsilon) == [2.5, 2.5, 0])
        #expect(status.labels.map(\.committedEpsilon) == [2.5, 2.5, 0])
        #expect(status.remainingEpsilon == 0)
        #expect(status.activeGenerations == 0)
        // Label C got its 2.5 back; A and B nothing.
        _ = try store.reserve(dataset: dataset, plan: purePlan(labels: ["C"], tokens: 10, perToken: 0.25), accountant: accountant)
        #expect(throws: BudgetExceeded.self) {
            try store.reserve(dataset: dataset, plan: purePlan(labels: ["B"], tokens: 1, perToken: 0.25), accountant: accountant)
        }
        #expect(throws: StoreError.self) { try store.abandon(reservation) }
        #expect(throws: StoreError.self) { try store.checkpoint(reservation, demonstration: 1, released: tokens(4), finished: false) }
    }

    @Test(arguments: StoreBackend.enabled) func aFailedGenerationKeepsChargingAnInterruptedDemonstrationInFull(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory, labels: ["A": 10])
        let reservation = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 10, perToken: 0.25), accountant: accountant)
        try store.checkpoint(reservation, demonstration: 0, released: tokens(2), finished: false)
        try store.markFailed(reservation, reason: "interrupted")
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.committedEpsilon == 2.5)
        try store.abandon(reservation)
        #expect(try store.budgetStatus(dataset: dataset, accountant: accountant).spentEpsilon == 2.5)
    }

    @Test(arguments: StoreBackend.enabled) func aDemonstrationEventIsChargedOnceWholeWhenStartedAndNotBefore(backend: StoreBackend) throws {
        // Amplified partition mode: one Poisson-subsampled event per demonstration, not per token.
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory, labels: ["A": 10, "B": 10])
        let whole = PrivacyEvent.pureDP(epsilon: 1.5)
        let plan = GenerationPlan(demonstrations: ["A", "B"].map {
            PlannedDemonstration(label: $0, tokenEvent: .pureDP(epsilon: 0.5), maxTokens: 10, event: whole)
        })
        try store.setBudget(dataset: dataset, epsilon: 3, delta: 1e-5)
        let reservation = try store.reserve(dataset: dataset, plan: plan, accountant: accountant)
        var status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.labels.map(\.committedEpsilon) == [1.5, 1.5])
        #expect(status.labels.map(\.spentEpsilon) == [0, 0])
        try store.checkpoint(reservation, demonstration: 0, released: tokens(1), finished: false)
        status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.labels.map(\.spentEpsilon) == [1.5, 0])
        let stored = try store.complete(reservation, demonstrations: demonstrationSet(labels: ["A"], texts: ["x"]))
        #expect(stored.events == [whole])
        status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.labels.map(\.committedEpsilon) == [1.5, 0])
        _ = try store.reserve(dataset: dataset, plan: plan, accountant: accountant)
        #expect(throws: BudgetExceeded.self) { try store.reserve(dataset: dataset, plan: plan, accountant: accountant) }
    }

    @Test(arguments: StoreBackend.enabled) func seededNoiseSurvivesAResumeWithoutASeed(backend: StoreBackend) throws {
        // Issue 13.1: a run that used seeded noise stays not private after a resume without --seed.
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory, labels: ["A": 10])
        let reservation = try store.reserve(
            dataset: dataset, plan: purePlan(labels: ["A"], tokens: 4, perToken: 0.25), accountant: accountant, seededNoise: true)
        try store.checkpoint(reservation, demonstration: 0, released: tokens(2), finished: false)
        try store.markFailed(reservation, reason: "interrupted")
        let resumed = try store.resume(generation: reservation.id, seededNoise: false)
        #expect(resumed.seededNoise)
        let stored = try store.complete(reservation, demonstrations: demonstrationSet(labels: ["A"], texts: ["x"], seeded: false))
        #expect(stored.seeded)
        #expect(try store.demonstrationSet(reservation.id).seeded)
    }

    @Test(arguments: StoreBackend.enabled) func resumingWithASeedMarksTheGenerationSeeded(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory, labels: ["A": 10])
        let reservation = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 4, perToken: 0.25), accountant: accountant)
        try store.markFailed(reservation, reason: "interrupted")
        #expect(try store.resume(generation: reservation.id, seededNoise: true).seededNoise)
    }

    @Test(arguments: StoreBackend.enabled) func theSubsampleKeyIsStableAndPerGeneration(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory, labels: ["A": 10])
        let first = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 4, perToken: 0.25), accountant: accountant)
        let second = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 4, perToken: 0.25), accountant: accountant)
        let key = try store.subsampleKey(generation: first.id)
        #expect(key.count == 32)
        #expect(try store.subsampleKey(generation: first.id) == key)
        #expect(try directory.open().subsampleKey(generation: first.id) == key)
        #expect(try store.subsampleKey(generation: second.id) != key)
        #expect(throws: StoreError.self) { try store.subsampleKey(generation: "no-such-generation") }
    }

    @Test(arguments: StoreBackend.enabled) func checkpointsCannotTakeBackTokensOrExceedThePlan(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        let reservation = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 5, perToken: 0.25), accountant: accountant)
        try store.checkpoint(reservation, demonstration: 0, released: tokens(3), finished: false)
        /// The refusal of a checkpoint, which both backends word with the same rule.
        func refusal(_ position: Int, _ count: Int, finished: Bool = false) -> String {
            let error = #expect(throws: StoreError.self) { try store.checkpoint(reservation, demonstration: position, released: tokens(count), finished: finished) }
            return error.map { "\($0)" } ?? ""
        }
        #expect(refusal(0, 2) == "invalid checkpoint: demonstration 0 already released 3 tokens; a checkpoint of 2 would take some back")
        #expect(refusal(0, 6) == "invalid checkpoint: demonstration 0 planned at most 5 tokens, got 6")
        #expect(refusal(1, 1) == "invalid checkpoint: generation \(reservation.id) has no demonstration 1")
        try store.checkpoint(reservation, demonstration: 0, released: tokens(5), finished: true)
        #expect(refusal(0, 5, finished: true) == "invalid checkpoint: demonstration 0 of generation \(reservation.id) already finished")
        try store.complete(reservation, demonstrations: demonstrationSet(labels: ["A"], texts: ["x"]))
        #expect(throws: StoreError.self) { try store.complete(reservation, demonstrations: demonstrationSet(labels: ["A"], texts: ["x"])) }
    }

    @Test(arguments: StoreBackend.enabled) func aFailedGenerationResumesFromItsCheckpointWithoutPayingAgain(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        try store.setBudget(dataset: dataset, epsilon: 2.5, delta: 1e-5)
        let reservation = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A", "B"], tokens: 10, perToken: 0.25), accountant: accountant)
        try store.checkpoint(reservation, demonstration: 0, released: tokens(10), finished: true)
        try store.checkpoint(reservation, demonstration: 1, released: tokens(4), finished: false)
        try store.markFailed(reservation, reason: "LLM server went away")

        let pending = try store.resumable(dataset: dataset)
        #expect(pending.count == 1)
        #expect(pending[0].failureReason == "LLM server went away")
        let resumed = try store.resume(generation: reservation.id)
        #expect(resumed.progress.map(\.released.count) == [10, 4])
        #expect(resumed.progress.map(\.finished) == [true, false])
        #expect(resumed.progress[1].releasedText == "t0 t1 t2 t3 ")
        #expect(try store.resumable().isEmpty)
        #expect(throws: StoreError.self) { try store.resume(generation: reservation.id) }

        try store.checkpoint(resumed.reservation, demonstration: 1, released: tokens(10), finished: true)
        try store.complete(resumed.reservation, demonstrations: demonstrationSet(labels: ["A", "B"], texts: ["a", "b"]))
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.spentEpsilon == 2.5)
        #expect(status.committedEpsilon == 2.5)
        #expect(status.remainingEpsilon == 0)
    }

    @Test(arguments: StoreBackend.enabled) func deletingDemonstrationsNeverReturnsBudget(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        try store.setBudget(dataset: dataset, epsilon: 1, delta: 1e-5)
        let reservation = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 4, perToken: 0.25), accountant: accountant)
        try store.checkpoint(reservation, demonstration: 0, released: tokens(4), finished: true)
        try store.complete(reservation, demonstrations: demonstrationSet(labels: ["A"], texts: ["x"]))
        let before = try store.budgetStatus(dataset: dataset, accountant: accountant)
        try store.deleteDemonstrationSet(String(reservation.id.prefix(8)))
        #expect(try store.demonstrationSets().isEmpty)
        #expect(throws: StoreError.self) { try store.demonstrationSet(reservation.id) }
        let after = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(before == after)
        #expect(after.spentEpsilon == 1)
        #expect(throws: BudgetExceeded.self) {
            try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 1, perToken: 0.25), accountant: accountant)
        }
    }

    @Test(arguments: StoreBackend.enabled) func exportWritesOneJSONObjectPerDemonstrationWithItsMetadata(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        let reservation = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A", "B"], tokens: 4, perToken: 0.25), accountant: accountant)
        try store.checkpoint(reservation, demonstration: 0, released: tokens(2), finished: true)
        try store.checkpoint(reservation, demonstration: 1, released: tokens(2), finished: true)
        try store.complete(reservation, demonstrations: demonstrationSet(labels: ["A", "B"], texts: ["first \"quoted\"\nline", "second"], seeded: true))

        let jsonl = try store.exportJSONL(reservation.id)
        let lines = jsonl.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty)
        let objects = try lines.prefix(2).map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects.map { $0["label"] as? String } == ["A", "B"])
        #expect(objects.map { $0["text"] as? String } == ["first \"quoted\"\nline", "second"])
        #expect(objects.allSatisfy { $0["set"] as? String == reservation.id && $0["dataset"] as? String == store.publicDatasetID(fingerprint: dataset) })
        #expect(objects.allSatisfy { $0["epsilon"] as? Double == 4 && $0["sigma"] as? Double == 0.39 && $0["m"] as? Int == 10 })
        #expect(objects.allSatisfy { $0["seeded"] as? Bool == true && $0["private"] as? Bool == false })
        #expect(objects.allSatisfy { $0["accountant"] as? String == "basic-pure" && $0["model"] as? String == "smollm2-135m" })
        #expect(objects.allSatisfy { ($0["created"] as? String)?.hasSuffix("Z") == true })
        #expect(throws: StoreError.self) { try store.exportJSONL("zzzz-no-such-set") }
    }
}
