import Foundation

/// A privacy loss distribution on the grid `interval * k` (k integer), plus a mass at +infinity,
/// as dp_accounting's `DensePLDPmf`.
///
/// Guarantee: every operation here is pessimistic. Constructions round losses so that the
/// hockey-stick divergence of the discrete distribution upper-bounds the true one; truncating a
/// tail moves low-loss mass up to the lowest kept loss and high-loss mass to +infinity.
struct DiscretePrivacyLoss: Sendable {
    let interval: Double
    /// The loss of `probabilities[0]` is `lowerIndex * interval`.
    var lowerIndex: Int
    var probabilities: [Double]
    var infinityMass: Double

    /// The loss distribution of a mechanism that reveals nothing: all mass at loss 0.
    static func identity(interval: Double) -> DiscretePrivacyLoss {
        DiscretePrivacyLoss(interval: interval, lowerIndex: 0, probabilities: [1], infinityMass: 0)
    }

    /// Removes at most `tailMass / 2` from each end: the low end is added to the first kept
    /// point (a higher loss), the high end goes to infinity (dp_accounting's `_truncate_tails`).
    func truncatingTails(_ tailMass: Double) -> DiscretePrivacyLoss {
        if tailMass == 0 || probabilities.isEmpty { return self }
        // Plain loops on a buffer pointer: this runs after every composition, also in debug builds.
        let (left, right, leftMass, rightMass) = probabilities.withUnsafeBufferPointer { p in
            var left = p.count, sum = 0.0
            for i in 0..<p.count {
                sum += p[i]
                if sum > tailMass / 2 { left = i; break }
            }
            var rightCut = p.count
            sum = 0
            var i = p.count - 1
            while i >= 0 {
                sum += p[i]
                if sum > tailMass / 2 { rightCut = p.count - 1 - i; break }
                i -= 1
            }
            let right = max(p.count - rightCut, left + 1)
            var leftMass = 0.0, rightMass = 0.0
            for i in 0..<min(left, p.count) { leftMass += p[i] }
            if right < p.count { for i in right..<p.count { rightMass += p[i] } }
            return (left, right, leftMass, rightMass)
        }
        let p = probabilities
        var kept = Array(p[min(left, p.count - 1)..<min(right, p.count)])
        if kept.isEmpty { kept = [0] }
        kept[0] += leftMass
        return DiscretePrivacyLoss(interval: interval, lowerIndex: lowerIndex + left, probabilities: kept,
                                   infinityMass: infinityMass + rightMass)
    }

    /// The largest FFT (grid points) a composition may use: beyond it memory (about 32 bytes per
    /// point) and time grow past what an interactive accountant should spend.
    static let maximumGridPoints = 1 << 23

    /// Throws when a distribution needs more than ``maximumGridPoints`` points. `points` is a
    /// Double so that a width computed from clamped or overflowing bounds is still judged (NaN too).
    static func requireGridPoints(_ points: Double) throws {
        guard points <= Double(maximumGridPoints) else {
            throw AccountingError.unsupportedEvent(accountant: "pld", reason:
                "its privacy loss distribution needs \(points < 9e18 ? Int(points) : .max) grid points (limit \(maximumGridPoints)); "
                + "use the RDP accountant or a coarser valueDiscretizationInterval")
        }
    }

    /// The loss distribution of running both mechanisms (independent privacy losses add).
    func composed(with other: DiscretePrivacyLoss, tailMass: Double) throws -> DiscretePrivacyLoss {
        precondition(interval == other.interval)
        let points = probabilities.count + other.probabilities.count - 1
        try Self.requireGridPoints(Double(points))
        let probs: [Double]
        if probabilities.count == 1 {
            probs = Self.scaled(other.probabilities, by: probabilities[0])
        } else if other.probabilities.count == 1 {
            probs = Self.scaled(probabilities, by: other.probabilities[0])
        } else {
            probs = RealConvolution.convolve(probabilities, other.probabilities)
        }
        let inf = infinityMass + other.infinityMass - infinityMass * other.infinityMass
        return DiscretePrivacyLoss(interval: interval, lowerIndex: lowerIndex + other.lowerIndex,
                                   probabilities: probs, infinityMass: inf).truncatingTails(tailMass)
    }

