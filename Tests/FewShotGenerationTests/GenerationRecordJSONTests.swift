import Foundation
import Testing
@testable import FewShotGeneration

/// The privacy record (the first line of `fewshot gen`'s JSONL) writes epsilons as the store and the
/// admin API do: numbers, or the string "inf" for the no-noise baseline; per label too.
@Suite struct GenerationRecordJSONTests {
    static func record(epsilon: Double, perLabel: [String: Double]) -> GenerationRecord {
        GenerationRecord(
            task: "trec", dataset: "public-id", generation: nil, epsilon: epsilon, epsilonPerLabel: perLabel,
            delta: 1.0 / 300, sigma: nil, accountant: "pld", mechanism: .gaussian, sampling: .partition, subsample: nil,
            vocabulary: .rvp, topK: 100, batches: 10, batchSize: 1, maxTokens: 12, answerMaxTokens: nil,
            tokensReleased: [12], llmCalls: 120, model: "m", events: [:], labels: [:],
            adjacency: GenerationRecord.adjacency(subsample: .poisson), private: epsilon.isFinite, seed: nil,
            seededNoise: false)
    }

    static func head(_ record: GenerationRecord) throws -> [String: Any] {
        let line = try #require(try record.jsonLines([]).first)
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func finiteEpsilonsAreNumbers() throws {
        let head = try Self.head(Self.record(epsilon: 3.5, perLabel: ["NUM": 3.5, "LOC": 2.25]))
        #expect(head["epsilon"] as? Double == 3.5)
        #expect(head["epsilon_per_label"] as? [String: Double] == ["NUM": 3.5, "LOC": 2.25])
        #expect(head["type"] as? String == "privacy" && head["M"] as? Int == 10 && head["private"] as? Bool == true)
        #expect(head["vocabulary"] as? String == "rvp" && head["mechanism"] as? String == "gaussian" && head["sampling"] as? String == "partition")
    }

    @Test func anUnboundedEpsilonIsTheStringInf() throws {
        let head = try Self.head(Self.record(epsilon: .infinity, perLabel: ["NUM": .infinity, "LOC": 2]))
        #expect(head["epsilon"] as? String == "inf")
        let perLabel = try #require(head["epsilon_per_label"] as? [String: Any])
        #expect(perLabel["NUM"] as? String == "inf" && perLabel["LOC"] as? Double == 2)
    }
}
