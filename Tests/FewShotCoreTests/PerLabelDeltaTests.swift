import DPAccounting
import Testing
@testable import FewShotCore

/// A run-wide delta of 1/|D| of the smallest label must not let a large label's calibration collapse:
/// with q <= delta a subsampled mechanism is (~0, delta)-DP at any sigma, so each label is
/// calibrated at min(delta, 1/|D_y|). Found in an eval run: TREC, M = 14, DESC (1,169 examples,
/// q = 0.012) calibrated at delta = 1/83 got sigma 0.12, which is epsilon ~460 at delta 1/1169.
@Suite struct PerLabelDeltaTests {
    @Test func aLargeLabelIsNotCalibratedAtTheSmallLabelsDelta() throws {
        var settings = GenerationSettings(
            batches: 14, batchSize: 1, maxTokens: 15, sampling: .partition, privacy: .noNoise, labels: ["ABBR", "DESC"])
        settings.subsampleScheme = .poisson
        let plan = PrivacyPlan(settings: settings, examplesPerLabel: ["ABBR": 83, "DESC": 1169])
        let sigmas = try plan.calibratedNoiseMultipliers(epsilon: 4, delta: 1.0 / 83, accountant: DefaultAccountant())
        let desc = try #require(sigmas["DESC"])
        #expect(desc > 0.5, "sigma \(desc) collapsed")
        let atOwnDelta = try DefaultAccountant().epsilon(for: plan.eventShape(label: "DESC")(desc), delta: 1.0 / 1169)
        #expect(atOwnDelta <= 4.0001, "epsilon \(atOwnDelta) at delta 1/|D_y|")
    }
}
