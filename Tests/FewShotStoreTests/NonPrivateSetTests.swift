import DPAccounting
import FewShotCore
import FewShotStore
import Foundation
import Testing

/// `fewshot gen --epsilon inf` (the no-noise baseline) stores a set whose epsilon is infinite.
@Suite struct NonPrivateSetTests {
    @Test(arguments: StoreBackend.enabled) func anInfiniteEpsilonSetIsStoredReadAndExported(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        let plan = GenerationPlan(demonstrations: [.init(label: "A", tokenEvent: .nonPrivate, maxTokens: 4)])
        let reservation = try store.reserve(dataset: dataset, plan: plan, accountant: DefaultAccountant())
        try store.checkpoint(reservation, demonstration: 0, released: tokens(2), finished: true)
        var record = demonstrationSet(labels: ["A"], texts: ["baseline"])
        record.epsilon = .infinity
        record.sigma = 0
        let stored = try store.complete(reservation, demonstrations: record)
        #expect(stored.epsilon == .infinity)
        #expect(try store.demonstrationSet(reservation.id).epsilon == .infinity)
        #expect(try store.exportJSONL(reservation.id).contains("\"inf\""))
        // No noise: a text can copy a private example, so the set is not private anywhere it is shown.
        #expect(stored.isPrivate == false)
        #expect(try store.demonstrationSet(reservation.id).isPrivate == false)
        let line = try #require(try JSONSerialization.jsonObject(with: Data(try store.exportJSONL(reservation.id).split(separator: "\n")[0].utf8)) as? [String: Any])
        #expect(line["private"] as? Bool == false)
        let status = try store.budgetStatus(dataset: dataset, accountant: DefaultAccountant())
        #expect(status.spentEpsilon == .infinity)
    }

    @Test func onlyUnseededSetsWithAFiniteEpsilonArePrivate() {
        var record = demonstrationSet(labels: ["A"], texts: ["x"])
        #expect(record.isPrivate && record.nonPrivateReason == nil)
        record.epsilon = 0   // the public prompt only: reads no private data
        #expect(record.isPrivate)
        record.epsilon = .infinity
        #expect(!record.isPrivate && record.nonPrivateReason?.contains("inf") == true)
        record.epsilon = .nan
        #expect(!record.isPrivate)
        let seeded = demonstrationSet(labels: ["A"], texts: ["x"], seeded: true)
        #expect(!seeded.isPrivate && seeded.nonPrivateReason?.contains("seed") == true)
    }
}
