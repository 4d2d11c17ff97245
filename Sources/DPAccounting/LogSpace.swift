import Foundation

/// Arithmetic on numbers stored as their natural logarithms, so sums of huge or tiny terms
/// neither overflow nor underflow.
enum LogSpace {
    /// log(exp(a) + exp(b)).
    static func add(_ a: Double, _ b: Double) -> Double {
        let lo = min(a, b), hi = max(a, b)
        if lo == -.infinity { return hi }
        return log1p(exp(lo - hi)) + hi
    }

    /// (sign, log|exp(a) - exp(b)|), sign true when exp(a) >= exp(b).
    static func subtractWithSign(_ a: Double, _ b: Double) -> (positive: Bool, log: Double) {
        if a > b { return (true, a + log1p(-exp(b - a))) }
        if a < b { return (false, b + log1p(-exp(a - b))) }
        return (true, -.infinity)
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
