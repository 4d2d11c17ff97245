import FewShotStore
import FewShotTestSupport
import Foundation
import Testing

/// Runs the `FewShotStoreProbe` executable as a separate process against a shared store file.
@Suite struct CrossProcessTests {
    let accountant = BasicCompositionAccountant()

    /// Starts a probe generating demonstrations for labels A and B (10 tokens of 0.25 each; A stops
    /// after 4) and kills it with SIGKILL once B has released 3 tokens.
    func killedGeneration(_ place: StorePlace) throws -> (path: String, dataset: String) {
        let path = place.location
        let store = try place.open()
        let dataset = randomFingerprint()
        try store.registerDataset(fingerprint: dataset, name: "crash", labelCounts: ["A": 50, "B": 50])
        try store.setBudget(dataset: dataset, epsilon: 2.5, delta: 1e-5)
        try store.close()

        let probe = try ProbeProcess(["generate", path, dataset, "A,B", "10", "0.25", "40", "4"])
        let line = probe.waitForLine { $0 == "released 1 3" || $0 == "completed" }
        probe.kill()
        try #require(line == "released 1 3", "probe ended early: \(probe.finish().errors)")
        return (path, dataset)
    }

    @Test(arguments: StoreBackend.enabled) func aKilledGenerationKeepsItsStartedDemonstrationsChargedAndResumesPayingNothingMore(backend: StoreBackend) throws {
        let place = try StorePlace(backend)
        let (_, dataset) = try killedGeneration(place)

        let store = try place.open()
        try (store as? FewShotStore)?.verifyIntegrity()
        let pending = try store.resumable()
        try #require(pending.count == 1)
        let released = pending[0].progress.map(\.released.count)
        #expect(released[0] == 4 && pending[0].progress[0].finished)
        #expect((3...4).contains(released[1]) && !pending[0].progress[1].finished)
        #expect(pending[0].failureReason.contains("ended while generating"))

        var status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        // A finished and B started: both are spent in full (where B stopped is not data-independent);
        // the plan stays reserved.
        #expect(status.labels.map(\.spentEpsilon) == [2.5, 2.5])
        #expect(status.labels.map(\.committedEpsilon) == [2.5, 2.5])
        #expect(status.activeGenerations == 1)
        // The reservation still holds: nothing else fits.
        #expect(throws: BudgetExceeded.self) {
            try store.reserve(dataset: dataset, plan: purePlan(labels: ["B"], tokens: 1, perToken: 0.25), accountant: accountant)
        }

        let resumed = try store.resume(generation: pending[0].reservation.id)
        var tokensB = resumed.progress[1].released
        while tokensB.count < 10 {
            tokensB.append(.init(id: tokensB.count + 1, text: "w\(tokensB.count + 1) "))
            try store.checkpoint(resumed.reservation, demonstration: 1, released: tokensB, finished: tokensB.count == 10)
        }
        try store.complete(resumed.reservation, demonstrations: demonstrationSet(labels: ["A", "B"], texts: ["a", "b"]))
        status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.labels.map(\.spentEpsilon) == [2.5, 2.5])
        #expect(status.committedEpsilon == 2.5)
        #expect(status.remainingEpsilon == 0)
        #expect(status.activeGenerations == 0)
    }

    @Test(arguments: StoreBackend.enabled) func aKilledGenerationCanBeAbandonedKeepingItsStartedDemonstrationsCharged(backend: StoreBackend) throws {
        let place = try StorePlace(backend)
        let (_, dataset) = try killedGeneration(place)
        let store = try place.open()
        let pending = try store.resumable()
        try #require(pending.count == 1)
        #expect(pending[0].progress[1].released.count < 10)
        try store.abandon(generation: pending[0].reservation.id)
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.labels.map(\.committedEpsilon) == [2.5, 2.5])
        #expect(status.activeGenerations == 0)
        #expect(try store.resumable().isEmpty)
    }

    @Test(arguments: StoreBackend.enabled) func twoProcessesSharingOneStoreNeitherCorruptNorDoubleSpend(backend: StoreBackend) throws {
        let place = try StorePlace(backend)
        let path = place.location
        let store = try place.open()
        let dataset = randomFingerprint()
        try store.registerDataset(fingerprint: dataset, name: "shared", labelCounts: ["A": 50])
        try store.setBudget(dataset: dataset, epsilon: 10, delta: 1e-5)   // exactly 20 generations of 0.5

        let probes = try (0..<2).map { _ in try ProbeProcess(["reserve-loop", path, dataset, "A", "2", "0.25"]) }
        var granted = 0
        for probe in probes {
            let line = probe.waitForLine { $0.hasPrefix("reserved ") }
            let outcome = probe.finish()
            #expect(outcome.status == 0, "\(outcome.errors)")
            granted += Int(line?.dropFirst("reserved ".count) ?? "") ?? -1000
        }
        #expect(granted == 20)
        try (store as? FewShotStore)?.verifyIntegrity()
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant)
        #expect(status.committedEpsilon == 10)
        #expect(status.spentEpsilon == 10)
        #expect(status.activeGenerations == 0)
        #expect(try store.demonstrationSets(dataset: dataset).count == 20)
    }
}
