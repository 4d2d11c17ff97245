import DPAccounting
import FewShotCore
import FewShotStore
import Foundation
import Testing

/// `fewshot gen --epsilon inf` (the no-noise baseline) stores a set whose epsilon is infinite.
@Suite struct NonPrivateSetTests {
    @Test func anInfiniteEpsilonSetIsStoredReadAndExported() throws {
        let directory = try TemporaryDirectory()
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
        let status = try store.budgetStatus(dataset: dataset, accountant: DefaultAccountant())
        #expect(status.spentEpsilon == .infinity)
    }
}
