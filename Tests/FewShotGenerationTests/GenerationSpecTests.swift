import FewShotCore
import Foundation
import Testing
@testable import FewShotGeneration

/// The request as JSON (the admin API's body): snake_case keys, epsilon as a number or "inf",
/// generator settings flattened, and each bad value named.
@Suite struct GenerationSpecTests {
    func decode(_ json: String) throws -> GenerationSpec {
        try JSONDecoder().decode(GenerationSpec.self, from: Data(json.utf8))
    }

    @Test func decodesEveryField() throws {
        let spec = try decode("""
            {"task": "trec", "data": "d.jsonl", "epsilon": 2, "delta": 0.001, "shots": 3, "labels": ["NUM"], "seed": 7,
             "batches": 12, "batch_size": 2, "max_tokens": 9, "answer_max_tokens": 4, "mechanism": "exponential",
             "vocabulary": "full", "top_k": 50, "sampling": "partition", "subsample": "without-replacement", "accountant": "rdp"}
            """)
        #expect(spec.epsilon == .epsilon(2) && spec.delta == 0.001 && spec.shots == 3 && spec.labels == ["NUM"] && spec.seed == 7)
        let g = spec.generator
        #expect(g.batches == 12 && g.batchSize == 2 && g.maxTokens == 9 && g.answerMaxTokens == 4 && g.topK == 50)
        #expect(g.mechanism == .exponential && g.vocabulary == .full && g.sampling == .partition)
        #expect(g.subsample == .withoutReplacement && g.accountant == .rdp)
        // Round trip: what a job stores decodes to the same request.
        #expect(try decode(String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)) == spec)
    }

    @Test func epsilonIsANumberInfOrZero() throws {
        #expect(try decode(#"{"task": "t", "data": "d", "epsilon": "inf"}"#).epsilon == .infinite)
        #expect(try decode(#"{"task": "t", "data": "d", "epsilon": 0}"#).epsilon == .publicOnly)
        #expect(try decode(#"{"task": "t", "data": "d", "epsilon": "4"}"#).epsilon == .epsilon(4))
        #expect(throws: (any Error).self) { try decode(#"{"task": "t", "data": "d", "epsilon": -2}"#) }
        #expect(throws: (any Error).self) { try decode(#"{"task": "t", "data": "d"}"#) }
        let defaults = try decode(#"{"task": "t", "data": "d", "epsilon": 1}"#).generator
        #expect(defaults == GeneratorOverrides())
    }

    @Test(arguments: [
        (#"{"task": "t", "data": "d", "epsilon": 1, "delta": 1.5}"#, "delta"),
        (#"{"task": "t", "data": "d", "epsilon": 1, "sigma": 0}"#, "sigma"),
        (#"{"task": "t", "data": "d", "epsilon": 1, "shots": 0}"#, "shots"),
        (#"{"task": "t", "data": "d", "epsilon": 1, "labels": []}"#, "labels"),
        (#"{"task": "t", "data": "d", "epsilon": 1, "batches": 0}"#, "batches"),
        (#"{"task": "t", "data": "d", "epsilon": 1, "answer_max_tokens": 0}"#, "answer_max_tokens"),
        // Above the maxima (GenerationSetting.maximum): refused before any plan multiplies them.
        (#"{"task": "t", "data": "d", "epsilon": 1, "max_tokens": 4000000000000, "sampling": "subsample"}"#, "max_tokens"),
        (#"{"task": "t", "data": "d", "epsilon": 1, "shots": 1000000000000}"#, "shots"),
        (#"{"task": "t", "data": "d", "epsilon": 1, "groups": 1000000000000}"#, "groups"),
        (#"{"task": "t", "data": "d", "epsilon": 1, "batch_size": 1000001}"#, "batch_size"),
        (#"{"task": "t", "data": "d", "epsilon": 1, "batches": 10000001}"#, "batches"),
    ])
    func badValuesAreNamed(json: String, field: String) throws {
        #expect {
            try decode(json).validate()
        } throws: { error in
            (error as? GenerationSpecError)?.field == field
        }
    }
}
