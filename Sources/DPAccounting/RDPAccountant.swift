import Foundation

/// Renyi DP accountant (after dp_accounting's `RdpAccountant`), the general fallback: it covers
/// every ``PrivacyEvent``.
///
/// Guarantees:
/// - Sound upper bound on epsilon for the events, over the order grid ``defaultOrders`` (fractional
///   and integer orders), with the improved RDP-to-(epsilon, delta) conversion.
/// - Gaussian: a / (2 sigma^2). Poisson-subsampled Gaussian (add/remove): Mironov, Talwar, Zhang
///   2019. Gaussian sampled without replacement (replace-one adjacency): Wang, Balle,
///   Kasiviswanathan 2019. Pure epsilon-DP steps (exponential mechanism): the tight
///   randomized-response bound, after amplification by subsampling when sampled.
/// - All sums in log space; an order whose value cannot be computed is dropped (infinite RDP),
///   never silently turned into NaN.
/// - A top-level ``PrivacyEvent/parallel(_:)`` costs the maximum of its branches at the given
///   delta; nested `.parallel` is composed sequentially (conservative).
/// - Refuses compositions that mix Poisson sampling (add/remove adjacency) with sampling without
///   replacement (replace-one adjacency): no single adjacency makes both guarantees meaningful.
public struct RDPAccountant: PrivacyAccountant {
    /// dp_accounting 0.6.0's `DEFAULT_RDP_ORDERS`: 1.1, 1.2, ..., 10.9, then 11...63, 128, 256, 512, 1024.
    public static let defaultOrders: [Double] = {
        let fractional: [Double] = (1..<100).map { x in 1 + Double(x) / 10 }
        let integer: [Double] = (11..<64).map { x in Double(x) }
        return fractional + integer + [128, 256, 512, 1024]
    }()

    public let orders: [Double]
    public var name: String { "rdp" }

    public init(orders: [Double] = RDPAccountant.defaultOrders) {
        self.orders = orders
    }

    public func supports(_ event: PrivacyEvent) -> Bool {
        if case .parallel(let branches) = event { return branches.allSatisfy(supports) }
        return (try? rdp(for: event)) != nil
    }

    public func epsilon(for event: PrivacyEvent, delta: Double) throws -> Double {
        try FlatComposition.validate(delta: delta)
        if case .parallel(let branches) = event {
            return try Set(branches).map { try epsilon(for: $0, delta: delta) }.max() ?? 0
        }
        let curve = try rdp(for: event)
        if curve.allSatisfy({ $0 == 0 }) { return 0 }
        return try RDPConversion.epsilon(orders: orders, rdp: curve, delta: delta).epsilon
    }

    /// The delta at which `event` is (epsilon, delta)-DP.
    public func delta(for event: PrivacyEvent, epsilon: Double) throws -> Double {
        if case .parallel(let branches) = event {
            return try Set(branches).map { try delta(for: $0, epsilon: epsilon) }.max() ?? 0
        }
        return try RDPConversion.delta(orders: orders, rdp: try rdp(for: event), epsilon: epsilon)
    }

    /// The RDP curve of `event` at ``orders`` (+infinity where unbounded).
    public func rdp(for event: PrivacyEvent) throws -> [Double] {
        let flat = try FlatComposition(event, accountant: name)
        var curve = [Double](repeating: 0, count: orders.count)
        if flat.nonPrivate { return curve.map { _ in .infinity } }
        var addRemove = false, replaceOne = false
        for (mechanism, _) in flat.mechanisms {
            switch mechanism {
            case .poissonGaussian, .poissonPure: addRemove = true
            case .withoutReplacementGaussian, .withoutReplacementPure: replaceOne = true
            case .pure: break
            }
        }
        if addRemove && replaceOne {
            throw AccountingError.unsupportedEvent(accountant: name,
                reason: "it mixes Poisson sampling (add/remove adjacency) with sampling without replacement (replace-one adjacency)")
        }
        if let sigma = flat.effectiveGaussianSigma {
            for (i, a) in orders.enumerated() { curve[i] += a / (2 * sigma * sigma) }
        }
        for (mechanism, count) in flat.mechanisms {
            let c = Double(count)
            for (i, a) in orders.enumerated() {
                let value: Double
                switch mechanism {
                case .poissonGaussian(let q, let sigma):
                    value = RDPGaussian.poisson(q: q, sigma: sigma, order: a)
                case .withoutReplacementGaussian(let n, let m, let sigma):
                    value = RDPGaussian.withoutReplacement(q: Double(m) / Double(n), sigma: sigma, order: a)
                case .pure(let epsilon):
                    value = RDPPure.rdp(epsilon: epsilon, order: a)
                case .poissonPure(let q, let epsilon):
                    value = RDPPure.rdp(epsilon: RDPPure.amplified(epsilon: epsilon, q: q), order: a)
                case .withoutReplacementPure(let n, let m, let epsilon):
                    value = RDPPure.rdp(epsilon: RDPPure.amplified(epsilon: epsilon, q: Double(m) / Double(n)), order: a)
                }
                curve[i] += value.isNaN ? .infinity : c * value
            }
        }
        return curve
    }
}
