import DPAccounting
import FewShotCore
import Testing
@testable import FewShotEval

@Suite struct GeneratedDemonstrationSourceTests {
    func source(_ model: ToyModel, reproducible: Bool, privateData: [LabeledExample] = Toy.train) -> GeneratedDemonstrationSource {
        GeneratedDemonstrationSource(
            task: Toy.task, model: model, privateData: privateData,
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
        // q and delta come from the DP label counts the cell released (its notes), and each label's
        // sigma is calibrated on its own count, with the release composed in.
        let noted = try #require(result.notes["label counts"]?.split(separator: ": ").last)
        let counts = Dictionary(uniqueKeysWithValues: noted.split(separator: " ").map { pair in
            let parts = pair.split(separator: "=")
            return (String(parts[0]), Int(parts[1])!)
        })
        #expect(Set(counts.keys) == ["World", "Sports"])
        var settings = GeneratedDemonstrationSource.defaultSettings(for: Toy.task)
        settings.privacy = .noNoise
        settings.labelCounts = LabelCountRelease(counts: counts, noiseMultiplier: LabelCountRelease.defaultNoiseMultiplier, isReleased: true)
        let plan = PrivacyPlan(settings: settings, examplesPerLabel: ["World": 10, "Sports": 10])
        let delta = 1 / Double(counts.values.min()!)
        let expected = try ["Sports", "World"].map { label in
            "\(label)=" + String(format: "%.4f", try Calibration.noiseMultiplier(
                epsilon: 4, delta: min(delta, 1 / Double(counts[label]!)), accountant: RDPAccountant(), event: plan.eventShape(label: label)))
        }.joined(separator: " ")
        #expect(result.notes["sigma"] == expected)
        #expect(result.notes["noise"]?.contains("NOT private") == true)
        // Seeded noise: the same seed reproduces the same demonstrations.
        let again = try await source(Toy.model(), reproducible: true).demonstrations(for: .privateGenerated(epsilon: 4), seed: 3)
        #expect(again.demonstrations == result.demonstrations)
    }

    @Test func secureNoiseIsTheDefault() async throws {
        // 1,000 examples per label, so the secure draw of the label counts is never near 1 (default delta).
        let large = (0..<100).flatMap { _ in Toy.train }
        let result = try await source(Toy.model(), reproducible: false, privateData: large).demonstrations(for: .privateGenerated(epsilon: 8), seed: 0)
        #expect(result.notes["noise"] == "system secure generator")
    }
}
