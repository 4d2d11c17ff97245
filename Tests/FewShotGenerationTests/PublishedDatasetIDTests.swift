import DPAccounting
import FewShotCore
import FewShotStore
import Foundation
import Testing
@testable import FewShotGeneration

/// `fewshot gen --out/--json` publishes its privacy record. The data set is named there by the store's
/// public id (a keyed hash), never by the unsalted SHA-256 of its content, which someone who knows all
/// examples but one could test guesses of the last against; without a store it is not named at all.
@Suite struct PublishedDatasetIDTests {
    func spec(_ data: URL) -> GenerationSpec {
        GenerationSpec(
            task: "mit-g", data: data.path, epsilon: .epsilon(4), shots: 1,
            generator: GeneratorOverrides(batches: 5, batchSize: 2, maxTokens: 6, answerMaxTokens: 3, sampling: .partition))
    }

    @Test func thePrivacyRecordNamesThePublicIDAndNeverTheContentFingerprint() async throws {
        let data = try ExtractionGenerationTests.dataFile()
        let prepared = try PreparedGeneration.prepare(spec(data), prompts: ExtractionGenerationTests.root.appendingPathComponent("prompts"))
        let fingerprint = prepared.dataset.fingerprint
        let store = try FewShotStore(path: data.deletingLastPathComponent().appendingPathComponent("store.sqlite").path)
        let generation = LedgerGeneration(prepared: prepared, ledger: store)
        let outcome = try await generation.run(try generation.begin(), model: ExtractionGenerationTests.model())
        let lines = try outcome.record.jsonLines(outcome.result.demonstrations)
        let head = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(head["dataset"] as? String == store.publicDatasetID(fingerprint: fingerprint))
        #expect(lines.allSatisfy { !$0.contains(fingerprint.prefix(16)) }, "\(lines[0])")

        let unstored = LedgerGeneration(prepared: prepared, ledger: nil)
        let plain = try await unstored.run(try unstored.begin(), model: ExtractionGenerationTests.model())
        let plainLines = try plain.record.jsonLines(plain.result.demonstrations)
        #expect(plain.record.dataset == nil)
        #expect(plainLines.allSatisfy { !$0.contains(fingerprint.prefix(16)) })
    }
}
