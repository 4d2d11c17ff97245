import Foundation

/// The privacy loss distributions of an epsilon-DP step (such as the exponential mechanism),
/// optionally on a Poisson sample with rate `q`, under add/remove adjacency.
///
/// Every epsilon-DP mechanism is a post-processing of randomized response with
/// P = (e^eps, 1) / (1 + e^eps) and Q = (1, e^eps) / (1 + e^eps), so (P, Q) is a dominating pair;
/// Poisson subsampling turns it into (qP + (1 - q)Q, Q) for removal and (Q, qP + (1 - q)Q) for
/// addition (Zhu, Dong, Wang 2022), the same shape dp_accounting uses for the subsampled Gaussian.
/// Each distribution has two losses, discretised by pessimistic connect-the-dots.
enum PureDPLoss {
    /// Throws (``DiscretePrivacyLoss/requireGridPoints(_:)``) when the losses (about +-epsilon) span more grid
    /// points than a composition may use; the default accountant then answers with RDP.
    static func pair(epsilon: Double, samplingRate q: Double, interval: Double) throws -> PrivacyLossPair {
        // p1 = e^eps / (1 + e^eps), p0 = 1 / (1 + e^eps).
        let p1 = 1 / (1 + exp(-epsilon)), p0 = 1 / (1 + exp(epsilon))
        let u1 = q * p1 + (1 - q) * p0, u0 = q * p0 + (1 - q) * p1
        // Removal: sample from U = qP + (1 - q)Q, loss log(U / Q).
        let gain = mixtureLog(q: q, epsilon), loss = mixtureLog(q: q, -epsilon)
        let remove = try twoPoint(interval: interval, (gain, u1), (loss, u0))
        if q == 1 { return PrivacyLossPair(remove: remove, add: nil) }
        // Addition: sample from Q, loss log(Q / U).
        let add = try twoPoint(interval: interval, (-gain, p0), (-loss, p1))
        return PrivacyLossPair(remove: remove, add: add)
    }

    /// log(1 + q (e^x - 1)) = log((1 - q) + q e^x), accurate for every x: through log1p where the
    /// result is near 0, in log space elsewhere. Written only as log1p(q * expm1(x)), it was infinite
    /// once e^x overflowed (x above 709) and, for q = 1, once 1 + expm1(-x) rounded to 0 (x above
    /// about 37): the grid index of an infinite loss trapped the process.
    static func mixtureLog(q: Double, _ x: Double) -> Double {
        let t = q * expm1(x)
        if abs(t) < 0.5 { return log1p(t) }
        return LogSpace.add(log1p(-q), log(q) + x)
    }

    /// Pessimistic connect-the-dots discretisation of a finite loss distribution (dp_accounting's
    /// `create_pmf_pessimistic_connect_dots`, Doroshenko et al. 2022): the support is the grid points
    /// just below and above each loss, and the probabilities make the discrete hockey-stick curve
    /// interpolate the exact one there (it lies above the exact curve in between).
    static func twoPoint(interval h: Double, _ a: (loss: Double, probability: Double),
                         _ b: (loss: Double, probability: Double)) throws -> DiscretePrivacyLoss {
        let points = [a, b]
        let span = (max(a.loss, b.loss) / h).rounded(.up) - (min(a.loss, b.loss) / h).rounded(.down) + 1
        try DiscretePrivacyLoss.requireGridPoints(span)
        var grid = Set<Int>()
        for p in points {
            grid.insert(Int((p.loss / h).rounded(.down)))
            grid.insert(Int((p.loss / h).rounded(.up)))
        }
        let indices = grid.sorted()
        let epsilons = indices.map { Double($0) * h }
        var deltas = epsilons.map { e in
            points.reduce(0.0) { sum, p in p.loss > e ? sum + p.probability * -expm1(e - p.loss) : sum }
        }
        for i in 1..<max(deltas.count, 1) where deltas[i] > deltas[i - 1] { deltas[i] = deltas[i - 1] }
        let lower = indices[0]
        var probabilities = [Double](repeating: 0, count: indices[indices.count - 1] - lower + 1)
        for i in 0..<indices.count {
            var mass = i == 0 ? 1 - deltas[0] : (deltas[i] - deltas[i - 1]) / expm1(epsilons[i - 1] - epsilons[i])
            if i + 1 < indices.count {
                mass += (deltas[i + 1] - deltas[i]) / expm1(epsilons[i + 1] - epsilons[i])
            }
            probabilities[indices[i] - lower] = max(0, mass)
        }
        return DiscretePrivacyLoss(interval: h, lowerIndex: lower, probabilities: probabilities,
                                   infinityMass: deltas[deltas.count - 1])
    }
}
