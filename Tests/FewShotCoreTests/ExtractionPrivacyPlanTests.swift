import DPAccounting
import Testing
import FewShotCore

@Suite struct ExtractionPrivacyPlanTests {
    let sigma = 0.64

    @Test func allExamplesFormOneGroupAndShotsComposeSequentially() {
        let plan = PrivacyPlan(settings: extractionSettings(shots: 4, maxTokens: 20, answerMaxTokens: 10, privacy: .noisy(noiseMultiplierByLabel: ["": sigma]), batches: 20, batchSize: 4),
                               examplesPerLabel: ["": 1000])
        let token = PrivacyEvent.poissonSampled(samplingRate: 80.0 / 1000.0, event: .gaussian(noiseMultiplier: sigma))
        #expect(plan.tokenEvent(label: "", noiseMultiplier: sigma) == token)
        #expect(plan.plannedEventsByLabel() == ["": .selfComposed(event: token, count: 4 * 30)])
        #expect(plan.plannedEvent() == .parallel([.selfComposed(event: token, count: 120)]))
        // Calibration sees the same event shape.
        #expect(plan.eventShape(label: "")(sigma) == .selfComposed(event: token, count: 120))
    }

    @Test func plannedDemonstrationsAreUnlabelledAndChargedBothPhases() {
        let plan = PrivacyPlan(settings: extractionSettings(shots: 2, privacy: .noisy(noiseMultiplierByLabel: ["": sigma])), examplesPerLabel: ["": 40])
        let token = PrivacyEvent.poissonSampled(samplingRate: 0.2, event: .gaussian(noiseMultiplier: sigma))
        #expect(plan.plannedDemonstrations() == Array(repeating: PlannedDemonstration(label: nil, tokenEvent: token, maxTokens: 8), count: 2))
        let publicOnly = PrivacyPlan(settings: extractionSettings(privacy: .publicOnly), examplesPerLabel: ["": 40])
        #expect(publicOnly.plannedDemonstrations() == [PlannedDemonstration(label: nil, tokenEvent: .noOp, maxTokens: 8)])
        let noNoise = PrivacyPlan(settings: extractionSettings(privacy: .noNoise), examplesPerLabel: ["": 40])
        #expect(noNoise.plannedDemonstrations() == [PlannedDemonstration(label: nil, tokenEvent: .nonPrivate, maxTokens: 8)])
    }

    @Test func classificationPlansAreUnchanged() {
        let s = settings(maxTokens: 7, privacy: .noisy(noiseMultiplierByLabel: ["pos": 0.5, "neg": 0.6]), labels: ["pos", "neg", "pos"])
        #expect(s.tokensPerDemonstration == 7)
        let plan = PrivacyPlan(settings: s, examplesPerLabel: ["pos": 20, "neg": 40])
        let pos = PrivacyEvent.poissonSampled(samplingRate: 0.4, event: .gaussian(noiseMultiplier: 0.5))
        let neg = PrivacyEvent.poissonSampled(samplingRate: 0.2, event: .gaussian(noiseMultiplier: 0.6))
        #expect(plan.plannedEventsByLabel() == ["pos": .selfComposed(event: pos, count: 14), "neg": .selfComposed(event: neg, count: 7)])
        #expect(plan.plannedDemonstrations() == [
            PlannedDemonstration(label: "pos", tokenEvent: pos, maxTokens: 7),
            PlannedDemonstration(label: "neg", tokenEvent: neg, maxTokens: 7),
            PlannedDemonstration(label: "pos", tokenEvent: pos, maxTokens: 7),
        ])
    }
}
