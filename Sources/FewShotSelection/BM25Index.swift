import Foundation

/// Okapi BM25 over a fixed list of documents, as an inverted index (term -> postings) built once, so
/// that scoring a query reads only the postings of the query's terms.
///
/// Scoring (Robertson and Zaragoza 2009, with Lucene's never-negative idf): for a query with distinct
/// terms t and a document d of length |d| (in terms) over a corpus of N documents of average length avgdl,
///
///     score(d) = sum over t in d of idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
///     idf(t)   = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))        n(t) = documents that hold t
///
/// with k1 = 1.2 and b = 0.75. A term repeated in the query counts once. Terms are ``terms(of:)``.
///
/// Guarantees: the index is immutable once built, so it is `Sendable` and shared by concurrent
/// requests without locks; ``scores(for:)`` is a pure function of the documents and the query (no
/// randomness, no state), it is 0 exactly for the documents that share no term with the query, and
/// its cost is the number of postings of the query's terms plus one pass over N scores.
public struct BM25Index: Sendable {
    public static let k1 = 1.2
    public static let b = 0.75

    /// How many documents were indexed.
    public let documentCount: Int
    private let termIDs: [String: Int]
    /// Per term id: the documents holding it, each with the term's full BM25 weight in that document
    /// (idf and length normalisation folded in at build time, so a query only adds numbers).
    private let postings: [[Posting]]

    private struct Posting: Sendable {
        var document: Int32
        var weight: Double
    }

    public init(documents: [String]) {
        documentCount = documents.count
        var ids: [String: Int] = [:]
        var frequencies: [[Int: Int]] = []  // per term id: document -> term frequency
        var lengths: [Int] = []
        lengths.reserveCapacity(documents.count)
        for (d, text) in documents.enumerated() {
            let terms = Self.terms(of: text)
            lengths.append(terms.count)
            for term in terms {
                let id: Int
                if let known = ids[term] {
                    id = known
                } else {
                    id = frequencies.count
                    ids[term] = id
                    frequencies.append([:])
                }
                frequencies[id][d, default: 0] += 1
            }
        }
        let n = Double(documents.count)
        let averageLength = lengths.isEmpty ? 0 : Double(lengths.reduce(0, +)) / n
        postings = frequencies.map { documentsOfTerm in
            let idf = Self.idf(documentCount: n, documentsWithTerm: Double(documentsOfTerm.count))
            return documentsOfTerm.keys.sorted().map { d in
                let tf = Double(documentsOfTerm[d]!)
                let relativeLength = averageLength > 0 ? Double(lengths[d]) / averageLength : 1
                let weight = idf * tf * (Self.k1 + 1) / (tf + Self.k1 * (1 - Self.b + Self.b * relativeLength))
                return Posting(document: Int32(d), weight: weight)
            }
        }
        termIDs = ids
    }

    /// Lucene's BM25 idf, ln(1 + (N - n + 0.5) / (n + 0.5)): positive for every term, so a term held
    /// by more than half of the documents still counts a little instead of lowering the score.
    static func idf(documentCount n: Double, documentsWithTerm held: Double) -> Double {
        log(1 + (n - held + 0.5) / (held + 0.5))
    }

    /// The BM25 score of every document for `query`, indexed like the documents; 0 for a document that
    /// shares no term with the query (and for every document when the query has no known term).
    public func scores(for query: String) -> [Double] {
        var scores = [Double](repeating: 0, count: documentCount)
        var seen = Set<Int>()
        for term in Self.terms(of: query) {
            guard let id = termIDs[term], seen.insert(id).inserted else { continue }
            for posting in postings[id] {
                scores[Int(posting.document)] += posting.weight
            }
        }
        return scores
    }

    /// Lowercase word tokens: maximal runs of letters and digits (any script), lowercased; everything
    /// else (spaces, punctuation, symbols) separates them. "U.S. stocks' 2.5% rise" -> u, s, stocks, 2, 5, rise.
    public static func terms(of text: String) -> [String] {
        var terms: [String] = []
        var current: [UInt8] = []
        current.reserveCapacity(32)
        func finish() {
            if !current.isEmpty {
                terms.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            }
        }
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let byte = UInt8(scalar.value)
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): current.append(byte)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): current.append(byte + 32)
                default: finish()
                }
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
            } else {
                finish()
            }
        }
        finish()
        return terms
    }
}
