import DPAccounting
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
