import DPAccounting

/// Exact basic composition of pure-DP events, for tests and the store's test probe: sequential
/// epsilons add, parallel events cost the largest. Supports only `.noOp`, `.pureDP` and their
/// compositions. With epsilons that are binary fractions the sums are exact, so budget edges are exact.
public struct BasicCompositionAccountant: PrivacyAccountant {
    public init() {}

    public var name: String { "basic-pure" }

    public func supports(_ event: PrivacyEvent) -> Bool {
        switch event {
        case .noOp, .pureDP: return true
        case let .selfComposed(inner, count): return count >= 0 && supports(inner)
        case let .composed(events), let .parallel(events): return events.allSatisfy(supports)
        default: return false
        }
    }

    public func epsilon(for event: PrivacyEvent, delta: Double) throws -> Double {
        switch event {
        case .noOp: return 0
        case let .pureDP(epsilon): return epsilon
        case let .selfComposed(inner, count): return Double(count) * (try epsilon(for: inner, delta: delta))
        case let .composed(events): return try events.reduce(0) { $0 + (try epsilon(for: $1, delta: delta)) }
        case let .parallel(events): return try events.map { try epsilon(for: $0, delta: delta) }.max() ?? 0
        default: throw AccountingError.unsupportedEvent(accountant: name, reason: "only pure-DP events compose by addition")
        }
    }
}
