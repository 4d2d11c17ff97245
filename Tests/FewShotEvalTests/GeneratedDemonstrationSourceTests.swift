import DPAccounting
import FewShotCore
import Testing
@testable import FewShotEval

@Suite struct GeneratedDemonstrationSourceTests {
    func source(_ model: ToyModel, reproducible: Bool) -> GeneratedDemonstrationSource {
        GeneratedDemonstrationSource(
            task: Toy.task, model: model, privateData: Toy.train,
            settings: GeneratedDemonstrationSource.defaultSettings(for: Toy.task), reproducibleNoise: reproducible,
            accountant: RDPAccountant())  // RDP: fast enough for a debug-build unit test
    }

    @Test func infiniteEpsilonIsTheNoiselessArgmax() async throws {
        let result = try await source(Toy.model(), reproducible: false).demonstrations(for: .nonPrivateGenerated, seed: 0)
        #expect(result.demonstrations == [Demonstration(label: "World", text: "Big news"), Demonstration(label: "Sports", text: "Late goal")])
        #expect(result.notes["privacy"]?.contains("NOT private") == true)
        #expect(!result.containsPrivateText)
    }

    @Test func dpConditionUsesTheCalibratedPerLabelSigma() async throws {
        let model = Toy.model()
        let result = try await source(model, reproducible: true).demonstrations(for: .privateGenerated(epsilon: 4), seed: 3)
        #expect(result.demonstrations.map(\.label) == ["World", "Sports"])
        var settings = GeneratedDemonstrationSource.defaultSettings(for: Toy.task)
        settings.privacy = .noNoise
        let plan = PrivacyPlan(settings: settings, examplesPerLabel: ["World": 10, "Sports": 10])
        let sigma = try Calibration.noiseMultiplier(epsilon: 4, delta: 0.1, accountant: RDPAccountant(), event: plan.eventShape(label: "World"))
        #expect(result.notes["sigma"] == "Sports=\(String(format: "%.4f", sigma)) World=\(String(format: "%.4f", sigma))")
        #expect(result.notes["noise"]?.contains("NOT private") == true)
        // Seeded noise: the same seed reproduces the same demonstrations.
        let again = try await source(Toy.model(), reproducible: true).demonstrations(for: .privateGenerated(epsilon: 4), seed: 3)
        #expect(again.demonstrations == result.demonstrations)
    }

    @Test func secureNoiseIsTheDefault() async throws {
        let result = try await source(Toy.model(), reproducible: false).demonstrations(for: .privateGenerated(epsilon: 8), seed: 0)
        #expect(result.notes["noise"] == "system secure generator")
    }
}
