import DPAccounting
import FewShotCore
import FewShotStore
import FewShotTestSupport
import Foundation
import Testing
@testable import FewShotGeneration

/// Issue 13, point 5: under add/remove adjacency the label counts are private, so everything a
/// generation publishes (q, M, delta, the privacy record) comes from the data set's released DP
/// counts, never from the exact ones.
@Suite struct ReleasedLabelCountTests {
    typealias Fixture = PartitionResumeTests

    @Test func theRunPlansAndPublishesWithTheReleasedCounts() async throws {
        let data = try Fixture.dataFile()
        let preview = try PreparedGeneration.prepare(Fixture.spec(data), prompts: Fixture.root.appendingPathComponent("prompts"))
        #expect(preview.settings.labelCounts?.isReleased == false)
        let store = try FewShotStore(path: data.deletingLastPathComponent().appendingPathComponent("store.sqlite").path)
        // A known release (as if drawn earlier): 60 DESC questions released as 75.
        _ = try store.registerDataset(fingerprint: preview.dataset.fingerprint, name: "trec.jsonl", labelCounts: preview.dataset.countsByLabel)
        let release = LabelCountRelease(counts: ["DESC": 75, "HUM": 52, "ABBR": 3, "ENTY": 1, "LOC": 9, "NUM": 4], noiseMultiplier: 10, isReleased: true)
        _ = try store.releaseLabelCounts(dataset: preview.dataset.fingerprint, accountant: DefaultAccountant()) { _ in release }

        let generation = LedgerGeneration(prepared: preview, ledger: store)
        let start = try generation.begin()
        let run = start.prepared
        #expect(run.settings.labelCounts == release)
        #expect(run.plan.samplingRate(label: "DESC") == 6.0 / 75, "q = M*N / released count, not 6/60")
        #expect(run.delta == 1.0 / 75, "delta = 1/(released count of the label generated for)")
        let stored = try #require(start.reservation).plan.demonstrations
        #expect(stored.map(\.plannedEvent) == [
            .poissonSampled(samplingRate: 6.0 / 75, event: .selfComposed(event: .gaussian(noiseMultiplier: try #require(run.noiseMultipliers["DESC"])), count: 6)),
        ])

        let outcome = try await generation.run(start, model: Fixture.fake())
        let record = try #require(try outcome.record.jsonLines(outcome.result.demonstrations).first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any])
        let counts = try #require((json["label_counts"] as? [String: Any])?["counts"] as? [String: Int])
        #expect(counts == release.counts)
        #expect((json["adjacency"] as? String)?.hasPrefix("add or remove one example") == true)
        #expect(json["seeded_noise"] as? Bool == false && json["type"] as? String == "privacy" && json["M"] as? Int == 6)
        let q = try #require(((json["labels"] as? [String: Any])?["DESC"] as? [String: Any])?["q"] as? Double)
        #expect(q == 6.0 / 75)
        // The claimed epsilon includes the release (calibrated to 4 with it).
        #expect(outcome.record.epsilon <= 4.0001 && outcome.record.epsilon > 3.9, "epsilon \(outcome.record.epsilon)")
    }

    @Test func aFirstGenerationReleasesTheCountsWithSecureNoiseEvenWhenSeeded() async throws {
        let data = try Fixture.dataFile()
        var spec = Fixture.spec(data)
        spec.seed = 11
        let preview = try PreparedGeneration.prepare(spec, prompts: Fixture.root.appendingPathComponent("prompts"))
        let store = try FewShotStore(path: data.deletingLastPathComponent().appendingPathComponent("store.sqlite").path)
        let start = try LedgerGeneration(prepared: preview, ledger: store).begin()
        let release = try #require(try store.releasedLabelCounts(dataset: preview.dataset.fingerprint))
        #expect(release.isReleased)
        #expect(start.prepared.settings.labelCounts == release)
        // Stored counts are not the seeded draw (which a user could recompute): two seeded drawings
        // agree, the stored one is independent of the seed.
        let seeded = LabelCountRelease.draw(exact: preview.dataset.countsByLabel, labels: PreparedGeneration.countedLabels(preview.task), noise: .seeded(11))
        let again = LabelCountRelease.draw(exact: preview.dataset.countsByLabel, labels: PreparedGeneration.countedLabels(preview.task), noise: .seeded(11))
        #expect(seeded == again)
        #expect(release != seeded, "six counts with noise of sd 10 agree by chance with probability < 1e-8")
        #expect(Set(release.counts.keys) == Set(preview.task.labels.map(\.name)), "every label of the task is released, with or without examples")
        let charged = try store.budgetStatus(dataset: preview.dataset.fingerprint, accountant: DefaultAccountant(), delta: 1e-5)
        #expect(charged.committedEpsilon > 0)
    }

    @Test func withoutReplacementUsesTheExactPublicCountsAndReleasesNothing() throws {
        let data = try Fixture.dataFile()
        var spec = Fixture.spec(data)
        spec.generator.subsample = .withoutReplacement
        let prepared = try PreparedGeneration.prepare(spec, prompts: Fixture.root.appendingPathComponent("prompts"))
        let store = try FewShotStore(path: data.deletingLastPathComponent().appendingPathComponent("store.sqlite").path)
        let start = try LedgerGeneration(prepared: prepared, ledger: store).begin()
        #expect(start.prepared.settings.labelCounts == nil)
        #expect(start.prepared.delta == 1.0 / 60)
        #expect(try store.releasedLabelCounts(dataset: prepared.dataset.fingerprint) == nil)
        #expect(start.prepared.plan.examplesPerLabel["DESC"] == 60)
    }
}
