import Testing
@testable import DPAccounting

/// Step counts whose composed loss cannot be indexed: `account --steps 1000000000000000000` trapped
/// on an Int overflow in PLD's self-composition. PLD now refuses them (the default accountant then
/// answers with RDP, which scales the count in floating point).
@Suite struct HugeStepCountTests {
    static func event(_ steps: Int) -> PrivacyEvent {
        .selfComposed(event: .poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: 1)), count: steps)
    }

    @Test(arguments: [1_000_000_000_000, 1_000_000_000_000_000_000, Int.max])
    func pldRefusesAndTheDefaultAnswersWithRDP(steps: Int) throws {
        #expect(throws: AccountingError.self) { _ = try PLDAccountant(cachesResults: false).epsilon(for: Self.event(steps), delta: 1e-5) }
        let rdp = try RDPAccountant().epsilon(for: Self.event(steps), delta: 1e-5)
        #expect(rdp.isFinite && rdp > 1e6)
        #expect(try DefaultAccountant(pld: PLDAccountant(cachesResults: false)).epsilon(for: Self.event(steps), delta: 1e-5) == rdp)
    }
}
