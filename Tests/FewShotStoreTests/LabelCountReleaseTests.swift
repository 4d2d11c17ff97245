import DPAccounting
import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Testing

@Suite struct LabelCountReleaseTests {
    let accountant = DefaultAccountant()

    func release(_ counts: [String: Int]) -> LabelCountRelease {
        LabelCountRelease(counts: counts, noiseMultiplier: 10, isReleased: true)
    }

    @Test(arguments: StoreBackend.enabled) func theCountsAreDrawnOnceAndChargedOnceToEveryLabel(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        #expect(try store.releasedLabelCounts(dataset: dataset) == nil)
        var draws = 0
        let first = try store.releaseLabelCounts(dataset: dataset, accountant: accountant) { _ in
            draws += 1
            return release(["A": 93, "B": 108])
        }
        let second = try store.releaseLabelCounts(dataset: dataset, accountant: accountant) { _ in
            draws += 1
            return release(["A": 1, "B": 1])
        }
        #expect(draws == 1)
        #expect(first == second)
        #expect(try store.releasedLabelCounts(dataset: dataset) == release(["A": 93, "B": 108]))

        // The release is spent on every label, at once, as one Gaussian of multiplier 10.
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant, delta: 1e-5)
        let alone = try accountant.epsilon(for: .gaussian(noiseMultiplier: 10), delta: 1e-5)
        #expect(status.labels.map(\.label) == ["A", "B"])
        #expect(status.labels.allSatisfy { abs($0.spentEpsilon - alone) < 1e-9 })
        #expect(status.releasedLabelCounts == ["A": 93, "B": 108])
        // Without a budget or a caller's delta, epsilons are reported at 1/(released total), not 1/200.
        #expect(try store.budgetStatus(dataset: dataset, accountant: accountant).delta == 1.0 / 201)
    }

    @Test(arguments: StoreBackend.enabled) func aReleaseThatDoesNotFitTheBudgetIsRefusedAndNothingIsDrawn(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        let alone = try accountant.epsilon(for: .gaussian(noiseMultiplier: 10), delta: 1e-5)
        try store.setBudget(dataset: dataset, epsilon: alone * 0.9, delta: 1e-5)
        var draws = 0
        #expect(throws: BudgetExceeded.self) {
            try store.releaseLabelCounts(dataset: dataset, accountant: accountant) { _ in
                draws += 1
                return release(["A": 100, "B": 100])
            }
        }
        #expect(draws == 0)
        #expect(try store.releasedLabelCounts(dataset: dataset) == nil)
        #expect(try store.budgetStatus(dataset: dataset, accountant: accountant).spentEpsilon == 0)
    }

    @Test(arguments: StoreBackend.enabled) func laterReservationsPayForTheReleaseOnlyOnce(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        _ = try store.releaseLabelCounts(dataset: dataset, accountant: accountant) { _ in release(["A": 100, "B": 100]) }
        let demonstration = PrivacyEvent.poissonSampled(samplingRate: 0.5, event: .selfComposed(event: .gaussian(noiseMultiplier: 2), count: 5))
        let plan = GenerationPlan(demonstrations: [.init(label: "A", tokenEvent: .gaussian(noiseMultiplier: 2), maxTokens: 5, event: demonstration)])
        for _ in 0..<2 {
            let reservation = try store.reserve(dataset: dataset, plan: plan, accountant: accountant)
            try store.checkpoint(reservation, demonstration: 0, released: tokens(5), finished: true)
            try store.complete(reservation, demonstrations: demonstrationSet(labels: ["A"], texts: ["x"]))
        }
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant, delta: 1e-5)
        let expected = try accountant.epsilon(
            for: .composed([.gaussian(noiseMultiplier: 10), .selfComposed(event: demonstration, count: 2)]), delta: 1e-5)
        let a = try #require(status.labels.first { $0.label == "A" })
        #expect(abs(a.spentEpsilon - expected) < 1e-6 * expected, "A spent \(a.spentEpsilon), expected \(expected)")
    }

    @Test func drawingAddsNoiseOfTheStatedScaleAndNeverGoesBelowOne() {
        let noise = NoiseSource.seeded(7)
        var differences: [Double] = []
        for _ in 0..<2000 {
            let r = LabelCountRelease.draw(exact: ["A": 1000, "B": 3], labels: ["A", "B", "C"], noise: noise)
            #expect(r.isReleased)
            #expect(Set(r.counts.keys) == ["A", "B", "C"], "a label without examples is released too")
            #expect(r.counts.values.allSatisfy { $0 >= 1 })
            differences.append(Double(r.counts["A"]! - 1000))
        }
        let mean = differences.reduce(0, +) / Double(differences.count)
        let sd = (differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(differences.count)).squareRoot()
        #expect(abs(mean) < 1, "mean \(mean)")
        #expect(abs(sd - 10) < 0.6, "sd \(sd)")
        #expect(!LabelCountRelease.preview(exact: ["A": 5], labels: ["A"]).isReleased)
    }

    @Test(arguments: StoreBackend.enabled) func aPoolsGroupsFitTheBudgetOfOneSet(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        let demonstration = PrivacyEvent.poissonSampled(samplingRate: 0.3, event: .selfComposed(event: .gaussian(noiseMultiplier: 2), count: 5))
        let one = try accountant.epsilon(for: demonstration, delta: 1e-5)
        try store.setBudget(dataset: dataset, epsilon: one * 1.01, delta: 1e-5)
        let pool = GenerationPlan(demonstrations: (0..<3).map {
            .init(label: "A", tokenEvent: .gaussian(noiseMultiplier: 2), maxTokens: 5, event: demonstration, group: $0)
        })
        // Three groups of one generation read disjoint examples: they fit the budget of one.
        _ = try store.reserve(dataset: dataset, plan: pool, accountant: accountant)
        // A second pool composes with the first: refused.
        #expect(throws: BudgetExceeded.self) { try store.reserve(dataset: dataset, plan: pool, accountant: accountant) }
        // Without groups the same three demonstrations compose in sequence: refused too.
        let directory2 = try StorePlace(backend)
        let (store2, dataset2) = try makeStore(directory2)
        try store2.setBudget(dataset: dataset2, epsilon: one * 1.01, delta: 1e-5)
        let sequential = GenerationPlan(demonstrations: (0..<3).map { _ in
            .init(label: "A", tokenEvent: .gaussian(noiseMultiplier: 2), maxTokens: 5, event: demonstration)
        })
        #expect(throws: BudgetExceeded.self) { try store2.reserve(dataset: dataset2, plan: sequential, accountant: accountant) }
    }
}
