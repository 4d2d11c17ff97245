import Testing
@testable import DPAccounting

/// A noise multiplier so small that 1/sigma^2 overflows a Double is no noise. The unsampled Gaussian
/// once composed to an effective sigma of 0, which the analytic formula read as delta 0: PLD (and
/// the default accountant) printed epsilon 0 for `--sigma 1e-200`, i.e. perfect privacy for a
/// release without noise. Every accountant must say infinity.
@Suite struct VanishingNoiseTests {
    static let accountants: [any PrivacyAccountant] = [PLDAccountant(cachesResults: false), RDPAccountant(), DefaultAccountant()]

    static func events(sigma: Double) -> [PrivacyEvent] {
        let step = PrivacyEvent.gaussian(noiseMultiplier: sigma)
        return [
            step,
            .selfComposed(event: step, count: 5),
            // q = 1 is no sampling: the automatic plan gives it when it takes every example of a label.
            .selfComposed(event: .poissonSampled(samplingRate: 1, event: step), count: 3),
            .poissonSampled(samplingRate: 0.5, event: step),
            .composed([.gaussian(noiseMultiplier: 1), step]),
        ]
    }

    @Test(arguments: [1e-155, 1e-200, 1e-300, Double.leastNonzeroMagnitude])
    func epsilonIsInfiniteAndPLDDeltaIsOne(sigma: Double) throws {
        for accountant in Self.accountants {
            for event in Self.events(sigma: sigma) {
                #expect(try accountant.epsilon(for: event, delta: 1e-5) == .infinity, "\(accountant.name): \(event)")
            }
        }
        for event in Self.events(sigma: sigma) {
            #expect(try PLDAccountant(cachesResults: false).delta(for: event, epsilon: 10) == 1, "\(event)")
        }
    }

    /// Steps whose 1/sigma^2 are finite but whose sum overflows are no noise either.
    @Test func aSumOfPrecisionsThatOverflowsIsNoNoise() throws {
        let event = PrivacyEvent.selfComposed(event: .gaussian(noiseMultiplier: 1e-154), count: 100)
        for accountant in Self.accountants {
            #expect(try accountant.epsilon(for: event, delta: 1e-5) == .infinity, "\(accountant.name)")
        }
    }

    /// Just above the overflow the accountants still answer with a (huge) finite epsilon or infinity,
    /// never a small one: epsilon only grows as sigma shrinks.
    @Test func smallButRepresentableNoiseStillCostsAlmostEverything() throws {
        for accountant in Self.accountants {
            let tiny = try accountant.epsilon(for: .gaussian(noiseMultiplier: 1e-150), delta: 1e-5)
            let small = try accountant.epsilon(for: .gaussian(noiseMultiplier: 1e-3), delta: 1e-5)
            #expect(tiny >= small && small > 1_000, "\(accountant.name): \(tiny), \(small)")
        }
    }
}
