import DPAccounting
import Testing
import FewShotCore

@Suite struct PrivacyPlanTests {
    @Test func partitionModeTokensAreTheBareMechanismOnTheDemonstrationsSubsample() {
        let plan = PrivacyPlan(settings: settings(sampling: .partition), examplesPerLabel: ["pos": 100, "neg": 50])
        #expect(plan.tokenEvent(label: "pos", noiseMultiplier: 0.4) == .gaussian(noiseMultiplier: 0.4))
    }

    @Test func aPartitionDemonstrationIsOnePoissonSampledMechanism() {
        // M = 4, N = 2: q = 8/100 for pos, 8/50 for neg; T = 5 Gaussian releases on one subsample.
        let plan = PrivacyPlan(
            settings: settings(sampling: .partition, privacy: .noisy(noiseMultiplierByLabel: ["pos": 3, "neg": 4]), labels: ["pos", "neg", "pos"]),
            examplesPerLabel: ["pos": 100, "neg": 50])
        let pos = PrivacyEvent.poissonSampled(samplingRate: 0.08, event: .selfComposed(event: .gaussian(noiseMultiplier: 3), count: 5))
        let neg = PrivacyEvent.poissonSampled(samplingRate: 0.16, event: .selfComposed(event: .gaussian(noiseMultiplier: 4), count: 5))
        #expect(plan.demonstrationEvent(label: "pos") == pos)
        // Two shots of pos use independent subsamples: sequential composition.
        #expect(plan.plannedEventsByLabel() == ["pos": .selfComposed(event: pos, count: 2), "neg": neg])
        #expect(plan.plannedDemonstrations().map(\.plannedEvent) == [pos, neg, pos])
        #expect(plan.plannedDemonstrations().map(\.tokenEvent) == [.gaussian(noiseMultiplier: 3), .gaussian(noiseMultiplier: 4), .gaussian(noiseMultiplier: 3)])
        #expect(plan.eventShape(label: "pos")(2) == .selfComposed(
            event: .poissonSampled(samplingRate: 0.08, event: .selfComposed(event: .gaussian(noiseMultiplier: 2), count: 5)), count: 2))
        #expect(plan.noiseStandardDeviation(label: "neg") == 4 * 2.0.squareRoot() / 4)
    }

    @Test func aPartitionOverAllTheDataOrWithoutReplacementIsNotAmplified() {
        // q = 1: every example is used, so there is no subsample to amplify.
        let all = PrivacyPlan(settings: settings(sampling: .partition, privacy: .noisy(noiseMultiplierByLabel: ["pos": 3])), examplesPerLabel: ["pos": 8])
        #expect(all.demonstrationEvent(label: "pos") == .selfComposed(event: .gaussian(noiseMultiplier: 3), count: 5))
        var s = settings(sampling: .partition, privacy: .noisy(noiseMultiplierByLabel: ["pos": 3]), labels: ["pos"])
        s.subsampleScheme = .withoutReplacement
        let fixed = PrivacyPlan(settings: s, examplesPerLabel: ["pos": 100])
        #expect(!s.amplifiedOncePerDemonstration)
        #expect(fixed.demonstrationEvent(label: "pos") == .selfComposed(event: .gaussian(noiseMultiplier: 3), count: 5))
    }

    @Test func perLabelBatchCountsSetTheirOwnRateAndNoise() {
        var s = settings(batches: 10, batchSize: 1, sampling: .partition, privacy: .noisy(noiseMultiplierByLabel: ["pos": 2, "neg": 2]))
        s.batchesByLabel = ["neg": 5]
        let plan = PrivacyPlan(settings: s, examplesPerLabel: ["pos": 100, "neg": 50])
        #expect(plan.samplingRate(label: "pos") == 0.1 && plan.samplingRate(label: "neg") == 0.1)
        #expect(plan.noiseStandardDeviation(label: "pos")! < plan.noiseStandardDeviation(label: "neg")!)
        #expect(s.largestBatchCount == 10)
    }

    @Test func aLabelWithoutANoiseMultiplierIsNonPrivateNeverFree() {
        // Issue 13.8: a noisy run that lacks a sigma for a label must not be accounted as releasing nothing.
        let plan = PrivacyPlan(settings: settings(privacy: .noisy(noiseMultiplierByLabel: ["pos": 1])), examplesPerLabel: ["pos": 100, "neg": 100])
        #expect(plan.plannedEventsByLabel()["neg"] == .nonPrivate)
        #expect(plan.plannedDemonstrations().map(\.plannedEvent).contains(.nonPrivate))
    }

    @Test func calibrationGivesEachLabelItsOwnSigmaAtTheRunsDelta() throws {
        let plan = PrivacyPlan(settings: settings(batches: 10, batchSize: 1, sampling: .partition, labels: ["pos", "neg"]),
                               examplesPerLabel: ["pos": 10_000, "neg": 200])
        let sigmas = try plan.calibratedNoiseMultipliers(epsilon: 4, delta: 1e-4, accountant: PLDAccountant())
        // The larger label samples at a lower rate, so it needs less noise for the same epsilon.
        #expect(sigmas["pos"]! < sigmas["neg"]!)
        for label in ["pos", "neg"] {
            let e = try PLDAccountant().epsilon(for: plan.eventShape(label: label)(sigmas[label]!), delta: 1e-4)
            #expect(e <= 4 && e > 3.9, "\(label): epsilon \(e)")
        }
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

    @Test func theDefaultDeltaIsOneOverTheSmallestLabelAndRefusesASingleExample() throws {
        #expect(try PrivacyPlan.defaultDelta(labels: ["pos", "neg"], examplesPerLabel: ["pos": 100, "neg": 40, "other": 2]) == 1.0 / 40)
        #expect(throws: GenerationError.singleExampleLabel(label: "neg")) {
            try PrivacyPlan.defaultDelta(labels: ["pos", "neg"], examplesPerLabel: ["pos": 100, "neg": 1])
        }
        // The core names the setting as the job API does; the command line passes its option names.
        let error = GenerationError.singleExampleLabel(label: "neg")
        #expect("\(error)".contains("pass delta (e.g. 1e-5)") && "\(error)".contains("with labels") && !"\(error)".contains("--"))
        #expect(error.description(naming: { "--" + $0.rawValue }).contains("pass --delta (e.g. 1e-5)"))
        // A label left out does not set delta.
        #expect(try PrivacyPlan.defaultDelta(labels: ["pos"], examplesPerLabel: ["pos": 100, "neg": 1]) == 1.0 / 100)
    }
}
