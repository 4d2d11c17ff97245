import Foundation

/// Finds the smallest noise multiplier that meets a privacy target, by a bracketing search
/// (interpolation steps with bisection fallback).
///
/// Guarantee: the returned sigma meets the target, i.e. `accountant.epsilon(for: event(sigma),
/// delta: delta) <= epsilon` was checked for exactly the returned value. It errs on the safe
/// (noisier) side: the true smallest sigma s* satisfies s* <= sigma <= s* * (1 + relativeTolerance)
/// (assuming epsilon decreases as sigma grows, true for every event built from one multiplier).
public enum Calibration {
    /// Relative width at which bisection stops (0.1% of sigma).
    public static let defaultRelativeTolerance = 1e-3

    /// The smallest noise multiplier sigma, to within `relativeTolerance` (rounded up), such that
    /// `event(sigma)` is (`epsilon`, `delta`)-DP according to `accountant`.
    /// Throws ``AccountingError/calibrationFailed(reason:)`` if no sigma up to `maximumSigma` suffices.
    public static func noiseMultiplier(
        epsilon: Double, delta: Double,
        accountant: any PrivacyAccountant = DefaultAccountant(),
        relativeTolerance: Double = defaultRelativeTolerance,
        maximumSigma: Double = 1e4,
        event: (Double) -> PrivacyEvent
    ) throws -> Double {
        guard epsilon > 0 && epsilon.isFinite else { throw AccountingError.invalidEpsilon(epsilon) }
        try FlatComposition.validate(delta: delta)
        // f(sigma) = log(epsilon(sigma) / target): > 0 fails the target, <= 0 meets it.
        func gap(_ sigma: Double) throws -> Double {
            let e = try accountant.epsilon(for: event(sigma), delta: delta)
            if e == 0 { return -.infinity }
            return log(e) - log(epsilon)
        }
        // A cheap starting guess from the RDP accountant when it applies (RDP is looser, so its
        // sigma usually already meets the target of a tighter accountant).
        var start = 1.0
        if !(accountant is RDPAccountant), RDPAccountant().supports(event(1)),
           let guess = try? noiseMultiplier(epsilon: epsilon, delta: delta, accountant: RDPAccountant(),
                                            relativeTolerance: 1e-2, maximumSigma: maximumSigma, event: event) {
            start = guess
        }
        // Bracket [lo, hi]: lo fails, hi meets.
        var lo = start, hi = start
        var fLo = try gap(start), fHi = fLo
        if fLo <= 0 {
            repeat {
                hi = lo; fHi = fLo
                // epsilon falls roughly like sigma^-4 in the subsampled regime: jump close to the root.
                lo = hi * min(0.95, max(0.5, pow(exp(fHi), 0.25)))
                if lo < 1e-6 { return hi }
                fLo = try gap(lo)
            } while fLo <= 0
        } else {
            repeat {
                lo = hi; fLo = fHi
                hi = lo * 1.25
                if hi > maximumSigma {
                    throw AccountingError.calibrationFailed(reason:
                        "no noise multiplier up to \(maximumSigma) reaches epsilon \(epsilon) at delta \(delta)")
                }
                fHi = try gap(hi)
            } while fHi > 0
        }
        // Secant steps on (log sigma, log epsilon) through the two latest evaluations, aimed just
        // past the estimated root on the side that has not moved lately, so both ends of the
        // bracket close in; bisection when the secant leaves the bracket or one side stalls.
        var previous = (x: log(lo), f: fLo), latest = (x: log(hi), f: fHi)
        var lastMovedHigh = true, sameSide = 0
        while hi - lo > relativeTolerance * hi {
            let width = hi - lo
            var c = 0.5 * (lo + hi)
            if sameSide < 2, latest.f.isFinite, previous.f.isFinite, latest.f != previous.f {
                let x = latest.x - latest.f * (latest.x - previous.x) / (latest.f - previous.f)
                if x.isFinite, exp(x) > lo, exp(x) < hi {
                    let nudge = 0.4 * relativeTolerance * hi
                    c = exp(x) + (lastMovedHigh ? -nudge : nudge)
                    c = min(max(c, lo + 0.01 * width), hi - 0.01 * width)
                }
            }
            let fc = try gap(c)
            let movedHigh = fc <= 0
            if movedHigh { hi = c; fHi = fc } else { lo = c; fLo = fc }
            sameSide = movedHigh == lastMovedHigh ? sameSide + 1 : 0
            lastMovedHigh = movedHigh
            previous = latest
            latest = (log(c), fc)
        }
        return hi
    }

    /// The smallest sigma for `steps` Poisson-subsampled Gaussian steps at rate `samplingRate`
    /// (plain Gaussian steps when `samplingRate` is 1).
    public static func subsampledGaussianNoiseMultiplier(
        epsilon: Double, delta: Double, samplingRate: Double, steps: Int,
        accountant: any PrivacyAccountant = DefaultAccountant(),
        relativeTolerance: Double = defaultRelativeTolerance
    ) throws -> Double {
        guard samplingRate > 0 && samplingRate <= 1 else { throw AccountingError.invalidSamplingRate(samplingRate) }
        guard steps >= 1 else { throw AccountingError.invalidSteps(steps) }
        return try noiseMultiplier(epsilon: epsilon, delta: delta, accountant: accountant,
                                   relativeTolerance: relativeTolerance) { sigma in
            .selfComposed(event: .poissonSampled(samplingRate: samplingRate, event: .gaussian(noiseMultiplier: sigma)),
                          count: steps)
        }
    }
}
