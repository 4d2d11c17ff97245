/// Contextual calibration (Zhao et al. 2021, "Calibrate Before Use"), diagonal form.
///
/// With the same demonstrations, the label probabilities of content-free queries ("N/A", "", "[MASK]")
/// are normalised and averaged into p_cf. A test example's normalised label probabilities p are then
/// scored as W p with W = diag(p_cf)^-1 and b = 0, i.e. p_i / p_cf_i, renormalised. Guarantees: the
/// calibrated vector sums to 1; a uniform p_cf leaves the ranking unchanged.
public struct ContextualCalibration: Sendable, Hashable, Codable {
    /// The paper's content-free inputs.
    public static let contentFreeInputs = ["N/A", "", "[MASK]"]

    /// p_cf, in the task's label order.
    public let contentFreeProbabilities: [Double]

    /// `vectors` are the label probabilities of each content-free input (need not be normalised).
    public init(contentFreeVectors vectors: [[Double]]) {
        precondition(!vectors.isEmpty, "contextual calibration needs at least one content-free input")
        let normalised = vectors.map(Self.normalised)
        let count = normalised[0].count
        contentFreeProbabilities = (0..<count).map { i in normalised.map { $0[i] }.reduce(0, +) / Double(normalised.count) }
    }

    public func calibrated(_ probabilities: [Double]) -> [Double] {
        let p = Self.normalised(probabilities)
        let scaled = zip(p, contentFreeProbabilities).map { value, cf in cf > 0 ? value / cf : (value > 0 ? .greatestFiniteMagnitude : 0) }
        return Self.normalised(scaled)
    }

    /// `values / sum(values)`; a vector of zeros becomes uniform.
    public static func normalised(_ values: [Double]) -> [Double] {
        let total = values.reduce(0, +)
        guard total > 0, total.isFinite else { return values.map { _ in 1 / Double(max(values.count, 1)) } }
        return values.map { $0 / total }
    }

    /// The predicted label index: the first maximum, so ties go to the label listed first.
    public static func predictedLabel(_ scores: [Double]) -> Int {
        var best = 0
        for (index, score) in scores.enumerated() where score > scores[best] { best = index }
        return best
    }
}
