import Foundation
import Testing
@testable import DPAccounting

@Suite("Event semantics")
struct EventSemanticsTests {
    static let a = PrivacyEvent.selfComposed(event: .poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: 1)), count: 100)
    static let b = PrivacyEvent.selfComposed(event: .poissonSampled(samplingRate: 0.05, event: .gaussian(noiseMultiplier: 2)), count: 20)
    static let accountants: [any PrivacyAccountant] = [PLDAccountant(), RDPAccountant()]

    @Test("noOp costs nothing, nonPrivate is infinite")
    func trivial() throws {
        for accountant in Self.accountants {
            #expect(try accountant.epsilon(for: .noOp, delta: 1e-5) == 0)
            #expect(try accountant.epsilon(for: .composed([]), delta: 1e-5) == 0)
            #expect(try accountant.epsilon(for: .nonPrivate, delta: 1e-5) == .infinity)
            #expect(try accountant.epsilon(for: .composed([Self.a, .nonPrivate]), delta: 1e-5) == .infinity)
            #expect(try accountant.epsilon(for: .composed([Self.a, .noOp]), delta: 1e-5) == accountant.epsilon(for: Self.a, delta: 1e-5))
        }
    }

    @Test("parallel costs the most expensive branch")
    func parallel() throws {
        for accountant in Self.accountants {
            let ea = try accountant.epsilon(for: Self.a, delta: 1e-5)
            let eb = try accountant.epsilon(for: Self.b, delta: 1e-5)
            #expect(try accountant.epsilon(for: .parallel([Self.a, Self.b]), delta: 1e-5) == max(ea, eb))
            #expect(try accountant.epsilon(for: .parallel([]), delta: 1e-5) == 0)
        }
    }

    @Test("parallel nested in a composition is composed sequentially (conservative)")
    func nestedParallel() throws {
        let c = PrivacyEvent.selfComposed(event: .gaussian(noiseMultiplier: 5), count: 3)
        for accountant in Self.accountants {
            let nested = try accountant.epsilon(for: .composed([c, .parallel([Self.a, Self.b])]), delta: 1e-5)
            let sequential = try accountant.epsilon(for: .composed([c, Self.a, Self.b]), delta: 1e-5)
            #expect(nested == sequential)
            #expect(nested > (try accountant.epsilon(for: .composed([c, Self.a]), delta: 1e-5)))
        }
    }

    @Test("composition is additive in the event structure")
    func compositionStructure() throws {
        for accountant in Self.accountants {
            let step = PrivacyEvent.poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: 1))
            let flat = try accountant.epsilon(for: .selfComposed(event: step, count: 100), delta: 1e-5)
            let nested = try accountant.epsilon(for: .selfComposed(event: .selfComposed(event: step, count: 10), count: 10), delta: 1e-5)
            let listed = try accountant.epsilon(for: .composed(Array(repeating: step, count: 100)), delta: 1e-5)
            #expect(flat == nested)
            #expect(flat == listed)
            let more = try accountant.epsilon(for: .selfComposed(event: step, count: 200), delta: 1e-5)
            #expect(more > flat)
        }
    }

    @Test("Gaussian steps compose to one Gaussian with the combined multiplier")
    func gaussianComposition() throws {
        let pld = PLDAccountant()
        let tenSteps = try pld.epsilon(for: .selfComposed(event: .gaussian(noiseMultiplier: 2), count: 4), delta: 1e-5)
        let single = try pld.epsilon(for: .gaussian(noiseMultiplier: 1), delta: 1e-5)
        #expect(abs(tenSteps - single) < 1e-12)
        // The analytic Gaussian's delta at its epsilon is the requested delta.
        let logDelta = AnalyticGaussian.logDelta(sigma: 1, epsilon: single)
        #expect(abs(logDelta - log(1e-5)) < 1e-6)
    }

    @Test("epsilon falls as sigma grows and as delta grows")
    func monotone() throws {
        for accountant in Self.accountants {
            var last = Double.infinity
            for sigma in [0.5, 0.7, 1.0, 2.0] {
                let e = try accountant.epsilon(for: .selfComposed(event: .poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: sigma)), count: 50), delta: 1e-5)
                #expect(e < last)
                last = e
            }
            let loose = try accountant.epsilon(for: Self.a, delta: 1e-3)
            let tight = try accountant.epsilon(for: Self.a, delta: 1e-7)
            #expect(loose < tight)
        }
    }

    @Test("sampling without replacement never costs more than no sampling (RDP)", arguments: [0.5, 0.9, 0.99])
    func withoutReplacementIsCappedByUnsampled(_ q: Double) throws {
        let rdp = RDPAccountant()
        for sigma in [0.5, 1.0, 2.0] {
            let unsampled = try rdp.epsilon(for: .selfComposed(event: .gaussian(noiseMultiplier: sigma), count: 10), delta: 1e-5)
            let sampled = try rdp.epsilon(for: .selfComposed(event: .sampledWithoutReplacement(
                sourceSize: 100, sampleSize: Int((q * 100).rounded()), event: .gaussian(noiseMultiplier: sigma)), count: 10), delta: 1e-5)
            // Theorem 27 alone gave 24.93 against 19.05 at q = 0.99, sigma 1.
            #expect(sampled <= unsampled, "q \(q), sigma \(sigma): \(sampled) > \(unsampled)")
            #expect(sampled > 0)
        }
    }

    @Test("the default accountant uses PLD where it applies and says so")
    func defaultChoice() throws {
        let d = DefaultAccountant()
        #expect(d.accountant(for: Self.a).name == "pld")
        #expect(d.accountant(for: .parallel([Self.a, Self.b])).name == "pld")
        let wor = PrivacyEvent.selfComposed(event: .sampledWithoutReplacement(sourceSize: 1000, sampleSize: 20, event: .gaussian(noiseMultiplier: 1)), count: 10)
        #expect(d.accountant(for: wor).name == "rdp")
        #expect(d.accountant(for: .pureDP(epsilon: 0.1)).name == "pld")
        let worPure = PrivacyEvent.sampledWithoutReplacement(sourceSize: 100, sampleSize: 10, event: .pureDP(epsilon: 1))
        #expect(d.accountant(for: worPure).name == "rdp")
        #expect(try d.epsilon(for: Self.a, delta: 1e-5) == PLDAccountant().epsilon(for: Self.a, delta: 1e-5))
        #expect(try d.epsilon(for: wor, delta: 1e-5) == RDPAccountant().epsilon(for: wor, delta: 1e-5))
    }

    @Test("PLD's delta at its own epsilon is the requested delta")
    func pldDeltaRoundTrip() throws {
        let pld = PLDAccountant()
        let e = try pld.epsilon(for: Self.a, delta: 1e-5)
        let d = try pld.delta(for: Self.a, epsilon: e)
        #expect(d <= 1e-5 * (1 + 1e-9))
        #expect(d > 0.9e-5)
    }

    @Test("PLD discretisation is pessimistic: a finer grid never gives a larger epsilon")
    func pessimisticDiscretisation() throws {
        let event = PrivacyEvent.selfComposed(event: .poissonSampled(samplingRate: 0.1, event: .gaussian(noiseMultiplier: 2)), count: 20)
        let coarse = try PLDAccountant(valueDiscretizationInterval: 1e-3).epsilon(for: event, delta: 1e-5)
        let standard = try PLDAccountant().epsilon(for: event, delta: 1e-5)
        let fine = try PLDAccountant(valueDiscretizationInterval: 2e-5).epsilon(for: event, delta: 1e-5)
        #expect(coarse >= standard)
        #expect(standard >= fine * (1 - 1e-9))
        #expect(coarse - fine < 0.01 * fine)
    }

    @Test("the result cache returns what the computation returns")
    func cache() throws {
        let cached = try PLDAccountant().epsilon(for: Self.b, delta: 1e-6)
        let again = try PLDAccountant().epsilon(for: Self.b, delta: 1e-6)
        let fresh = try PLDAccountant(cachesResults: false).epsilon(for: Self.b, delta: 1e-6)
        #expect(cached == fresh)
        #expect(again == fresh)
    }
}
