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

/// Large per-step epsilons: the exponential mechanism with a small noise multiplier (`--sigma 0.05`
/// is epsilon 40 per token). The losses were computed only as log1p(q * expm1(+-eps)), infinite above
/// eps ~37 at q = 1 (e^-eps rounds 1 + expm1(-eps) to 0) and above 709 otherwise, and the grid index
/// of an infinite loss trapped the process: `fewshot account --mechanism exponential --sigma 0.05
/// --sampling none` crashed, and so would a generation job asking for it.
@Suite struct LargePureEpsilonTests {
    @Test(arguments: [38.0, 100, 400])
    func oneUnsampledStepCostsItsEpsilon(epsilon: Double) throws {
        // The exact answer at delta 1e-5 is epsilon - 1e-5 (the loss is epsilon with probability ~1).
        let pld = try PLDAccountant(cachesResults: false).epsilon(for: .pureDP(epsilon: epsilon), delta: 1e-5)
        #expect(pld >= epsilon - 1e-4 && pld <= epsilon + 2e-4, "\(pld)")
    }

    @Test func aSampledStepBeyondExpOverflowKeepsItsLoss() throws {
        // q = 1/2, epsilon 800 (e^800 overflows): the removal loss is log(1/2 + e^800 / 2) = 800 - log 2,
        // with probability about 1/2, so that is the epsilon at any small delta.
        let pld = PLDAccountant(valueDiscretizationInterval: 1e-2, cachesResults: false)
        let epsilon = try pld.epsilon(for: .poissonSampled(samplingRate: 0.5, event: .pureDP(epsilon: 800)), delta: 1e-5)
        #expect(epsilon >= 800 - log(2.0) - 1e-9 && epsilon <= 800 - log(2.0) + 0.02, "\(epsilon)")
    }

    @Test func aLossBeyondTheGridIsRefusedAndTheDefaultAnswersWithRDP() throws {
        let event = PrivacyEvent.pureDP(epsilon: 1e300)
        #expect(throws: AccountingError.self) { _ = try PLDAccountant(cachesResults: false).epsilon(for: event, delta: 1e-5) }
        #expect(try DefaultAccountant().epsilon(for: event, delta: 1e-5) >= 1e300 * (1 - 1e-9))
        // The claim names the accountant that computed it (PLD supports the event, but RDP answered).
        #expect(DefaultAccountant().accountant(for: event).name == "pld")
        #expect(try DefaultAccountant().answer(for: event, delta: 1e-5).accountant == "rdp")
        #expect(try DefaultAccountant().answer(for: .pureDP(epsilon: 1), delta: 1e-5).accountant == "pld")
    }

    /// Near 0 (|q expm1(x)| < 0.5) the loss is log1p's, to the bit; elsewhere the log-space value
    /// agrees with it to 1e-12 wherever log1p's was finite.
    @Test(arguments: [(0.3, 0.01), (1.0, 0.1), (5.0, 0.5), (20.0, 1.0), (-0.3, 0.01), (-5.0, 0.5)])
    func moderateLossesAreThoseOfLog1p(x: Double, q: Double) {
        let t = q * expm1(x)
        let value = PureDPLoss.mixtureLog(q: q, x)
        if abs(t) < 0.5 { #expect(value == log1p(t)) } else { #expect(abs(value - log1p(t)) <= 1e-12 * max(1, abs(value))) }
    }
}
