import FewShotCore

/// Picks, for one request, the k demonstrations of a pool whose texts are most similar to the
/// request's text (BM25, ``BM25Index``), balanced across labels unless the rule says otherwise.
///
/// Selection:
/// - Ranking: by BM25 score, highest first; equal scores (in particular the 0 of every demonstration
///   that shares no word with the request) in pool order.
/// - `balanced` (default): rounds over the labels; each round takes the next-best demonstration of
///   every label that has one left, best score first (ties in pool order), until k are taken. So k = 4
///   over 4 labels gives one per label, each the label's most similar; with k smaller than the number
///   of labels, the labels whose best scores are highest. Labels are the pool's, in order of first
///   appearance. Not balanced: the top k.
/// - A request with no word in common with the pool (or no text) gets the first k in balanced pool
///   order: the first demonstration of each label in pool order, then the second of each, and so on
///   (not balanced: the pool's first k).
/// - k larger than the pool gives the whole pool.
/// - The chosen demonstrations are returned in pool order, as a fixed set would be rendered, so only
///   which demonstrations a request sees changes, not the order of their labels.
///
/// Guarantees: the choice is a deterministic function of the pool and the request text only. The
/// pool is public (the DP generator's output) and the request is the client's own text, so selection
/// is post-processing: it reads nothing private and the pool's (epsilon, delta) holds for whatever is
/// served, however many requests select from it. The selector is immutable and `Sendable`; a call
/// costs the postings of the request's words plus one pass over the pool (each step comparing with
/// its label's k-th best so far, so O(pool size x k) at worst; k is small).
public struct DemonstrationSelector: Sendable {
    public let pool: [Demonstration]
    public let rule: DemonstrationSelection
    private let index: BM25Index
    /// Per pool position: its label's number, in order of first appearance.
    private let labelNumbers: [Int]
    private let labelCount: Int

    public init(pool: [Demonstration], rule: DemonstrationSelection) {
        precondition(rule.k > 0, "k must be positive")
        self.pool = pool
        self.rule = rule
        index = BM25Index(documents: pool.map(\.text))
        var numbers: [String: Int] = [:]
        labelNumbers = pool.map { demo in
            if let known = numbers[demo.label] { return known }
            numbers[demo.label] = numbers.count
            return numbers.count - 1
        }
        labelCount = rule.balanced ? numbers.count : 1
    }

    /// The chosen demonstrations for `query` (the request's text), in pool order.
    public func select(for query: String) -> [Demonstration] {
        selectedPositions(for: query).map { pool[$0] }
    }

    /// Pool positions of the chosen demonstrations, ascending.
    public func selectedPositions(for query: String) -> [Int] {
        let k = min(rule.k, pool.count)
        guard k < pool.count else { return Array(pool.indices) }
        let scores = index.scores(for: query)
        let better = { (a: Int, b: Int) -> Bool in scores[a] != scores[b] ? scores[a] > scores[b] : a < b }

        // Each label's best k, best first, in one pass over the pool (k is small: no full sort). The
        // pass goes in pool order, so an equal score never displaces an earlier demonstration.
        var queues = [[Int]](repeating: [], count: labelCount)
        for position in scores.indices {
            let label = rule.balanced ? labelNumbers[position] : 0
            if queues[label].count == k {
                guard better(position, queues[label][k - 1]) else { continue }
                queues[label].removeLast()
            }
            let place = queues[label].firstIndex { better(position, $0) } ?? queues[label].count
            queues[label].insert(position, at: place)
        }

        var chosen: [Int] = []
        chosen.reserveCapacity(k)
        var round = 0
        while chosen.count < k {
            var candidates = queues.compactMap { round < $0.count ? $0[round] : nil }
            if candidates.isEmpty { break }
            candidates.sort(by: better)
            chosen.append(contentsOf: candidates.prefix(k - chosen.count))
            round += 1
        }
        return chosen.sorted()
    }
}
