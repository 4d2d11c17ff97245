import Foundation

/// Renyi DP of the Gaussian mechanism under subsampling, following dp_accounting's
/// `rdp_privacy_accountant` term by term (all sums in log space).
enum RDPGaussian {
    /// RDP at `order` of the Gaussian with multiplier `sigma` on a Poisson sample of rate `q`
    /// (Mironov, Talwar, Zhang 2019), add/remove adjacency. Integer orders use the exact binomial
    /// expansion; fractional orders the two-sided series with erfc terms. May be +infinity.
    static func poisson(q: Double, sigma: Double, order: Double) -> Double {
        if order.isInfinite { return .infinity }
        if q == 1 { return order / (2 * sigma * sigma) }
        let logA = order == order.rounded() ? logAInteger(q: q, sigma: sigma, alpha: Int(order))
                                            : logAFractional(q: q, sigma: sigma, alpha: order)
        return logA / (order - 1)
    }

    static func logAInteger(q: Double, sigma: Double, alpha: Int) -> Double {
        var logA = -Double.infinity
        let log1mq = log1p(-q), logQ = log(q)
        let a = Double(alpha)
        for i in 0...alpha {
            let di = Double(i)
            let logCoef = LogSpace.binomial(a, di) + di * logQ + (a - di) * log1mq
            let s = logCoef + (di * di - di) / (2 * sigma * sigma)
            logA = LogSpace.add(logA, s)
        }
        return logA
    }

    /// dp_accounting gives up (excludes the order) after this many series terms.
    static let maxFractionalSteps = 1000

    static func logAFractional(q: Double, sigma: Double, alpha: Double) -> Double {
        var logA0 = -Double.infinity, logA1 = -Double.infinity
        let z0 = sigma * sigma * log(1 / q - 1) + 0.5
        let log1mq = log1p(-q), logQ = log(q)
        var lastS0 = -Double.infinity, lastS1 = -Double.infinity
        for step in 0..<maxFractionalSteps {
            let i = Double(step)
            let logCoef = LogSpace.binomial(alpha, i)
            let j = alpha - i
            let logT0 = logCoef + i * logQ + j * log1mq
            let logT1 = logCoef + j * logQ + i * log1mq
            let logE0 = log(0.5) + StandardNormal.logErfc((i - z0) / (2.0.squareRoot() * sigma))
            let logE1 = log(0.5) + StandardNormal.logErfc((z0 - j) / (2.0.squareRoot() * sigma))
            let logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0
            let logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1
            logA0 = LogSpace.add(logA0, logS0)
            logA1 = LogSpace.add(logA1, logS1)
            let total = LogSpace.add(logA0, logA1)
            if logS0 < lastS0 && logS1 < lastS1 && max(logS0, logS1) < total - 30 { return total }
            lastS0 = logS0
            lastS1 = logS1
        }
        // As dp_accounting: a series that does not converge excludes this order (infinite RDP).
        return .infinity
    }

    /// RDP at `order` of the Gaussian with multiplier `sigma` on a uniformly random subset of
    /// fraction `q` = m / n drawn without replacement, replace-one adjacency (Wang, Balle,
    /// Kasiviswanathan 2019, Theorem 27, as dp_accounting's `_compute_rdp_sample_wor_gaussian`).
    /// Fractional orders interpolate linearly between the neighbouring integers.
    ///
    /// Capped at the unsampled Gaussian's order / (2 sigma^2): sampling cannot cost more than running on
    /// the whole data (a subsample of neighbours holds at most the one changed example, and Rényi
    /// divergence is jointly quasi-convex). Theorem 27's bound alone is looser than that from q of about
    /// 0.6-0.7 (sigma 1, 10 steps: 20.43 at q 0.7 and 24.93 at q 0.99, against 19.05 unsampled);
    /// dp_accounting does not cap it.
    static func withoutReplacement(q: Double, sigma: Double, order: Double) -> Double {
        let unsampled = order / (2 * sigma * sigma)
        if q == 1 { return unsampled }
        if order.isInfinite { return .infinity }
        let bound: Double
        if order == order.rounded() {
            bound = withoutReplacementInteger(q: q, sigma: sigma, alpha: Int(order)) / (order - 1)
        } else {
            let lo = order.rounded(.down), hi = order.rounded(.up)
            let x = withoutReplacementInteger(q: q, sigma: sigma, alpha: Int(lo))
            let y = withoutReplacementInteger(q: q, sigma: sigma, alpha: Int(hi))
            let t = order - lo
            bound = ((1 - t) * x + t * y) / (order - 1)
        }
        return bound.isNaN ? bound : min(bound, unsampled)
    }

