import DPAccounting
import Foundation
import Testing
@testable import FewShotCore

@Suite struct NoisyArgmaxTests {
    let noise = NoiseSource.seeded(7)
    let trials = 20_000

    func frequency(_ argmax: NoisyArgmax, _ scores: [Double], hidden: Int = 0, of winner: NoisyArgmax.Winner) -> Double {
        var hits = 0
        for _ in 0..<trials where argmax.select(scores, hiddenCandidates: hidden, noise: noise) == winner { hits += 1 }
        return Double(hits) / Double(trials)
    }

    @Test func noNoiseIsPlainArgmax() {
        #expect(NoisyArgmax.none.select([0.1, 0.7, 0.2], noise: noise) == .candidate(1))
    }

    @Test func gaussianNoiseHasTheRequestedScale() {
        // P(0 wins) for scores (d, 0) with N(0, s^2) on each = Phi(d / (s * sqrt 2)).
        let s = 0.5, d = 0.4
        let expected = 0.5 * erfc(-(d / (s * 2.0.squareRoot())) / 2.0.squareRoot())
        let observed = frequency(.gaussian(scale: s), [d, 0], of: .candidate(0))
        #expect(abs(observed - expected) < 0.015, "observed \(observed), expected \(expected)")
    }

    @Test func gumbelNoiseIsTheExponentialMechanism() {
        // Gumbel-max with scale b picks i with probability proportional to exp(u_i / b).
        let b = 0.7
        let expected = exp(1 / b) / (exp(1 / b) + 1)
        let observed = frequency(.gumbel(scale: b), [1, 0], of: .candidate(0))
        #expect(abs(observed - expected) < 0.015, "observed \(observed), expected \(expected)")
    }

    @Test(arguments: [NoisyArgmax.gaussian(scale: 0.3), .gumbel(scale: 0.3)])
    func hiddenCandidatesCompeteLikeVisibleOnes(argmax: NoisyArgmax) {
        // One visible candidate and nine hidden ones, all with aggregate 0: each wins 1/10 of the time.
        let observed = frequency(argmax, [0], hidden: 9, of: .candidate(0))
        #expect(abs(observed - 0.1) < 0.01, "observed \(observed)")
    }

    @Test func normalQuantileMatchesTheCDF() {
        for p in [1e-300, 1e-12, 1e-4, 0.02, 0.3, 0.5, 0.9, 0.999999] {
            let x = StandardNormal.quantile(p)
            let back = 0.5 * erfc(-x / 2.0.squareRoot())
            #expect(abs(back - p) <= 1e-12 * max(p, 1e-300) + 1e-300, "p \(p) -> x \(x) -> \(back)")
        }
    }
}
