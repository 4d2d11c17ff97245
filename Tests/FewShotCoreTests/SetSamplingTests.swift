import FewShotCore
import Foundation
import Testing

/// A stored set's sampling is read and written as the one string every stored set and demonstration
/// file has (`mode` or `mode/scheme`), and anything else is refused by name.
struct SetSamplingTests {
    @Test(arguments: ["partition/poisson", "partition/without-replacement", "subsample/poisson", "subsample/without-replacement", "partition", "subsample"])
    func everyWrittenFormReadsBackToItself(text: String) throws {
        let sampling = try #require(SetSampling(text))
        #expect(sampling.description == text)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let json = try encoder.encode([sampling])
        #expect(String(decoding: json, as: UTF8.self) == "[\"\(text)\"]")
        #expect(try JSONDecoder().decode([SetSampling].self, from: json) == [sampling])
    }

    @Test func theSchemeIsTyped() throws {
        let sampling = try #require(SetSampling("partition/without-replacement"))
        #expect(sampling.mode == .partition)
        #expect(sampling.scheme == .withoutReplacement)
        #expect(SetSampling("subsample")?.scheme == nil)
    }

    @Test(arguments: ["poisson", "partition/", "partition/poisson/x", "", "Partition/poisson", "partition/bernoulli"])
    func anythingElseIsRefusedNamingTheValue(text: String) {
        #expect(SetSampling(text) == nil)
        #expect {
            try JSONDecoder().decode([SetSampling].self, from: Data("[\"\(text)\"]".utf8))
        } throws: { error in
            "\(error)".contains("'\(text)' is not a sampling")
        }
    }
}
