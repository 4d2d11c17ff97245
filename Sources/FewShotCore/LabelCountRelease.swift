import DPAccounting

/// The label counts |D_y| that a generation's sampling rates q = M*N/|D_y|, automatic plan and
/// default delta are computed from: a differentially private estimate, released once per data set.
///
/// Why: the Poisson accounting holds under add/remove adjacency, under which |D_y| is private, and
/// q, M (capped at |D_y|/N) and delta = 1/|D_y| are published in every privacy record. Computing
/// them from the exact counts would publish |D_y| exactly. So each label's count gets Gaussian noise
/// of standard deviation ``noiseMultiplier`` (adding or removing one example changes one count by
/// one: L2 sensitivity 1), is rounded and clamped to at least 1, and everything published is
/// computed from these released counts (post-processing). The release is charged as
/// `Gaussian(noiseMultiplier)` to every label of the data set, once; the store keeps it, so later
/// generations reuse it at no cost, and a generation's own epsilon includes it (conservative when
/// it was paid earlier).
///
/// Guarantees: ``draw(exact:labels:noiseMultiplier:noise:)`` reads the exact counts only to add
/// noise to them; a ``preview(exact:labels:)`` (the exact counts, for a dry run before any release)
/// says so in ``isReleased`` and must not be published.
public struct LabelCountRelease: Sendable, Hashable, Codable {
    /// The released (noisy, rounded, at least 1) count of each label.
    public var counts: [String: Int]
    /// Standard deviation of the Gaussian noise on each count (sensitivity 1).
    public var noiseMultiplier: Double
    /// False for a preview built from the exact counts.
    public var isReleased: Bool

    /// sigma = 10: the release alone is epsilon 0.34 at delta = 1e-5, but composed with a generation
    /// at epsilon 4 it adds about 0.01 (AGNews plan, q = 200/30000, sigma 3.97, T = 100: 3.987 ->
    /// 3.997 with dp_accounting 0.6.0 PLD); a count of 1,000 is then known to within ~1%.
    public static let defaultNoiseMultiplier = 10.0

    public init(counts: [String: Int], noiseMultiplier: Double, isReleased: Bool) {
        self.counts = counts
        self.noiseMultiplier = noiseMultiplier
        self.isReleased = isReleased
    }

    /// The event charged for the release (one Gaussian query of sensitivity 1 on the count vector).
    public var event: PrivacyEvent { Self.event(noiseMultiplier: noiseMultiplier) }

    /// The event charged for a release at `noiseMultiplier`, before there is one to ask.
    public static func event(noiseMultiplier: Double) -> PrivacyEvent { .gaussian(noiseMultiplier: noiseMultiplier) }

    /// Draws the release: for each of `labels` (a label without examples counts 0 before noise),
    /// max(1, round(|D_y| + noiseMultiplier * Z)).
    public static func draw(
        exact: [String: Int], labels: [String], noiseMultiplier: Double = defaultNoiseMultiplier, noise: NoiseSource
    ) -> LabelCountRelease {
        var counts: [String: Int] = [:]
        for label in Set(labels).union(exact.keys).sorted() {
            let noisy = Double(exact[label] ?? 0) + noiseMultiplier * noise.standardNormal()
            counts[label] = max(1, Int(noisy.rounded()))
        }
        return LabelCountRelease(counts: counts, noiseMultiplier: noiseMultiplier, isReleased: true)
    }

    /// The exact counts in the shape of a release, for a plan shown before the counts are released
    /// (`fewshot gen --dry-run` on a new data set). Not private: never published.
    public static func preview(exact: [String: Int], labels: [String], noiseMultiplier: Double = defaultNoiseMultiplier) -> LabelCountRelease {
        var counts: [String: Int] = [:]
        for label in Set(labels).union(exact.keys) { counts[label] = max(1, exact[label] ?? 0) }
        return LabelCountRelease(counts: counts, noiseMultiplier: noiseMultiplier, isReleased: false)
    }
}
