import Foundation

/// Conversion of Renyi DP curves to (epsilon, delta), as dp_accounting's `compute_epsilon` and
/// `compute_delta`: the improved bound of Canonne, Kamath, Steinke (2020) / Asoodeh et al. (2021),
/// eps = rdp + log1p(-1/a) - log(delta * a) / (a - 1), minimised over the orders.
///
/// A Renyi divergence is never negative: a negative value on the curve means the curve was computed
/// wrongly, and converting it would claim epsilon 0 for a mechanism that may leak. Both conversions
/// throw ``AccountingError/negativeRenyiDivergence(order:value:)`` instead.
enum RDPConversion {
    static func epsilon(orders: [Double], rdp: [Double], delta: Double) throws -> (epsilon: Double, order: Double) {
        try refuseNegative(orders: orders, rdp: rdp)
        var best = Double.infinity, bestOrder = orders.first ?? 0
        for (a, r) in zip(orders, rdp) {
            let e: Double
            if r.isNaN {
                continue
            } else if delta * delta + expm1(-r) > 0 {
                e = 0
            } else if a > 1.01 {
                e = r + log1p(-1 / a) - log(delta * a) / (a - 1)
            } else {
                e = .infinity
            }
            if e < best {
                best = e
                bestOrder = a
            }
        }
        return (max(0, best), bestOrder)
    }

    static func delta(orders: [Double], rdp: [Double], epsilon: Double) throws -> Double {
        try refuseNegative(orders: orders, rdp: rdp)
        var best = Double.infinity
        for (a, r) in zip(orders, rdp) {
            if r.isNaN { continue }
            var logDelta: Double = r <= 0 ? -.infinity : 0.5 * log1p(-exp(-r))
            if a > 1.01 {
                let bound = (a - 1) * (r - epsilon + log1p(-1 / a)) - log(a)
                logDelta = min(logDelta, bound)
            }
            best = min(best, logDelta)
        }
        return min(exp(best), 1)
    }

    static func refuseNegative(orders: [Double], rdp: [Double]) throws {
        if let (a, r) = zip(orders, rdp).first(where: { $0.1 < 0 }) {
            throw AccountingError.negativeRenyiDivergence(order: a, value: r)
        }
    }
}
