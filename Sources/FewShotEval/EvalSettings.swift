/// What an evaluation runs: conditions, seeds, the test subset and how labels are read.
///
/// Defaults follow the paper's protocol (all conditions, epsilons 1, 2, 4, 8, 5 seeds, all test
/// examples), except `testCount`, which the caller sets (the paper: 1000 for AGNews, all 500 for TREC).
public struct EvalSettings: Sendable, Hashable, Codable {
    public var conditions: [EvalCondition]
    public var seeds: [UInt64]
    /// Test examples per task; nil for all of them.
    public var testCount: Int?
    /// Seed of the test subset; fixed across conditions and seeds so every cell sees the same examples.
    public var subsetSeed: UInt64
    /// How many of the most probable next tokens each classification request returns.
    public var topK: Int
    /// Reuse the server's cached prompt prefix (the demonstrations) across test examples.
    public var cachePrompt: Bool
    /// Server slot holding that cache.
    public var slot: Int?

    public init(
        conditions: [EvalCondition] = EvalCondition.standard(), seeds: [UInt64] = [0, 1, 2, 3, 4], testCount: Int? = nil,
        subsetSeed: UInt64 = 0, topK: Int = 100, cachePrompt: Bool = true, slot: Int? = 0
    ) {
        self.conditions = conditions
        self.seeds = seeds
        self.testCount = testCount
        self.subsetSeed = subsetSeed
        self.topK = topK
        self.cachePrompt = cachePrompt
        self.slot = slot
    }

    public func validate() throws {
        guard !conditions.isEmpty else { throw EvalError.invalidSetting("--conditions: give at least one condition") }
        guard !seeds.isEmpty else { throw EvalError.invalidSetting("--seeds: give at least one seed") }
        guard topK >= 1 else { throw EvalError.invalidSetting("--top-k must be at least 1, got \(topK)") }
        if let testCount, testCount < 1 { throw EvalError.invalidSetting("--test-count must be at least 1, got \(testCount)") }
    }

    /// Seeds a condition actually runs: conditions without randomness (zero-shot, greedy epsilon = 0)
    /// run once, under the first seed, because more runs would repeat the same numbers.
    public func seeds(for condition: EvalCondition) -> [UInt64] {
        condition.isDeterministic ? Array(seeds.prefix(1)) : seeds
    }
}

extension EvalCondition {
    /// True when the condition's demonstrations do not depend on the seed.
    public var isDeterministic: Bool { self == .zeroShot || self == .publicOnly }
}
