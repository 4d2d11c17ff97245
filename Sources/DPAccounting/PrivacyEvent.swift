/// A privacy mechanism described as data, after Google's `dp_accounting.DpEvent`.
///
/// Generation code never computes epsilon: it records the events it ran, and an accountant
/// (``PLDAccountant``, ``RDPAccountant``) says what they cost. Adjacency is add/remove-one unless
/// an event says otherwise (``sampledWithoutReplacement`` is replace-one, as in Wang, Balle and
/// Kasiviswanathan 2019).
public indirect enum PrivacyEvent: Sendable, Hashable, Codable {
    /// Releases nothing that depends on the private data.
    case noOp
    /// Releases private data with no noise (sigma = 0): epsilon is infinite.
    case nonPrivate
    /// Gaussian mechanism with noise multiplier `sigma` = noise standard deviation / L2 sensitivity.
    case gaussian(noiseMultiplier: Double)
    /// A mechanism that is `epsilon`-DP (pure), such as the exponential mechanism / report-noisy-max
    /// with Gumbel noise.
    case pureDP(epsilon: Double)
    /// `event` run on a Poisson sample: each record independently with probability `samplingRate`.
    case poissonSampled(samplingRate: Double, event: PrivacyEvent)
    /// `event` run on a uniformly random subset of exactly `sampleSize` of `sourceSize` records.
    case sampledWithoutReplacement(sourceSize: Int, sampleSize: Int, event: PrivacyEvent)
    /// `event` run `count` times in sequence (adaptive composition).
    case selfComposed(event: PrivacyEvent, count: Int)
    /// The events run in sequence on the same data (adaptive composition).
    case composed([PrivacyEvent])
    /// The events each run on disjoint parts of the data (parallel composition): one record
    /// affects at most one of them, so the cost is that of the most expensive one.
    case parallel([PrivacyEvent])
}
