import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Testing

/// Several processes on one PostgreSQL store (probe processes, as a replica or `fewshot gen` would use
/// it): the budget is never overspent, a killed owner loses nothing, and a hung owner's lease expires.
@Suite(.enabled(if: StoreBackend.enabled.contains(.postgres), "needs PostgreSQL (FEWSHOT_TEST_POSTGRES_URL)"))
struct PostgresSharedLedgerTests {
    let accountant = BasicCompositionAccountant()

    @Test func sixProcessesOnABudgetOfThreeGenerationsGetExactlyThreeAndAKilledOneLosesNothing() throws {
        let place = try StorePlace(.postgres, leaseSeconds: 2)
        let store = try place.open()
        let dataset = randomFingerprint()
        try store.registerDataset(fingerprint: dataset, name: "race", labelCounts: ["A": 50])
        try store.setBudget(dataset: dataset, epsilon: 3.0, delta: 1e-5)   // a generation costs 4 x 0.25 = 1

        let probes = try (0..<6).map { _ in try ProbeProcess(["generate", place.location, dataset, "A", "4", "0.25", "300", "4"]) }
        let first = probes.map { $0.waitForLine { _ in true } }
        let reserved = probes.indices.filter { first[$0]?.hasPrefix("reserved ") == true }
        try #require(reserved.count == 3, "granted: \(first)")
        // One of the granted generations is killed after it released 2 tokens.
        let victim = probes[reserved[0]]
        let line = victim.waitForLine { $0 == "released 0 2" || $0 == "completed" }
        victim.kill()
        try #require(line == "released 0 2")

        for index in probes.indices where index != reserved[0] {
            let outcome = probes[index].finish()
            if reserved.contains(index) {
                #expect(outcome.status == 0, "\(outcome.errors)")
            } else {
                #expect(outcome.status == 1)
                #expect(outcome.errors.contains("privacy budget of data set race"), "\(outcome.errors)")
                #expect(outcome.errors.contains("Nothing was reserved."), "\(outcome.errors)")
            }
        }

        // The killed generation (its pid is gone on this host) is failed and still holds its plan.
        var status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.committedEpsilon == 3.0)
        #expect(status.remainingEpsilon == 0)
        #expect(status.activeGenerations == 1)
        let pending = try store.resumable(dataset: dataset)
        try #require(pending.count == 1)
        #expect((2...3).contains(pending[0].progress[0].released.count))
        #expect(pending[0].failureReason.contains("ended while generating"))
        #expect(throws: BudgetExceeded.self) {
            try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 1, perToken: 0.25), accountant: accountant)
        }

        // Resumed here, it finishes without paying again: three generations, exactly the budget.
        let resumed = try store.resume(generation: pending[0].reservation.id)
        var released = resumed.progress[0].released
        while released.count < 4 {
            released.append(Token(id: released.count + 1, text: "w\(released.count + 1) "))
            try store.checkpoint(resumed.reservation, demonstration: 0, released: released, finished: released.count == 4)
        }
        try store.complete(resumed.reservation, demonstrations: demonstrationSet(labels: ["A"], texts: ["a"]))
        status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.spentEpsilon == 3.0)
        #expect(status.committedEpsilon == 3.0)
        #expect(status.activeGenerations == 0)
        #expect(try store.demonstrationSets(dataset: dataset).count == 3)
    }

    @Test func aHungOwnersLeaseExpiresItsGenerationIsTakenOverAndItsLateCheckpointIsRefused() throws {
        let place = try StorePlace(.postgres, leaseSeconds: 2)
        let store = try place.open()
        let dataset = randomFingerprint()
        try store.registerDataset(fingerprint: dataset, name: "lease", labelCounts: ["A": 50])
        try store.setBudget(dataset: dataset, epsilon: 20, delta: 1e-5)

        let probe = try ProbeProcess(["generate", place.location, dataset, "A", "40", "0.25", "100", "40"])
        try #require(probe.waitForLine { $0 == "released 0 3" } != nil, "probe ended early: \(probe.finish().errors)")
        // Stopped, the process is alive (so no pid check can fail it) but renews nothing, as a hung or
        // partitioned host would.
        kill(probe.process.processIdentifier, SIGSTOP)
        defer { probe.kill() }
        #expect(try store.resumable(dataset: dataset).isEmpty, "a live lease must not be reaped")

        let deadline = Date().addingTimeInterval(15)
        var pending: [ResumableGeneration] = []
        while pending.isEmpty && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.25)
            pending = try store.resumable(dataset: dataset)
        }
        try #require(pending.count == 1, "the lease did not expire within 15 s")
        #expect(pending[0].failureReason.contains("lease expired"))
        let taken = try store.resume(generation: pending[0].reservation.id)

        // The old owner wakes up: its next checkpoint is refused, so it cannot release another token.
        kill(probe.process.processIdentifier, SIGCONT)
        let outcome = probe.finish()
        #expect(outcome.status == 1)
        #expect(outcome.errors.contains("is being run by live process"), "\(outcome.errors)")

        var released = taken.progress[0].released
        #expect(released.count >= 3)
        released.append(Token(id: 99, text: "end"))
        try store.checkpoint(taken.reservation, demonstration: 0, released: released, finished: true)
        try store.complete(taken.reservation, demonstrations: demonstrationSet(labels: ["A"], texts: ["a"]))
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.spentEpsilon == 10)
        #expect(status.activeGenerations == 0)
    }

    /// A lease runs from when it is written: a reservation that waited on the data set's row lock for
    /// longer than the lease is not born expired, so it is not reaped as failed while its owner runs.
    /// (With the lease counted from its transaction's start, `now()`, it was.)
    @Test func aReservationThatWaitedForTheLockLongerThanItsLeaseStillHoldsAWholeLease() async throws {
        let place = try StorePlace(.postgres, leaseSeconds: 1)
        let store = try place.open()
        let dataset = randomFingerprint()
        try store.registerDataset(fingerprint: dataset, name: "lock-wait", labelCounts: ["A": 50])
        try store.setBudget(dataset: dataset, epsilon: 100, delta: 1e-5)

        // Another session holds the data set's row lock for 2 s, as a reservation that checks the budget
        // again under the lock does.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["psql", try #require(StoreBackend.postgresURL), "-v", "ON_ERROR_STOP=1", "-q", "-c", """
            SET search_path TO \(try #require(place.schema));
            SELECT fingerprint FROM dataset WHERE fingerprint = '\(dataset)' FOR NO KEY UPDATE;
            SELECT pg_sleep(2);
            """]
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        try await Task.sleep(for: .milliseconds(500))

        let started = ContinuousClock.now
        let reservation = try store.reserve(dataset: dataset, plan: purePlan(labels: ["A"], tokens: 2, perToken: 0.25), accountant: accountant)
        let waited = ContinuousClock.now - started
        holder.waitUntilExit()
        try #require(holder.terminationStatus == 0, "psql could not hold the lock")
        try #require(waited > .milliseconds(1200), "the reservation did not wait for the lock (\(waited)), so this shows nothing")

        // Listing reaps expired leases; this one is whole, and its owner goes on.
        #expect(try store.resumable(dataset: dataset).isEmpty)
        try await store.checkpoint(reservation, demonstration: 0, released: tokens(1), finished: false)
    }
}
