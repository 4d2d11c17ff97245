import Foundation
import Testing
@testable import FewShotSelection

/// BM25 scores against the formula written out by hand, and the word tokens it counts.
@Suite struct BM25IndexTests {
    static let documents = [
        "The cat sat on the mat.",
        "The dog chased the cat",
        "Stocks rose on Wall Street",
    ]

    /// score(d) = sum over query terms in d of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl)),
    /// idf = ln(1 + (N - n + 0.5) / (n + 0.5)); lengths 6, 5, 5 words, so avgdl = 16/3.
    static func expected(tf: Double, length: Double, documentsWithTerm n: Double) -> Double {
        let idf = log(1 + (3 - n + 0.5) / (n + 0.5))
        return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / (16.0 / 3.0)))
    }

    @Test func scoresFollowTheFormula() {
        let index = BM25Index(documents: Self.documents)
        let scores = index.scores(for: "cat mat")
        let doc0 = Self.expected(tf: 1, length: 6, documentsWithTerm: 2) + Self.expected(tf: 1, length: 6, documentsWithTerm: 1)
        let doc1 = Self.expected(tf: 1, length: 5, documentsWithTerm: 2)
        #expect(abs(scores[0] - doc0) < 1e-12)
        #expect(abs(scores[1] - doc1) < 1e-12)
        #expect(scores[2] == 0)
        // The numbers themselves (an independent Python rendering of the formula): 1.380252, 0.482336.
        #expect(abs(scores[0] - 1.380252) < 1e-6 && abs(scores[1] - 0.482336) < 1e-6)
    }

    @Test func termFrequencySaturatesAndLongerDocumentsWeighLess() {
        let index = BM25Index(documents: ["rain rain rain rain", "rain", "sun and more words here"])
        let scores = index.scores(for: "rain")
        #expect(scores[0] > scores[1])
        #expect(scores[0] < 4 * scores[1])  // k1 saturates repeated terms
        #expect(abs(scores[0] - Self.expectedOne(tf: 4, length: 4, averageLength: 10.0 / 3, n: 2, count: 3)) < 1e-12)
        #expect(abs(scores[1] - Self.expectedOne(tf: 1, length: 1, averageLength: 10.0 / 3, n: 2, count: 3)) < 1e-12)
    }

    static func expectedOne(tf: Double, length: Double, averageLength: Double, n: Double, count: Double) -> Double {
        log(1 + (count - n + 0.5) / (n + 0.5)) * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / averageLength))
    }

    @Test func aQueryIsCaseInsensitiveAndCountsARepeatedTermOnce() {
        let index = BM25Index(documents: Self.documents)
        #expect(index.scores(for: "CAT, Mat!") == index.scores(for: "cat mat"))
        #expect(index.scores(for: "cat cat cat mat") == index.scores(for: "cat mat"))
    }

    @Test func unknownWordsAndEmptyQueriesScoreNothing() {
        let index = BM25Index(documents: Self.documents)
        #expect(index.scores(for: "") == [0, 0, 0])
        #expect(index.scores(for: "zebra ?!") == [0, 0, 0])
        #expect(BM25Index(documents: []).scores(for: "cat") == [])
    }

    @Test func wordsAreLowercaseRunsOfLettersAndDigits() {
        #expect(BM25Index.terms(of: "U.S. stocks' 2.5% rise") == ["u", "s", "stocks", "2", "5", "rise"])
        #expect(BM25Index.terms(of: "Zürich—ÉTÉ  naïve\tnew\nline") == ["zürich", "été", "naïve", "new", "line"])
        #expect(BM25Index.terms(of: "  ...  ") == [])
    }
}
