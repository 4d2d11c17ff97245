/// Why an accountant refused to compute a guarantee. Each case names the offending argument and
/// the accepted range, so a caller (or a CLI user) can fix the input.
public enum AccountingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A sampling rate q outside (0, 1].
    case invalidSamplingRate(Double)
    /// A noise multiplier sigma that is not a finite number > 0.
    case invalidNoiseMultiplier(Double)
    /// A delta outside (0, 1).
    case invalidDelta(Double)
    /// A target epsilon that is not a finite number > 0, or a pure-DP step's epsilon below 0.
    case invalidEpsilon(Double)
    /// A step (composition) count below 1, or one that makes the total count overflow.
    case invalidSteps(Int)
    /// A sample size / source size pair that is not 1 <= sampleSize <= sourceSize.
    case invalidSampleSize(sourceSize: Int, sampleSize: Int)
    /// The accountant named `accountant` cannot account for this event; `reason` says why.
    case unsupportedEvent(accountant: String, reason: String)
    /// Calibration found no noise multiplier that meets the target.
    case calibrationFailed(reason: String)
    /// An RDP curve with a negative value at this order: a Renyi divergence is never negative, so the
    /// curve is wrong and no guarantee can be derived from it.
    case negativeRenyiDivergence(order: Double, value: Double)

    public var description: String {
        switch self {
        case .invalidSamplingRate(let q):
            return "sampling rate q = \(q) is outside (0, 1]"
        case .invalidNoiseMultiplier(let s):
            return "noise multiplier sigma = \(s) must be a finite number > 0"
        case .invalidDelta(let d):
            return "delta = \(d) is outside (0, 1)"
        case .invalidEpsilon(let e):
            return "epsilon = \(e) must be a finite number > 0 (>= 0 for a pure-DP step)"
        case .invalidSteps(let t):
            return t >= 1 ? "steps = \(t) makes the total number of composed steps overflow"
                          : "steps = \(t) must be at least 1"
        case .invalidSampleSize(let n, let m):
            return "sample size \(m) of source size \(n) must satisfy 1 <= sample size <= source size"
        case .unsupportedEvent(let accountant, let reason):
            return "the \(accountant) accountant does not support this event: \(reason)"
        case .calibrationFailed(let reason):
            return "calibration failed: \(reason)"
        case .negativeRenyiDivergence(let order, let value):
            return "the RDP curve is \(value) < 0 at order \(order); a Renyi divergence is never negative, so the curve is wrong and no epsilon is derived from it"
        }
    }
}
