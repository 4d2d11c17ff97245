import Foundation
import Testing
@testable import DPAccounting

/// Pure-DP steps (the exponential mechanism) under the PLD accountant, checked against the exact
/// answer: T steps of the two-outcome dominating pair give a binomial privacy loss, whose
/// hockey-stick divergence can be summed term by term.
@Suite("Pure DP (exponential mechanism)")
struct PureDPTests {
    struct Setting: Sendable, CustomStringConvertible {
        var epsilon: Double
        var q: Double
        var steps: Int
        var delta: Double
        var description: String { "eps0 \(epsilon) q \(q) T \(steps) delta \(delta)" }
        var event: PrivacyEvent {
            let step = PrivacyEvent.pureDP(epsilon: epsilon)
            return .selfComposed(event: q < 1 ? .poissonSampled(samplingRate: q, event: step) : step, count: steps)
        }
    }

    static let settings: [Setting] = [
        Setting(epsilon: 2 / 0.39, q: 20.0 / 30000, steps: 100, delta: 1.0 / 30000),
        Setting(epsilon: 1, q: 0.01, steps: 200, delta: 1e-5),
        Setting(epsilon: 0.5, q: 0.1, steps: 30, delta: 1e-5),
        Setting(epsilon: 0.1, q: 1, steps: 50, delta: 1e-5),
        Setting(epsilon: 1, q: 1, steps: 1, delta: 1e-3),
    ]

    /// Exact delta(eps) of `steps` compositions of the two-point loss distribution (losses l, probabilities p).
    static func exactDelta(_ eps: Double, losses: (Double, Double), probabilities: (Double, Double), steps: Int) -> Double {
        var total = 0.0
        for k in 0...steps {
            let loss = Double(k) * losses.0 + Double(steps - k) * losses.1
            guard loss > eps else { continue }
            let logP = LogSpace.binomial(Double(steps), Double(k)) + Double(k) * log(probabilities.0)
                + Double(steps - k) * log(probabilities.1)
            total += exp(logP) * -expm1(eps - loss)
        }
        return total
    }

    /// The exact smallest epsilon, the worse of removal and addition (bisection to 1e-12).
    static func exactEpsilon(_ s: Setting) -> Double {
        let p1 = 1 / (1 + exp(-s.epsilon)), p0 = 1 - p1
        let u1 = s.q * p1 + (1 - s.q) * p0, u0 = 1 - u1
        let gain = log1p(s.q * expm1(s.epsilon)), loss = log1p(s.q * expm1(-s.epsilon))
        func delta(_ e: Double) -> Double {
            max(exactDelta(e, losses: (gain, loss), probabilities: (u1, u0), steps: s.steps),
                exactDelta(e, losses: (-gain, -loss), probabilities: (p0, p1), steps: s.steps))
        }
        if delta(0) <= s.delta { return 0 }
        var lo = 0.0, hi = Double(s.steps) * s.epsilon
        while hi - lo > 1e-12 * hi {
            let mid = 0.5 * (lo + hi)
            if delta(mid) > s.delta { lo = mid } else { hi = mid }
        }
        return hi
    }

    @Test("PLD for pure-DP steps is pessimistic and within 1% of the exact value", arguments: settings)
    func pldMatchesExact(_ s: Setting) throws {
        let exact = Self.exactEpsilon(s)
        let pld = try PLDAccountant().epsilon(for: s.event, delta: s.delta)
        #expect(pld >= exact * (1 - 1e-9), "\(s): PLD \(pld) below exact \(exact)")
        #expect(pld <= exact * 1.01 + 1e-3, "\(s): PLD \(pld) vs exact \(exact)")
    }

    @Test("PLD for pure-DP steps is never looser than RDP or basic composition", arguments: settings)
    func tighterThanRDP(_ s: Setting) throws {
        let pld = try PLDAccountant().epsilon(for: s.event, delta: s.delta)
        let rdp = try RDPAccountant().epsilon(for: s.event, delta: s.delta)
        #expect(pld <= rdp * (1 + 1e-9))
        #expect(pld <= Double(s.steps) * RDPPure.amplified(epsilon: s.epsilon, q: s.q) + 1e-3)
    }
}
