import DPAccounting
import FewShotCore
import FewShotStore
import Foundation
import Testing

@Suite struct PlanFromSettingsTests {
    @Test(arguments: StoreBackend.enabled) func aCoreRunIsChargedWhatItsPrivacyPlanSays(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let counts = ["World": 400, "Sports": 300]
        let (store, dataset) = try makeStore(directory, labels: counts)
        let settings = GenerationSettings(
            batches: 10, batchSize: 2, maxTokens: 30,
            privacy: .noisy(noiseMultiplierByLabel: ["World": 0.8, "Sports": 0.9]), labels: ["World", "Sports", "World"])
        let privacyPlan = PrivacyPlan(settings: settings, examplesPerLabel: counts)
        let plan = GenerationPlan(privacyPlan, summary: "agnews")
        #expect(plan.demonstrations.map(\.label) == ["World", "Sports", "World"])
        #expect(plan.demonstrations.allSatisfy { $0.maxTokens == 30 })
        #expect(plan.demonstrations[1].tokenEvent == .poissonSampled(samplingRate: 20.0 / 300, event: .gaussian(noiseMultiplier: 0.9)))

        let accountant = DefaultAccountant()
        _ = try store.reserve(dataset: dataset, plan: plan, accountant: accountant)
        let status = try store.budgetStatus(dataset: dataset, accountant: accountant, delta: 1e-5)
        let perLabel = privacyPlan.plannedEventsByLabel()
        let expectedWorld = try accountant.epsilon(for: perLabel["World"]!, delta: 1e-5)
        let expectedSports = try accountant.epsilon(for: perLabel["Sports"]!, delta: 1e-5)
        #expect(status.labels.map(\.label) == ["Sports", "World"])
        #expect(status.labels.map(\.committedEpsilon) == [expectedSports, expectedWorld])
        #expect(status.committedEpsilon == max(expectedSports, expectedWorld))
    }

    @Test(arguments: StoreBackend.enabled) func publicAndNoiselessRunsAreChargedNothingAndEverythingRespectively(backend: StoreBackend) throws {
        let directory = try StorePlace(backend)
        let (store, dataset) = try makeStore(directory)
        let accountant = DefaultAccountant()
        try store.setBudget(dataset: dataset, epsilon: 8, delta: 1e-5)
        let publicRun = GenerationPlan(PrivacyPlan(settings: GenerationSettings(batches: 1, batchSize: 1, maxTokens: 10, privacy: .publicOnly, labels: ["A"]), examplesPerLabel: ["A": 100]))
        _ = try store.reserve(dataset: dataset, plan: publicRun, accountant: accountant)
        #expect(try store.budgetStatus(dataset: dataset, accountant: accountant).committedEpsilon == 0)
        let noiseless = GenerationPlan(PrivacyPlan(settings: GenerationSettings(batches: 1, batchSize: 1, maxTokens: 10, privacy: .noNoise, labels: ["A"]), examplesPerLabel: ["A": 100]))
        let refusal = #expect(throws: BudgetExceeded.self) { try store.reserve(dataset: dataset, plan: noiseless, accountant: accountant) }
        #expect(refusal?.askedEpsilon == .infinity)
        #expect(refusal?.description.contains("asks infinite epsilon") == true)
        #expect(try store.budget(dataset: dataset) == PrivacyBudget(epsilon: 8, delta: 1e-5))
        #expect(try store.budget(dataset: randomFingerprint()) == nil)
    }
}
