/// Something that turns recorded ``PrivacyEvent``s into an (epsilon, delta) guarantee.
///
/// Implementations must be sound: the epsilon they return for `delta` is one the events
/// actually guarantee (they may be pessimistic, never optimistic).
public protocol PrivacyAccountant: Sendable {
    /// A short name recorded with every claim ("pld", "rdp").
    var name: String { get }
    /// Whether this accountant can account for `event` exactly as described.
    func supports(_ event: PrivacyEvent) -> Bool
    /// The smallest epsilon such that `event` is (epsilon, delta)-DP, as far as this accountant can tell.
    /// Returns `.infinity` for ``PrivacyEvent/nonPrivate``. Throws ``AccountingError`` on invalid arguments.
    func epsilon(for event: PrivacyEvent, delta: Double) throws -> Double
    /// ``epsilon(for:delta:)`` with the ``name`` of the accountant that computed it (for one that
    /// delegates, such as ``DefaultAccountant``, the one it delegated to), so a claim names its source.
    func answer(for event: PrivacyEvent, delta: Double) throws -> (epsilon: Double, accountant: String)
}

extension PrivacyAccountant {
    public func answer(for event: PrivacyEvent, delta: Double) throws -> (epsilon: Double, accountant: String) {
        (try epsilon(for: event, delta: delta), name)
    }
}
