import DPAccounting
import Testing
import FewShotCore

@Suite struct PrivacyPlanTests {
    @Test func partitionModeClaimsNoAmplification() {
        let plan = PrivacyPlan(settings: settings(sampling: .partition), examplesPerLabel: ["pos": 100, "neg": 50])
        #expect(plan.tokenEvent(label: "pos", noiseMultiplier: 0.4) == .gaussian(noiseMultiplier: 0.4))
    }

    @Test func withoutReplacementIsAccountedAsSuch() {
        var s = settings()
        s.subsampleScheme = .withoutReplacement
        let plan = PrivacyPlan(settings: s, examplesPerLabel: ["pos": 100])
        #expect(plan.tokenEvent(label: "pos", noiseMultiplier: 0.4) == .sampledWithoutReplacement(sourceSize: 100, sampleSize: 8, event: .gaussian(noiseMultiplier: 0.4)))
    }

    @Test func exponentialMechanismIsPureDP() {
        let plan = PrivacyPlan(settings: settings(sampling: .partition, mechanism: .exponential), examplesPerLabel: ["pos": 100])
        #expect(plan.tokenEvent(label: "pos", noiseMultiplier: 4) == .pureDP(epsilon: 0.5))
    }

    @Test func noNoiseIsNonPrivateAndLabelsComposeInParallel() {
        let plan = PrivacyPlan(settings: settings(privacy: .noNoise), examplesPerLabel: ["pos": 10, "neg": 10])
        #expect(plan.plannedEvent() == .parallel([.nonPrivate, .nonPrivate]))
    }
}