    /// Each of `values` times `factor`.
    private static func scaled(_ values: [Double], by factor: Double) -> [Double] {
        var out = values
        out.withUnsafeMutableBufferPointer { v in
            for i in 0..<v.count { v[i] *= factor }
        }
        return out
    }

    /// Index range [lower, upper] (relative to `count * lowerIndex`) outside which the `count`-fold
    /// self-composition has at most `tailMass` probability, by Chernoff bounds on the 40 orders of
    /// dp_accounting's `compute_self_convolve_bounds`. For speed the moment generating function is
    /// evaluated with each block of 16 points' mass moved to the block's end that makes it larger
    /// (the last point for positive orders, the first for negative ones), so the bounds stay valid,
    /// at most 16 * count points wider than dp_accounting's.
    func selfCompositionBounds(count: Int, tailMass: Double) -> (lower: Int, upper: Int) {
        let n = probabilities.count
        let (full, overflow) = (n - 1).multipliedReportingOverflow(by: count)
        var upper = overflow ? Int.max : full, lower = 0
        if tailMass == 0 { return (lower, upper) }
        let blockSize = 16
        let blocks = (n + blockSize - 1) / blockSize
        var mass = [Double](repeating: 0, count: blocks)
        probabilities.withUnsafeBufferPointer { p in
            mass.withUnsafeMutableBufferPointer { m in
                for i in 0..<p.count { m[i / blockSize] += p[i] }
            }
        }
        let orders = (Array(-20...(-1)) + Array(1...20)).map { Double($0) / Double(n) }
        mass.withUnsafeBufferPointer { m in
            for order in orders {
                // sum_b m_b exp(index_b * order); |index * order| <= 20, so no overflow.
                let offset = order > 0 ? Double(blockSize - 1) : 0
                let r = exp(Double(blockSize) * order)
                var sum = 0.0
                var b = 0
                while b < blocks {
                    let end = min(b + 256, blocks)
                    var w = exp((Double(b * blockSize) + offset) * order)
                    for k in b..<end {
                        sum += m[k] * w
                        w *= r
                    }
                    b = end
                }
                let bound = (Double(count) * log(sum) + log(2 / tailMass)) / order
                if !bound.isFinite { continue }
                // Clamped: for an enormous count the bound may lie beyond Int.
                if order > 0 { upper = min(upper, Int(min(max(bound.rounded(.up), -0x1p62), 0x1p62))) }
                if order < 0 { lower = max(lower, Int(min(max(bound.rounded(.down), -0x1p62), 0x1p62))) }
            }
        }
        return (lower, max(upper, lower))
    }

