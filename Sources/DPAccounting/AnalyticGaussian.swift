import Foundation

/// The exact (epsilon, delta) curve of the Gaussian mechanism with noise multiplier `sigma`
/// (Balle and Wang 2018, eq. 6), computed in log space, as dp_accounting's `gaussian_mechanism`.
/// Adaptive composition of Gaussians with multipliers s_i is exactly one Gaussian with
/// multiplier (sum_i s_i^-2)^-1/2, so this also covers any number of unsampled Gaussian steps.
enum AnalyticGaussian {
    /// log delta(epsilon) for multiplier `sigma`.
    static func logDelta(sigma: Double, epsilon: Double) -> Double {
        let t = epsilon * sigma + 1 / (2 * sigma)
        let x = StandardNormal.logCDF(1 / sigma - t)
        let y = epsilon + StandardNormal.logCDF(-t)
        return y <= x ? x + log1p(-exp(y - x)) : -.infinity
    }

    /// The smallest epsilon >= 0 with delta(epsilon) <= `delta`, to within 1e-12 (rounded up).
    static func epsilon(sigma: Double, delta: Double) -> Double {
        // No noise (FlatComposition never passes it; here the formulas below would give NaN, read as 0).
        guard sigma > 0 else { return .infinity }
        let target = log(delta)
        if logDelta(sigma: sigma, epsilon: 0) <= target { return 0 }
        var lo = 0.0, hi = 1.0
        while logDelta(sigma: sigma, epsilon: hi) > target {
            lo = hi
            hi *= 10
            if hi > 1e12 { return .infinity }
        }
        while hi - lo > 1e-12 * max(1, hi) {
            let mid = 0.5 * (lo + hi)
            if logDelta(sigma: sigma, epsilon: mid) > target { lo = mid } else { hi = mid }
        }
        return hi
    }
}
