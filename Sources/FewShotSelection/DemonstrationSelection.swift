/// How a model picks its demonstrations per request from a pool: `k` of them, by a similarity
/// measure, balanced across labels or not. The serve configuration's `select: {k, by, balanced}`.
public struct DemonstrationSelection: Sendable, Equatable, CustomStringConvertible {
    /// How similarity between the request's text and a demonstration's text is measured.
    public enum Similarity: String, Sendable, Equatable, CaseIterable {
        /// Lexical: BM25 over lowercase word tokens (``BM25Index``).
        case similarity
    }

    /// The paper's number of shots, and the default of `select.k`.
    public static let defaultK = 4

    /// How many demonstrations each request gets (the whole pool when it holds fewer).
    public var k: Int
    public var by: Similarity
    /// Round-robin over labels (one per label per round) rather than the plain top k. An extraction
    /// task's pool has one group, so both give its top k.
    public var balanced: Bool

    public init(k: Int = Self.defaultK, by: Similarity = .similarity, balanced: Bool = true) {
        self.k = k
        self.by = by
        self.balanced = balanced
    }

    public var description: String { "select \(k) by \(by.rawValue)\(balanced ? ", balanced across labels" : "")" }
}
