/// A ``PrivacyEvent`` reduced to the list of basic mechanisms it runs and how often, with every
/// argument validated. Both accountants start from this.
///
/// `.parallel` nested anywhere is composed sequentially (conservative: without knowing which
/// branches touch disjoint data across the enclosing composition, sequential composition is the
/// only sound choice); only a top-level `.parallel` takes the maximum over its branches.
struct FlatComposition {
    /// A basic mechanism; `sigma` is a noise multiplier, `epsilon` a pure-DP guarantee.
    enum Mechanism: Hashable {
        case poissonGaussian(q: Double, sigma: Double)
        case withoutReplacementGaussian(sourceSize: Int, sampleSize: Int, sigma: Double)
        case pure(epsilon: Double)
        case poissonPure(q: Double, epsilon: Double)
        case withoutReplacementPure(sourceSize: Int, sampleSize: Int, epsilon: Double)
    }

    /// Some step releases data without noise.
    var nonPrivate = false
    /// sum over unsampled Gaussian steps of 1 / sigma^2 (they compose to one Gaussian).
    var gaussianPrecision = 0.0
    /// Mechanisms in first-seen order with their total counts.
    var mechanisms: [(Mechanism, Int)] = []

    var isEmpty: Bool { !nonPrivate && gaussianPrecision == 0 && mechanisms.isEmpty }
    /// The noise multiplier of the single Gaussian equivalent to all unsampled Gaussian steps.
    var effectiveGaussianSigma: Double? { gaussianPrecision > 0 ? 1 / gaussianPrecision.squareRoot() : nil }

    init(_ event: PrivacyEvent, accountant: String) throws {
        try add(event, count: 1, accountant: accountant)
        // A noise multiplier so small that 1/sigma^2 overflows (below about 1e-154, or a sum of many)
        // adds no noise that a Double can express: the release is not private. Without this the
        // effective sigma would be 0, and 0 turns the Gaussian formulas into NaN and epsilon into 0.
        if gaussianPrecision.isInfinite {
            nonPrivate = true
            gaussianPrecision = 0
        }
    }

    private mutating func record(_ mechanism: Mechanism, _ count: Int) throws {
        if let i = mechanisms.firstIndex(where: { $0.0 == mechanism }) {
            let (total, overflow) = mechanisms[i].1.addingReportingOverflow(count)
            guard !overflow else { throw AccountingError.invalidSteps(count) }
            mechanisms[i].1 = total
        } else {
            mechanisms.append((mechanism, count))
        }
    }

    private mutating func add(_ event: PrivacyEvent, count: Int, accountant: String) throws {
        switch event {
        case .noOp:
            return
        case .nonPrivate:
            nonPrivate = true
        case .gaussian(let sigma):
            try Self.validate(sigma: sigma)
            gaussianPrecision += Double(count) / (sigma * sigma)
        case .pureDP(let epsilon):
            try Self.validate(pureEpsilon: epsilon)
            if epsilon > 0 { try record(.pure(epsilon: epsilon), count) }
        case .selfComposed(let inner, let times):
            guard times >= 1 else { throw AccountingError.invalidSteps(times) }
            let (total, overflow) = count.multipliedReportingOverflow(by: times)
            guard !overflow else { throw AccountingError.invalidSteps(times) }
            try add(inner, count: total, accountant: accountant)
        case .composed(let events), .parallel(let events):
            for e in events { try add(e, count: count, accountant: accountant) }
        case .poissonSampled(let q, let inner):
            guard q > 0 && q <= 1 && q.isFinite else { throw AccountingError.invalidSamplingRate(q) }
            if q == 1 { return try add(inner, count: count, accountant: accountant) }
            switch try Self.sampledBase(inner, accountant: accountant) {
            case .nothing: return
            case .nonPrivate: nonPrivate = true
            case .gaussian(let sigma): try record(.poissonGaussian(q: q, sigma: sigma), count)
            case .pure(let epsilon): try record(.poissonPure(q: q, epsilon: epsilon), count)
            }
        case .sampledWithoutReplacement(let n, let m, let inner):
            guard n >= 1 && m >= 1 && m <= n else { throw AccountingError.invalidSampleSize(sourceSize: n, sampleSize: m) }
            switch try Self.sampledBase(inner, accountant: accountant) {
            case .nothing: return
            case .nonPrivate: nonPrivate = true
            case .gaussian(let sigma): try record(.withoutReplacementGaussian(sourceSize: n, sampleSize: m, sigma: sigma), count)
            case .pure(let epsilon): try record(.withoutReplacementPure(sourceSize: n, sampleSize: m, epsilon: epsilon), count)
            }
        }
    }

    private enum SampledBase { case nothing, nonPrivate, gaussian(Double), pure(Double) }

    /// What a sampled event runs on its sample: compositions of Gaussians (one effective Gaussian,
    /// as in dp_accounting) or compositions of pure-DP mechanisms (basic composition).
    private static func sampledBase(_ event: PrivacyEvent, accountant: String) throws -> SampledBase {
        var precision = 0.0, pure = 0.0, nonPrivate = false
        func walk(_ e: PrivacyEvent, _ count: Int) throws {
            switch e {
            case .noOp: return
            case .nonPrivate: nonPrivate = true
            case .gaussian(let sigma):
                try validate(sigma: sigma)
                precision += Double(count) / (sigma * sigma)
            case .pureDP(let epsilon):
                try validate(pureEpsilon: epsilon)
                pure += Double(count) * epsilon
            case .selfComposed(let inner, let times):
                guard times >= 1 else { throw AccountingError.invalidSteps(times) }
                let (total, overflow) = count.multipliedReportingOverflow(by: times)
                guard !overflow else { throw AccountingError.invalidSteps(times) }
                try walk(inner, total)
            case .composed(let events):
                for inner in events { try walk(inner, count) }
            case .parallel, .poissonSampled, .sampledWithoutReplacement:
                throw AccountingError.unsupportedEvent(accountant: accountant,
                    reason: "a sampled event must run Gaussian or pure-DP steps, not a nested sampled or parallel event")
            }
        }
        try walk(event, 1)
        // Overflowed: no noise a Double can express, or an unbounded pure-DP sum (see init).
        if nonPrivate || precision.isInfinite || pure.isInfinite { return .nonPrivate }
        if precision > 0 && pure > 0 {
            throw AccountingError.unsupportedEvent(accountant: accountant,
                reason: "a sampled event must run only Gaussian or only pure-DP steps, not both")
        }
        if precision > 0 { return .gaussian(1 / precision.squareRoot()) }
        if pure > 0 { return .pure(pure) }
        return .nothing
    }

    static func validate(sigma: Double) throws {
        guard sigma > 0 && sigma.isFinite else { throw AccountingError.invalidNoiseMultiplier(sigma) }
    }

    static func validate(pureEpsilon: Double) throws {
        guard pureEpsilon >= 0 && pureEpsilon.isFinite else { throw AccountingError.invalidEpsilon(pureEpsilon) }
    }

    static func validate(delta: Double) throws {
        guard delta > 0 && delta < 1 else { throw AccountingError.invalidDelta(delta) }
    }
}
