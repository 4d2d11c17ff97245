import Foundation
import Testing
import FewShotCore

@Suite struct CandidateVocabularyTests {
    func dist(_ pairs: [(String, Double)]) -> NextTokenDistribution {
        NextTokenDistribution(top: pairs.enumerated().map { TokenLogprob(token: Token(id: $0.offset, text: $0.element.0), logprob: log($0.element.1)) })
    }

    @Test func reducedVocabularyIsThePublicTopK() {
        let v = CandidateVocabulary.reduced(publicDistribution: dist([("a", 0.5), ("b", 0.3), ("c", 0.2)]), k: 2)
        #expect(v.tokens.map(\.text) == ["a", "b"])
    }

    @Test func privateDistributionIsRestrictedAndRenormalised() {
        let v = CandidateVocabulary(tokens: [Token(id: 0, text: "a"), Token(id: 1, text: "b")])
        let p = v.probabilityVector(dist([("a", 0.2), ("b", 0.2), ("c", 0.6)]))
        #expect(abs(p[0] - 0.5) < 1e-12 && abs(p[1] - 0.5) < 1e-12)
    }

    @Test func aPromptListingNoCandidateContributesZeros() {
        let v = CandidateVocabulary(tokens: [Token(id: 7, text: "z")])
        #expect(v.probabilityVector(dist([("a", 1.0)])) == [0])
    }

    @Test func projectedVectorsAreWithinTheSensitivityBound() {
        let v = CandidateVocabulary(tokens: (0..<5).map { (i: Int) in Token(id: i, text: "t\(i)") })
        let vectors = [
            v.probabilityVector(dist([("t0", 1.0)])), v.probabilityVector(dist([("t4", 0.9), ("t3", 0.1)])),
            v.probabilityVector(dist([("x", 1.0)])), v.probabilityVector(dist([("t1", 0.5), ("t2", 0.5)])),
        ]
        for a in vectors {
            for b in vectors {
                let l2 = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                #expect(l2 <= 2.0.squareRoot() + 1e-12)
            }
        }
    }

    @Test func fullModeUnionKeepsEachTokenOnce() {
        let a = NextTokenDistribution(top: [TokenLogprob(token: Token(id: 1, text: "x"), logprob: -0.1)])
        let b = NextTokenDistribution(top: [TokenLogprob(token: Token(id: 1, text: "x"), logprob: -0.2), TokenLogprob(token: Token(id: 2, text: "y"), logprob: -2)])
        #expect(CandidateVocabulary.union(of: [a, b]).tokens.map(\.id) == [1, 2])
    }

    @Test func meanAndMaxScaling() {
        #expect(PrivateAggregate.mean([[1, 0], [0, 1], [1, 0], [1, 0]], count: 2) == [0.75, 0.25])
        #expect(PrivateAggregate.maxScaled([0.2, 0.4]) == [0.5, 1])
        #expect(PrivateAggregate.maxScaled([0, 0]) == [0, 0])
    }
}
