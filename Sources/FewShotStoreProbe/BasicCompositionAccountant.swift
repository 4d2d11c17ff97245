import DPAccounting

/// Accounts pure-DP events by basic composition (epsilons of sequential events add, parallel events
/// cost the largest), exactly and with no approximation. Supports only `.noOp`, `.pureDP` and their
/// compositions, which is all the probe plans.
struct BasicCompositionAccountant: PrivacyAccountant {
    var name: String { "basic-pure" }

    func supports(_ event: PrivacyEvent) -> Bool {
        switch event {
        case .noOp, .pureDP: return true
        case let .selfComposed(inner, count): return count >= 0 && supports(inner)
        case let .composed(events), let .parallel(events): return events.allSatisfy(supports)
        default: return false
        }
    }

    func epsilon(for event: PrivacyEvent, delta: Double) throws -> Double {
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
