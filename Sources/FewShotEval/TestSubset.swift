import FewShotCore

/// The test examples an evaluation classifies: `count` of them drawn uniformly without replacement
/// with `seed` (all of them when `count` is nil or at least the set's size).
///
/// Guarantees: the same examples, seed and count give the same subset; the subset keeps the data
/// file's order, so results do not depend on the draw order.
public struct TestSubset: Sendable {
    /// Positions of the chosen examples in the full test set, ascending.
    public let indices: [Int]

    public init(size: Int, count: Int?, seed: UInt64) {
        guard let count, count < size else {
            indices = Array(0..<size)
            return
        }
        var random = SplitMix64(seed: seed, stream: 1)
        indices = Array(0..<size).sample(max(0, count), using: &random).sorted()
    }

    public func select<T>(from examples: [T]) -> [T] { indices.map { examples[$0] } }
}
