import Foundation

/// A private data set as the store knows it: the SHA-256 fingerprint of its normalised content,
/// its public id, a display name, and how many examples each label has. Never any example text.
public struct DatasetRecord: Sendable, Hashable, Codable {
    /// Lowercase hexadecimal SHA-256 of the normalised content (computed by the caller). The ledger's
    /// internal key: never shown or published, since someone who knows all examples but one could
    /// test guesses of the last against it. Show ``publicID`` instead.
    public var fingerprint: String
    /// The id shown and published outside the store: HMAC-SHA256 of the fingerprint under the store's
    /// secret (64 lowercase hex digits), which reveals nothing about the content.
    public var publicID: String
    /// What the user calls it (a file name or path); shown in listings.
    public var name: String
    /// Number of private examples per label. Labels are public.
    public var labelCounts: [String: Int]
    public var registered: Date

    public init(fingerprint: String, publicID: String, name: String, labelCounts: [String: Int], registered: Date) {
        self.fingerprint = fingerprint
        self.publicID = publicID
        self.name = name
        self.labelCounts = labelCounts
        self.registered = registered
    }

    /// Total number of private examples.
    public var exampleCount: Int { labelCounts.values.reduce(0, +) }

    package static func validate(fingerprint: String) throws {
        let hex = Set("0123456789abcdef")
        guard fingerprint.count == 64, fingerprint.allSatisfy({ hex.contains($0) }) else {
            throw StoreError.invalidFingerprint(fingerprint)
        }
    }
}

/// The (epsilon, delta) a user allows to be spent on one data set, over everything ever released from it.
public struct PrivacyBudget: Sendable, Hashable, Codable {
    public var epsilon: Double
    public var delta: Double

    public init(epsilon: Double, delta: Double) {
        self.epsilon = epsilon
        self.delta = delta
    }

    package func validate() throws {
        guard epsilon.isFinite, epsilon >= 0 else { throw StoreError.invalidBudget("epsilon must be a finite number >= 0, got \(epsilon)") }
        guard delta.isFinite, delta > 0, delta < 1 else { throw StoreError.invalidBudget("delta must be in (0, 1), got \(delta)") }
    }
}

/// What a data set has spent, computed by an accountant from the recorded privacy events (never by
/// adding epsilons). Labels are disjoint parts of the data (parallel composition), so the data set's
/// epsilon is the largest of its labels'. All epsilons are at ``delta``.
public struct BudgetStatus: Sendable, Hashable {
    /// The data set (its exact label counts are for the local operator only: never publish them).
    public var dataset: DatasetRecord
    /// The data set's released DP label counts (``LabelCountRelease``), nil before its first generation:
    /// what an API may show.
    public var releasedLabelCounts: [String: Int]?
    /// The budget, if the user set one. Without one, generations are recorded but never refused.
    public var budget: PrivacyBudget?
    /// The delta every epsilon here is reported at: the budget's, else the caller's, else 1/(released count of examples), else 1e-5.
    public var delta: Double
    /// Cost of what has irrevocably been released (finished or interrupted demonstrations, completed generations).
    public var spentEpsilon: Double
    /// Cost of what is spent plus what running or resumable generations have reserved. Budget checks use this.
    public var committedEpsilon: Double
    /// `budget.epsilon - committedEpsilon`, never below zero; nil without a budget.
    public var remainingEpsilon: Double?
    /// The same numbers per label.
    public var labels: [LabelSpending]
    /// Generations that are running or failed-and-resumable: they hold a reservation.
    public var activeGenerations: Int
    /// The accountant that computed these numbers.
    public var accountant: String
}

/// Spending on one label's part of a data set (plus events that touch every label).
public struct LabelSpending: Sendable, Hashable {
    /// The label, or nil for a data set without labels.
    public var label: String?
    public var spentEpsilon: Double
    public var committedEpsilon: Double
}
