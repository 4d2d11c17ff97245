import Testing
@testable import DPAccounting

/// The default accountant falls back to RDP when PLD cannot compute an event it said it supports
/// (a composition that outgrows PLD's grid), instead of failing the run.
@Suite struct DefaultFallbackTests {
    @Test func aCompositionBeyondPLDsGridIsAnsweredByRDP() throws {
        // The label-count release next to a demonstration with a small sigma (as a calibration bisection tries).
        let event = PrivacyEvent.composed([
            .gaussian(noiseMultiplier: 10),
            .poissonSampled(samplingRate: 0.3, event: .selfComposed(event: .gaussian(noiseMultiplier: 0.1), count: 15)),
        ])
        #expect(PLDAccountant().supports(event))
        #expect(throws: AccountingError.self) { try PLDAccountant().epsilon(for: event, delta: 1e-2) }
        let rdp = try RDPAccountant().epsilon(for: event, delta: 1e-2)
        #expect(try DefaultAccountant().epsilon(for: event, delta: 1e-2) == rdp)
    }
}
