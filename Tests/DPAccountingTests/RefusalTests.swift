import Testing
@testable import DPAccounting

@Suite("Invalid arguments are refused with errors naming them")
struct RefusalTests {
    static let accountants: [any PrivacyAccountant] = [PLDAccountant(), RDPAccountant(), DefaultAccountant()]

    static func poisson(q: Double, sigma: Double = 1, steps: Int = 10) -> PrivacyEvent {
        .selfComposed(event: .poissonSampled(samplingRate: q, event: .gaussian(noiseMultiplier: sigma)), count: steps)
    }

    /// A negative value on an RDP curve is a computation error; the conversion used to turn it into
    /// epsilon 0 (and delta 0), claiming perfect privacy. dp_accounting raises on it too.
    @Test("a negative RDP value is refused by both conversions, not turned into epsilon 0")
    func negativeRDP() {
        let orders = [1.5, 2, 8, 64]
        let curve = [0.3, 0.5, -1e-3, 4]
        #expect(throws: AccountingError.negativeRenyiDivergence(order: 8, value: -1e-3)) {
            _ = try RDPConversion.epsilon(orders: orders, rdp: curve, delta: 1e-5)
        }
        #expect(throws: AccountingError.negativeRenyiDivergence(order: 8, value: -1e-3)) {
            _ = try RDPConversion.delta(orders: orders, rdp: curve, epsilon: 1)
        }
        #expect(throws: AccountingError.self) {
            _ = try RDPConversion.epsilon(orders: [2], rdp: [-0.5], delta: 1e-5)
        }
        #expect(AccountingError.negativeRenyiDivergence(order: 8, value: -1e-3).description.contains("order 8"))
        // Zero is a valid divergence (a mechanism that reveals nothing): still converted.
        #expect((try? RDPConversion.epsilon(orders: orders, rdp: [0, 0, 0, 0], delta: 1e-5).epsilon) == 0)
    }

    @Test("sampling rate outside (0, 1]", arguments: [0.0, -0.1, 1.5])
    func samplingRate(_ q: Double) {
        for accountant in Self.accountants {
            #expect(throws: AccountingError.invalidSamplingRate(q)) {
                _ = try accountant.epsilon(for: Self.poisson(q: q), delta: 1e-5)
            }
        }
        #expect(AccountingError.invalidSamplingRate(q).description.contains("sampling rate q"))
    }

    @Test("noise multiplier <= 0 or not finite", arguments: [0.0, -1.0, Double.infinity])
    func sigma(_ sigma: Double) {
        for accountant in Self.accountants {
            #expect(throws: AccountingError.invalidNoiseMultiplier(sigma)) {
                _ = try accountant.epsilon(for: Self.poisson(q: 0.1, sigma: sigma), delta: 1e-5)
            }
            #expect(throws: AccountingError.invalidNoiseMultiplier(sigma)) {
                _ = try accountant.epsilon(for: .gaussian(noiseMultiplier: sigma), delta: 1e-5)
            }
        }
        #expect(AccountingError.invalidNoiseMultiplier(sigma).description.contains("sigma"))
    }

    @Test("delta outside (0, 1)", arguments: [0.0, 1.0, -1e-5, 2.0])
    func delta(_ delta: Double) {
        for accountant in Self.accountants {
            #expect(throws: AccountingError.invalidDelta(delta)) {
                _ = try accountant.epsilon(for: Self.poisson(q: 0.1), delta: delta)
            }
        }
        #expect(AccountingError.invalidDelta(delta).description.contains("delta"))
    }

    @Test("steps below 1", arguments: [0, -3])
    func steps(_ steps: Int) {
        for accountant in Self.accountants {
            #expect(throws: AccountingError.invalidSteps(steps)) {
                _ = try accountant.epsilon(for: Self.poisson(q: 0.1, steps: steps), delta: 1e-5)
            }
        }
        #expect(AccountingError.invalidSteps(steps).description.contains("steps"))
    }

    @Test("sample size outside 1...source size")
    func sampleSize() {
        for (n, m) in [(100, 0), (100, 101), (0, 0)] {
            #expect(throws: AccountingError.invalidSampleSize(sourceSize: n, sampleSize: m)) {
                _ = try RDPAccountant().epsilon(for: .sampledWithoutReplacement(sourceSize: n, sampleSize: m,
                                                                                event: .gaussian(noiseMultiplier: 1)), delta: 1e-5)
            }
        }
    }

    @Test("a negative pure-DP epsilon")
    func pureEpsilon() {
        #expect(throws: AccountingError.invalidEpsilon(-1)) {
            _ = try RDPAccountant().epsilon(for: .pureDP(epsilon: -1), delta: 1e-5)
        }
    }

    @Test("PLD refuses what it cannot account for exactly, naming the reason")
    func pldUnsupported() {
        let wor = PrivacyEvent.sampledWithoutReplacement(sourceSize: 100, sampleSize: 10, event: .gaussian(noiseMultiplier: 1))
        #expect(!PLDAccountant().supports(wor))
        #expect(!PLDAccountant().supports(.sampledWithoutReplacement(sourceSize: 100, sampleSize: 10, event: .pureDP(epsilon: 1))))
        do {
            _ = try PLDAccountant().epsilon(for: wor, delta: 1e-5)
            Issue.record("PLD accepted sampling without replacement")
        } catch let error as AccountingError {
            guard case .unsupportedEvent(let name, let reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(name == "pld")
            #expect(reason.contains("without replacement"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("RDP refuses mixing add/remove and replace-one sampling")
    func mixedAdjacency() {
        let mixed = PrivacyEvent.composed([
            .poissonSampled(samplingRate: 0.1, event: .gaussian(noiseMultiplier: 1)),
            .sampledWithoutReplacement(sourceSize: 100, sampleSize: 10, event: .gaussian(noiseMultiplier: 1)),
        ])
        #expect(!RDPAccountant().supports(mixed))
        #expect(throws: AccountingError.self) { _ = try RDPAccountant().epsilon(for: mixed, delta: 1e-5) }
    }

    @Test("nested sampling is refused, not guessed")
    func nestedSampling() {
        let nested = PrivacyEvent.poissonSampled(samplingRate: 0.5, event: .poissonSampled(samplingRate: 0.5, event: .gaussian(noiseMultiplier: 1)))
        for accountant in Self.accountants {
            #expect(throws: AccountingError.self) { _ = try accountant.epsilon(for: nested, delta: 1e-5) }
        }
    }

    @Test("PLD refuses a loss distribution too large for memory, naming the way out; RDP still answers")
    func oversizedDistribution() throws {
        let event = Self.poisson(q: 0.01, sigma: 0.01, steps: 10)
        do {
            _ = try PLDAccountant().epsilon(for: event, delta: 1e-5)
            Issue.record("PLD accepted a distribution beyond its grid limit")
        } catch let error as AccountingError {
            #expect(error.description.contains("grid points"))
            #expect(error.description.contains("RDP"))
        }
        #expect(try RDPAccountant().epsilon(for: event, delta: 1e-5) > 0)
    }
}
