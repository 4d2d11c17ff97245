import FewShotCore
import FewShotSelection

/// Demonstrations for one (condition, seed) cell of an evaluation.
///
/// `containsPrivateText` is true when the texts are real private examples: the harness then uses them
/// in prompts but never writes them to its output. `notes` are public details recorded with the
/// result (noise multipliers, generation settings, "not private"). With a `selector` the
/// demonstrations are a pool, and each test example is classified with the selector's choice for
/// its text (FewShotSelection, as `fewshot serve` selects).
public struct EvalDemonstrations: Sendable {
    public var demonstrations: [Demonstration]
    public var containsPrivateText: Bool
    public var notes: [String: String]
    public var selector: DemonstrationSelector?

    public init(
        demonstrations: [Demonstration], containsPrivateText: Bool = false, notes: [String: String] = [:], selector: DemonstrationSelector? = nil
    ) {
        self.demonstrations = demonstrations
        self.containsPrivateText = containsPrivateText
        self.notes = notes
        self.selector = selector
    }

    /// The demonstrations a test example with `text` is classified with.
    public func demonstrations(for text: String) -> [Demonstration] {
        selector?.select(for: text) ?? demonstrations
    }
}

/// Where the harness gets demonstrations: "give me the demonstrations of condition C for seed s".
///
/// One source serves one task. Implementations must be deterministic in what they claim: the same
/// condition and seed describe the same experiment (generated text may still differ when noise is
/// drawn from the secure generator). `cacheKey` names every setting that changes the demonstrations,
/// so that cached results made under other settings are not reused.
public protocol DemonstrationSource: Sendable {
    func demonstrations(for condition: EvalCondition, seed: UInt64) async throws -> EvalDemonstrations
    var cacheKey: String { get }
}

extension DemonstrationSource {
    public var cacheKey: String { "" }
}
