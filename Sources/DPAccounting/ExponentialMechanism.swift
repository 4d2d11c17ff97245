/// The exponential-mechanism variant of noisy argmax (report-noisy-max with Gumbel noise) as a
/// pure-DP step, so it can be recorded as ``PrivacyEvent/pureDP(epsilon:)`` and calibrated like
/// the Gaussian.
///
/// Convention: each candidate's score has sensitivity Delta (a record changes every score by at
/// most Delta, in either direction) and Gumbel noise of scale b = sigma * Delta is added; the
/// argmax is then (2 / sigma)-DP (McSherry and Talwar 2007; Gumbel-max = exponential mechanism).
public enum ExponentialMechanism {
    /// Pure epsilon of one noisy argmax with noise multiplier `sigma` (Gumbel scale / sensitivity).
    public static func epsilon(noiseMultiplier sigma: Double) -> Double {
        2 / sigma
    }

    /// The noise multiplier whose single step is `epsilon`-DP.
    public static func noiseMultiplier(epsilon: Double) -> Double {
        2 / epsilon
    }

    /// One step as an event.
    public static func event(noiseMultiplier sigma: Double) -> PrivacyEvent {
        .pureDP(epsilon: epsilon(noiseMultiplier: sigma))
    }
}
