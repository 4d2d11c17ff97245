import CPrivacyLossKernels
import Foundation

/// Arithmetic on numbers stored as their natural logarithms, so sums of huge or tiny terms
/// neither overflow nor underflow. Addition and subtraction are in CPrivacyLossKernels (LogSpace.c),
/// shared with the subsampled Gaussian's discretisation.
enum LogSpace {
    /// log(exp(a) + exp(b)).
    static func add(_ a: Double, _ b: Double) -> Double {
        plk_log_add(a, b)
    }

    /// (sign, log|exp(a) - exp(b)|), sign true when exp(a) >= exp(b).
    static func subtractWithSign(_ a: Double, _ b: Double) -> (positive: Bool, log: Double) {
        (!(a < b), plk_log_abs_difference(a, b))
    }

    /// log of the binomial coefficient C(n, k) for real n, k (log |Gamma| as scipy's gammaln).
    static func binomial(_ n: Double, _ k: Double) -> Double {
        lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)
    }

    /// log(a * exp(b) + c), as dp_accounting's `log_a_times_exp_b_plus_c`.
    static func aTimesExpBPlusC(_ a: Double, _ b: Double, _ c: Double) -> Double {
        if a == 0 { return log(c) }
        if a < 0 {
            return subtractWithSign(log(c), log(-a) + b).log
        }
        if b == 0 { return log(a + c) }
        let d = b + log(a)
        if c == 0 { return d }
        if c < 0 { return subtractWithSign(d, log(-c)).log }
        return add(d, log(c))
    }
}