    /// log A_alpha for sampling without replacement; exact for alpha <= 256, Stirling-style bound above.
    static func withoutReplacementInteger(q: Double, sigma: Double, alpha: Int) -> Double {
        if alpha == 1 { return 0 }
        let s2 = sigma * sigma
        func cgf(_ x: Double) -> Double { x * (x + 1) / (2 * s2) }
        func f(_ x: Double) -> Double { x / (2 * s2) }
        let logQ = log(q), a = Double(alpha)
        var logA = 0.0
        let logF2m1 = f(2) + log1p(-exp(-f(2)))
        let secondTerm = 2 * logQ + LogSpace.binomial(a, 2) + min(log(4) + logF2m1, f(2) + log(2))
        if alpha <= 256 {
            let deltas = forwardDifferences(cgf, alpha)
            for i in 2...alpha {
                var s: Double
                if i == 2 {
                    s = secondTerm
                } else {
                    let lo = deltas[Int(2 * (Double(i) / 2).rounded(.down)) - 1]
                    let hi = deltas[Int(2 * (Double(i) / 2).rounded(.up)) - 1]
                    s = log(4) + 0.5 * (lo + hi)
                    s = min(s, log(2) + cgf(Double(i - 1)))
                    s += Double(i) * logQ + LogSpace.binomial(a, Double(i))
                }
                logA = LogSpace.add(logA, s)
            }
        } else {
            for i in 2...alpha {
                let s = i == 2 ? secondTerm
                    : log(2) + cgf(Double(i - 1)) + Double(i) * logQ + LogSpace.binomial(a, Double(i))
                logA = LogSpace.add(logA, s)
            }
        }
        return logA
    }

    /// log |k-th forward difference of exp(fun) at 0| for k = 0...n+1 (dp_accounting's
    /// `_get_forward_diffs`, Theorem 27 of Wang et al.), computed with signed log-space differences.
    static func forwardDifferences(_ fun: (Double) -> Double, _ n: Int) -> [Double] {
        var values = [Double](repeating: 0, count: n + 3)
        var signs = [Bool](repeating: true, count: n + 3)
        var deltas = [Double](repeating: 0, count: n + 2)
        for i in 1..<(n + 3) { values[i] = fun(Double(i - 1)) }
        for i in 0..<(n + 2) {
            // In-place differences of the first n + 2 - i entries.
            let count = n + 2 - i
            for j in 0..<count {
                if signs[j] == signs[j + 1] {
                    let (positive, magnitude) = LogSpace.subtractWithSign(values[j + 1], values[j])
                    signs[j] = positive
                    values[j] = magnitude
                    if !signs[j + 1] { signs[j].toggle() }
                } else {
                    values[j] = LogSpace.add(values[j], values[j + 1])
                    signs[j] = signs[j + 1]
                }
            }
            deltas[i] = values[0]
        }
        return deltas
    }
}

/// Renyi DP of pure epsilon-DP mechanisms (such as the exponential mechanism / report-noisy-max
/// with Gumbel noise), optionally amplified by subsampling.
enum RDPPure {
    /// The tight RDP bound at `order` for any epsilon-DP mechanism: the Renyi divergence of the
    /// randomized-response pair (e^eps, 1) / (1 + e^eps), which every epsilon-DP pair is a
    /// post-processing of: (1 / (a - 1)) log((e^{a eps} + e^{(1 - a) eps}) / (1 + e^eps)).
    /// Never above min(eps, a eps^2 / 2). Computed in log space.
    static func rdp(epsilon: Double, order a: Double) -> Double {
        if epsilon == 0 { return 0 }
        if a.isInfinite { return epsilon }
        let logNumerator = a * epsilon + log1p(exp((1 - 2 * a) * epsilon))
        let logDenominator = epsilon + log1p(exp(-epsilon))
        return min((logNumerator - logDenominator) / (a - 1), epsilon)
    }

    /// Pure-DP amplification by subsampling at rate `q` (Poisson with add/remove adjacency, or
    /// without replacement with replace-one adjacency; Balle, Barthe, Gaboardi 2018):
    /// log(1 + q (e^eps - 1)).
    static func amplified(epsilon: Double, q: Double) -> Double {
        log1p(q * expm1(epsilon))
    }
}
