/// The accountant fewshot uses unless told otherwise: ``PLDAccountant`` (tight) for every event it
/// supports, otherwise ``RDPAccountant`` (general). ``name`` says which one answered, and
/// ``accountant(for:)`` returns it, so the choice can be recorded next to each claim.
public struct DefaultAccountant: PrivacyAccountant {
    public let pld: PLDAccountant
    public let rdp: RDPAccountant

    public init(pld: PLDAccountant = PLDAccountant(), rdp: RDPAccountant = RDPAccountant()) {
        self.pld = pld
        self.rdp = rdp
    }

    /// "pld-or-rdp"; use ``accountant(for:)`` to learn which one a given event gets.
    public var name: String { "pld-or-rdp" }

    /// The accountant that will answer for `event`.
    public func accountant(for event: PrivacyEvent) -> any PrivacyAccountant {
        pld.supports(event) ? pld : rdp
    }

    public func supports(_ event: PrivacyEvent) -> Bool {
        pld.supports(event) || rdp.supports(event)
    }

    public func epsilon(for event: PrivacyEvent, delta: Double) throws -> Double {
        try accountant(for: event).epsilon(for: event, delta: delta)
    }
}