    /// Self-composes `a` and `b` `count` times each, sharing one FFT (dp_accounting's
    /// `DensePLDPmf.self_compose`, tail truncation `tailMass`, truncated mass sent to infinity).
    static func selfComposed(_ a: DiscretePrivacyLoss, _ b: DiscretePrivacyLoss?, count: Int,
                             tailMass: Double) throws -> (DiscretePrivacyLoss, DiscretePrivacyLoss?) {
        let (boundsA, boundsB) = BothDirections.run(
            { a.selfCompositionBounds(count: count, tailMass: tailMass) },
            { b?.selfCompositionBounds(count: count, tailMass: tailMass) })
        // Widths in floating point: an untrimmed bound may be Int.max.
        var width = max(Double(boundsA.upper) - Double(boundsA.lower) + 1, Double(a.probabilities.count))
        if let b, let boundsB {
            width = max(width, Double(boundsB.upper) - Double(boundsB.lower) + 1, Double(b.probabilities.count))
        }
        try requireGridPoints(width)
        // The composed distribution's first grid index, lowerIndex * count, must be an Int too.
        for source in [a, b].compactMap({ $0 }) where source.lowerIndex.multipliedReportingOverflow(by: count).overflow {
            throw AccountingError.unsupportedEvent(accountant: "pld", reason:
                "\(count) compositions move its privacy loss beyond the grid's indices; use the RDP accountant")
        }
        let needed = Int(width)
        let size = FFT.size(atLeast: needed)
        let (ra, rb) = RealConvolution.selfConvolve(a.probabilities, b?.probabilities ?? [], exponent: count, size: size)
        func extract(_ source: DiscretePrivacyLoss, _ bounds: (lower: Int, upper: Int), _ circular: [Double]) -> DiscretePrivacyLoss {
            let length = bounds.upper - bounds.lower + 1
            var out = [Double](repeating: 0, count: length)
            circular.withUnsafeBufferPointer { c in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<length { o[i] = c[((bounds.lower + i) % size + size) % size] }
                }
            }
            let inf = tailMass - expm1(Double(count) * log1p(-source.infinityMass))
            return DiscretePrivacyLoss(interval: source.interval, lowerIndex: source.lowerIndex * count + bounds.lower,
                                       probabilities: out, infinityMass: inf)
        }
        let outA = extract(a, boundsA, ra)
        var outB: DiscretePrivacyLoss? = nil
        if let b, let boundsB { outB = extract(b, boundsB, rb) }
        return (outA, outB)
    }

    /// The smallest epsilon >= 0 whose hockey-stick divergence is at most `delta`
    /// (dp_accounting's `_get_epsilon_for_delta`); infinity if the infinity mass exceeds `delta`.
    func epsilon(forDelta delta: Double) -> Double {
        if infinityMass > delta { return .infinity }
        var massUpper = infinityMass, massLower = 0.0
        let top = lowerIndex + probabilities.count - 1
        var result: Double? = nil
        probabilities.withUnsafeBufferPointer { p in
            var i = p.count - 1
            while i >= 0 {
                let loss = Double(top - (p.count - 1 - i)) * interval
                let prob = p[i]
                if massUpper > delta && massLower > 0 && log((massUpper - delta) / massLower) >= loss { break }
                massUpper += prob
                massLower += exp(-loss) * prob
                if massUpper >= delta && massLower == 0 {
                    result = max(0, loss)
                    return
                }
                i -= 1
            }
        }
        if let result { return result }
        if massUpper <= massLower + delta { return 0 }
        return log((massUpper - delta) / massLower)
    }

    /// The hockey-stick divergence at `epsilon`: the delta for which the mechanism is (epsilon, delta)-DP.
    func delta(forEpsilon epsilon: Double) -> Double {
        var total = infinityMass
        probabilities.withUnsafeBufferPointer { p in
            for i in 0..<p.count {
                let loss = Double(lowerIndex + i) * interval
                if loss > epsilon { total += -expm1(epsilon - loss) * p[i] }
            }
        }
        return total
    }
}

/// The privacy loss distributions of a mechanism for both directions of add/remove adjacency:
/// `remove` (the upper distribution is on the larger data set) and `add`. A symmetric mechanism
/// keeps only `remove`. Guarantees are the worse of the two directions, as in dp_accounting.
struct PrivacyLossPair: Sendable {
    var remove: DiscretePrivacyLoss
    /// nil when the mechanism is symmetric (then `add` equals `remove`).
    var add: DiscretePrivacyLoss?

    static let defaultTailMass = 1e-15

    func composed(with other: PrivacyLossPair, tailMass: Double = defaultTailMass) throws -> PrivacyLossPair {
        let r = try remove.composed(with: other.remove, tailMass: tailMass)
        if add == nil && other.add == nil { return PrivacyLossPair(remove: r, add: nil) }
        let a = try (add ?? remove).composed(with: other.add ?? other.remove, tailMass: tailMass)
        return PrivacyLossPair(remove: r, add: a)
    }

    func selfComposed(_ count: Int, tailMass: Double = defaultTailMass) throws -> PrivacyLossPair {
        let (r, a) = try DiscretePrivacyLoss.selfComposed(remove, add, count: count, tailMass: tailMass)
        return PrivacyLossPair(remove: r, add: a)
    }

    func epsilon(forDelta delta: Double) -> Double {
        let e = remove.epsilon(forDelta: delta)
        guard let add else { return e }
        return max(e, add.epsilon(forDelta: delta))
    }

    func delta(forEpsilon epsilon: Double) -> Double {
        let d = remove.delta(forEpsilon: epsilon)
        guard let add else { return d }
        return max(d, add.delta(forEpsilon: epsilon))
    }
}
