import Foundation

/// The privacy loss of the Gaussian mechanism (noise multiplier `sigma`, L2 sensitivity 1) run on a
/// Poisson sample with rate `q`, under add/remove adjacency, for one `direction`
/// (dp_accounting's `GaussianPrivacyLoss`). With mu = N(0, sigma^2):
/// - remove: upper = (1 - q) mu + q mu(. + 1), lower = mu;
/// - add:    upper = mu, lower = (1 - q) mu + q mu(. - 1).
/// The loss ln(upper(x) / lower(x)) is non-increasing in x.
struct SubsampledGaussianLoss {
    enum Direction { case remove, add }

    let sigma: Double
    let q: Double
    let direction: Direction
    // Constants of the hot loop in `discretized`: log q, log(1 - q), log(1/q - 1), 1/sigma.
    private let logQ: Double
    private let log1mQ: Double
    private let logOddsInverse: Double
    private let inverseSigma: Double

    init(sigma: Double, q: Double, direction: Direction) {
        self.sigma = sigma
        self.q = q
        self.direction = direction
        logQ = log(q)
        log1mQ = log1p(-q)
        logOddsInverse = log1p(-q) - log(q)
        inverseSigma = 1 / sigma
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

    /// The largest x whose privacy loss is at least `loss`.
    func inverseLoss(_ loss: Double) -> Double {
        let s2 = sigma * sigma
        switch direction {
        case .remove:
            if q == 1 { return -0.5 - loss * s2 }
            if isClose(loss, log1mQ) { return .infinity }
            // log(e^loss / q - (1/q - 1)).
            let base = LogSpace.subtractWithSign(loss - logQ, logOddsInverse).log
            return -0.5 - base * s2
        case .add:
            if q == 1 { return 1 + (-0.5 - loss * s2) }
            if isClose(loss, -log1mQ) { return -.infinity }
            let base = -LogSpace.subtractWithSign(-loss - logQ, logOddsInverse).log
            return 1 + (-0.5 - base * s2)
        }
    }

    private func isClose(_ a: Double, _ b: Double) -> Bool {
        abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    }

    /// (upper CDF at x, log of lower CDF at x); Phi(x / sigma), needed by both, is computed once.
    private func cdfs(_ x: Double) -> (upper: Double, lowerLog: Double) {
        let z = x * inverseSigma
        if q == 1 {
            switch direction {
            case .remove: return (StandardNormal.cdf(z + inverseSigma), StandardNormal.logCDF(z))
            case .add: return (StandardNormal.cdf(z), StandardNormal.logCDF(z - inverseSigma))
            }
        }
        let phi = StandardNormal.cdf(z)
        // log Phi(z) from phi where that is accurate; the tails need logCDF's own branches.
        let logPhi = z > -35 && z <= 6 ? log(phi) : StandardNormal.logCDF(z)
        switch direction {
        case .remove:
            return ((1 - q) * phi + q * StandardNormal.cdf(z + inverseSigma), logPhi)
        case .add:
            return (phi, LogSpace.add(log1mQ + logPhi, logQ + StandardNormal.logCDF(z - inverseSigma)))
        }
    }

    /// The exact hockey-stick divergence at `epsilon`, clipped to [0, 1].
    func delta(forEpsilon epsilon: Double) -> Double {
        if q < 1 {
            switch direction {
            case .add: if epsilon >= -log1mQ { return 0 }
            case .remove: if epsilon <= log1mQ { return min(1, max(0, -expm1(epsilon))) }
            }
        }
        let (upper, lowerLog) = cdfs(inverseLoss(epsilon))
        let d = upper - exp(epsilon + lowerLog)
        return min(1, max(0, d))
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
        for i in 0..<n {
            deltas[i] = delta(forEpsilon: Double(first + i) * interval)
        }
        if n == 1 {
            return DiscretePrivacyLoss(interval: interval, lowerIndex: first, probabilities: [1 - deltas[0]],
                                       infinityMass: deltas[0])
        }
        for i in 1..<n where deltas[i] > deltas[i - 1] { deltas[i] = deltas[i - 1] }
        let em1 = expm1(interval), e = exp(interval), emm1 = expm1(-interval)
        var probs = [Double](repeating: 0, count: n)
        probs[0] = 1 - deltas[0] + (deltas[1] - deltas[0]) / em1
        if n > 2 {
            for i in 1..<(n - 1) {
                let next = deltas[i + 1] - deltas[i], previous = deltas[i] - deltas[i - 1]
                probs[i] = (next - previous * e) / em1
            }
        }
        probs[n - 1] = (deltas[n - 1] - deltas[n - 2]) / emm1
        for i in 0..<n where probs[i] < 0 { probs[i] = 0 }
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
            if last - first + 1 > DiscretePrivacyLoss.maximumGridPoints {
                throw DiscretePrivacyLoss.tooLarge(last - first + 1)
            }
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
