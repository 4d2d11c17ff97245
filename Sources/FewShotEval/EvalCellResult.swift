import FewShotCore

/// The outcome of one (task, condition, seed) cell: counts, accuracies and what produced them.
///
/// Holds no private text: demonstrations are kept only when they are synthetic (generated), never
/// for the real-examples condition.
public struct EvalCellResult: Sendable, Hashable, Codable {
    public var task: String
    public var condition: String
    /// 0, a DP epsilon, or nil (zero-shot, real examples). Infinity is encoded as the string "inf" in JSON.
    public var epsilon: String?
    public var seed: UInt64
    public var testExamples: Int
    public var correct: Int
    public var correctCalibrated: Int
    /// p_cf of contextual calibration, in the task's label order.
    public var contentFreeProbabilities: [Double]
    public var demonstrations: [Demonstration]?
    public var notes: [String: String]
    /// Wall time of the cell (generation and classification).
    public var seconds: Double
    /// Wall time of classification alone: the content-free inputs and every test example.
    public var classificationSeconds: Double
    /// Classification prompts scored (content-free inputs plus test examples).
    public var classifications: Int
    /// Identifies the settings the cell was computed under; a cached cell is reused only if it matches.
    public var fingerprint: String

    public var accuracy: Double { testExamples > 0 ? Double(correct) / Double(testExamples) : 0 }
    public var calibratedAccuracy: Double { testExamples > 0 ? Double(correctCalibrated) / Double(testExamples) : 0 }
}
