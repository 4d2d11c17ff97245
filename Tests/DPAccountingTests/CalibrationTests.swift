import Testing
@testable import DPAccounting

@Suite("Calibration")
struct CalibrationTests {
    struct Setting: Sendable, CustomStringConvertible {
        var q: Double
        var steps: Int
        var delta: Double
        var epsilon: Double
        var description: String { "q \(q) T \(steps) delta \(delta) epsilon \(epsilon)" }
        func event(_ sigma: Double) -> PrivacyEvent {
            .selfComposed(event: .poissonSampled(samplingRate: q, event: .gaussian(noiseMultiplier: sigma)), count: steps)
        }
    }

    static let settings: [Setting] = [
        Setting(q: 20.0 / 30000, steps: 100, delta: 1.0 / 30000, epsilon: 4),
        Setting(q: 0.01, steps: 10, delta: 1e-5, epsilon: 1),
        Setting(q: 0.1, steps: 50, delta: 1e-5, epsilon: 2),
        Setting(q: 1, steps: 20, delta: 1e-5, epsilon: 8),
    ]

    /// The returned sigma meets the target, and sigma shrunk by twice the tolerance does not.
    func roundTrip(_ s: Setting, accountant: any PrivacyAccountant) throws {
        let tolerance = Calibration.defaultRelativeTolerance
        let sigma = try Calibration.noiseMultiplier(epsilon: s.epsilon, delta: s.delta, accountant: accountant) { s.event($0) }
        let achieved = try accountant.epsilon(for: s.event(sigma), delta: s.delta)
        #expect(achieved <= s.epsilon, "\(s): sigma \(sigma) gives \(achieved)")
        let smaller = try accountant.epsilon(for: s.event(sigma * (1 - 2 * tolerance)), delta: s.delta)
        #expect(smaller > s.epsilon, "\(s): sigma \(sigma) is not the smallest (\(sigma * (1 - 2 * tolerance)) gives \(smaller))")
    }

    @Test("PLD calibration round-trips", arguments: settings)
    func pld(_ s: Setting) throws {
        try roundTrip(s, accountant: PLDAccountant())
    }

    @Test("RDP calibration round-trips", arguments: settings)
    func rdp(_ s: Setting) throws {
        try roundTrip(s, accountant: RDPAccountant())
    }

    @Test("the subsampled-Gaussian helper agrees with the generic search")
    func helper() throws {
        let s = Self.settings[1]
        let generic = try Calibration.noiseMultiplier(epsilon: s.epsilon, delta: s.delta) { s.event($0) }
        let helper = try Calibration.subsampledGaussianNoiseMultiplier(epsilon: s.epsilon, delta: s.delta,
                                                                       samplingRate: s.q, steps: s.steps)
        #expect(generic == helper)
    }

    @Test("exponential mechanism calibration round-trips through its pure-DP events")
    func exponential() throws {
        let event: (Double) -> PrivacyEvent = { sigma in
            .selfComposed(event: .poissonSampled(samplingRate: 0.01, event: ExponentialMechanism.event(noiseMultiplier: sigma)), count: 100)
        }
        for accountant in [DefaultAccountant(), RDPAccountant()] as [any PrivacyAccountant] {
            let sigma = try Calibration.noiseMultiplier(epsilon: 2, delta: 1e-5, accountant: accountant, event: event)
            #expect(try accountant.epsilon(for: event(sigma), delta: 1e-5) <= 2)
            #expect(try accountant.epsilon(for: event(sigma * 0.998), delta: 1e-5) > 2)
        }
        #expect(ExponentialMechanism.noiseMultiplier(epsilon: ExponentialMechanism.epsilon(noiseMultiplier: 0.7)) == 0.7)
    }

    @Test("an unreachable target is a clear error")
    func unreachable() {
        #expect(throws: AccountingError.self) {
            _ = try Calibration.noiseMultiplier(epsilon: 1, delta: 1e-5, maximumSigma: 10) { _ in .nonPrivate }
        }
        #expect(throws: AccountingError.invalidEpsilon(0)) {
            _ = try Calibration.noiseMultiplier(epsilon: 0, delta: 1e-5) { .gaussian(noiseMultiplier: $0) }
        }
    }
}
