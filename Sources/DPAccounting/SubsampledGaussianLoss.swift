import CPrivacyLossKernels
import Foundation

/// The privacy loss of the Gaussian mechanism (noise multiplier `sigma`, L2 sensitivity 1) run on a
/// Poisson sample with rate `q`, under add/remove adjacency, for one `direction`
/// (dp_accounting's `GaussianPrivacyLoss`). With mu = N(0, sigma^2):
/// - remove: upper = (1 - q) mu + q mu(. + 1), lower = mu;
/// - add:    upper = mu, lower = (1 - q) mu + q mu(. - 1).
/// The loss ln(upper(x) / lower(x)) is non-increasing in x. The inverse loss and the hockey-stick
/// divergence, evaluated at every grid point by `discretized`, are in CPrivacyLossKernels
/// (SubsampledGaussianDeltas.c).
struct SubsampledGaussianLoss {
    enum Direction { case remove, add }

    let sigma: Double
    let q: Double
    let direction: Direction
    /// The parameters for the C functions, with the constants of the hot loop in `discretized`:
    /// log q, log(1 - q), log(1/q - 1), 1/sigma.
    private let kernel: PLKSubsampledGaussian

    init(sigma: Double, q: Double, direction: Direction) {
        self.sigma = sigma
        self.q = q
        self.direction = direction
        kernel = PLKSubsampledGaussian(sigma: sigma, q: q, add: direction == .add ? 1 : 0, log_q: log(q),
                                       log1m_q: log1p(-q), log_odds_inverse: log1p(-q) - log(q),
                                       inverse_sigma: 1 / sigma)
    }

    /// ln of the noise mass dropped at each end before discretising (dp_accounting's default).
    static let logMassTruncationBound = -50.0

    private func lossWithoutSamplingRemove(_ x: Double) -> Double {
        (-0.5 - x) / (sigma * sigma)
    }

    private func lossRemove(_ x: Double) -> Double {
        let base = lossWithoutSamplingRemove(x)
        if q == 1 { return base }
        return LogSpace.aTimesExpBPlusC(q, base, 1 - q)
    }

    func privacyLoss(_ x: Double) -> Double {
        switch direction {
        case .remove: return lossRemove(x)
        case .add: return -lossRemove(-x)
        }
    }

    /// Noise truncation points: outside [lowerX, upperX] each shifted Gaussian has mass
    /// below 0.5 * exp(logMassTruncationBound).
    var truncation: (lowerX: Double, upperX: Double) {
        let z = sigma * StandardNormal.quantile(0.5 * exp(Self.logMassTruncationBound))
        var lower = z, upper = -z
        switch direction {
        case .add: upper += 1
        case .remove: lower -= 1
        }
        return (lower, upper)
    }

    /// Pessimistic "connect the dots" discretisation (Doroshenko, Ghazi, Kamath, Kumar, Manurangsi
    /// 2022, Algorithm 1) on the grid `interval * k`: the discrete distribution's hockey-stick curve
    /// interpolates the true one at every grid epsilon and lies above it in between (the true curve
    /// is convex in e^epsilon), so every delta computed from it upper-bounds the true delta. Mass
    /// beyond the noise truncation goes to +infinity (pessimistic).
    func discretized(interval: Double) -> DiscretePrivacyLoss {
        let (first, last) = gridRange(interval: interval)
        let n = last - first + 1
        var deltas = [Double](repeating: 0, count: n)
        deltas.withUnsafeMutableBufferPointer { plk_subsampled_gaussian_deltas(kernel, first, n, interval, $0.baseAddress) }
        if n == 1 {
            return DiscretePrivacyLoss(interval: interval, lowerIndex: first, probabilities: [1 - deltas[0]],
                                       infinityMass: deltas[0])
        }
        var probs = [Double](repeating: 0, count: n)
        deltas.withUnsafeMutableBufferPointer { deltas in
            probs.withUnsafeMutableBufferPointer { plk_connect_the_dots(deltas.baseAddress, n, interval, $0.baseAddress) }
        }
        return DiscretePrivacyLoss(interval: interval, lowerIndex: first, probabilities: probs,
                                   infinityMass: deltas[n - 1])
    }

    /// The grid indices the discretised distribution occupies.
    func gridRange(interval: Double) -> (first: Int, last: Int) {
        let (lowerX, upperX) = truncation
        let first = (privacyLoss(upperX) / interval).rounded(.down)
        let last = (privacyLoss(lowerX) / interval).rounded(.up)
        let limit = Double(DiscretePrivacyLoss.maximumGridPoints)
        // Clamped so that an oversized grid is reported, not an integer overflow.
        return (Int(max(min(first, limit), -limit)), Int(max(min(last, 2 * limit), -limit)))
    }

    /// Both directions (only `remove` when q = 1, where they coincide).
    static func pair(sigma: Double, samplingRate q: Double, interval: Double) throws -> PrivacyLossPair {
        for direction in [Direction.remove, .add] {
            let (first, last) = SubsampledGaussianLoss(sigma: sigma, q: q, direction: direction).gridRange(interval: interval)
            try DiscretePrivacyLoss.requireGridPoints(Double(last - first + 1))
        }
        if q == 1 {
            return PrivacyLossPair(remove: SubsampledGaussianLoss(sigma: sigma, q: q, direction: .remove)
                .discretized(interval: interval), add: nil)
        }
        let (remove, add) = BothDirections.run(
            { SubsampledGaussianLoss(sigma: sigma, q: q, direction: .remove).discretized(interval: interval) },
            { SubsampledGaussianLoss(sigma: sigma, q: q, direction: .add).discretized(interval: interval) })
        return PrivacyLossPair(remove: remove, add: add)
    }
}
