import Foundation

/// Releases one index: the argmax of an aggregate plus noise. Only the index is released, never
/// the noisy values.
///
/// - `gaussian(scale)`: each candidate gets N(0, scale^2), scale = sigma * sqrt(2) / M (L2 sensitivity
///   sqrt(2)/M). The accountant's event is Gaussian(sigma).
/// - `gumbel(scale)`: each candidate gets Gumbel(scale): the exponential mechanism, epsilon = 2 * Delta /
///   scale for a utility of sensitivity Delta.
/// - `none`: plain argmax (epsilon = infinity).
///
/// `hiddenCandidates` counts further vocabulary entries whose aggregate is 0 (the rest of the
/// vocabulary in `full` mode). They are noised too, by drawing the maximum of their noise directly
/// (inverse CDF of the maximum of n i.i.d. draws), so the candidate set cannot leak. The result is
/// `.hidden` when one of them wins; the caller then picks one of them uniformly at random.
public enum NoisyArgmax: Sendable, Hashable {
    case gaussian(scale: Double)
    case gumbel(scale: Double)
    case none

    public enum Winner: Sendable, Hashable {
        case candidate(Int)
        case hidden
    }

    public func select(_ scores: [Double], hiddenCandidates: Int = 0, noise: NoiseSource) -> Winner {
        var best = -Double.infinity
        var winner = Winner.hidden
        for (i, score) in scores.enumerated() {
            let noisy = score + draw(noise)
            if noisy > best {
                best = noisy
                winner = .candidate(i)
            }
        }
        if hiddenCandidates > 0, maxOfHidden(count: hiddenCandidates, noise: noise) > best { return .hidden }
        return winner
    }

    private func draw(_ noise: NoiseSource) -> Double {
        switch self {
        case .gaussian(let scale): scale * noise.standardNormal()
        case .gumbel(let scale): scale * noise.standardGumbel()
        case .none: 0
        }
    }

    /// The maximum of `count` i.i.d. noise draws (each added to an aggregate of 0), drawn exactly.
    private func maxOfHidden(count: Int, noise: NoiseSource) -> Double {
        let n = Double(count)
        switch self {
        case .none:
            return 0
        case .gumbel(let scale):
            // The maximum of n Gumbel(0, b) is Gumbel(b * ln n, b).
            return scale * (noise.standardGumbel() + Foundation.log(n))
        case .gaussian(let scale):
            // P(max <= x) = Phi(x)^n, so max = Phi^-1(U^(1/n)); computed on the upper tail for precision.
            let tail = -expm1(Foundation.log(noise.uniformOpen()) / n)
            return scale * -StandardNormal.quantile(tail)
        }
    }
}

/// The standard normal quantile function (Acklam's rational approximation refined by one Halley step
/// on erfc, accurate to about 1e-15 relative).
enum StandardNormal {
    static func quantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1)
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * Foundation.log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * Foundation.log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * Foundation.exp(x * x / 2)
        return x - u / (1 + x * u / 2)
    }
}
