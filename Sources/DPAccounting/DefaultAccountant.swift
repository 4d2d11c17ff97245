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

    /// PLD's answer, or RDP's when PLD cannot compute this event: besides the events it does not
    /// support at all, a composition whose discretised loss outgrows PLD's grid limit (a tiny
    /// sigma/sqrt(T) at q near 1 next to another mechanism) is only found out while composing.
    /// RDP's epsilon is never smaller than PLD's, so the fallback only costs tightness.
    public func epsilon(for event: PrivacyEvent, delta: Double) throws -> Double {
        try answer(for: event, delta: delta).epsilon
    }

    /// The epsilon of ``epsilon(for:delta:)`` and which of PLD and RDP computed it: ``accountant(for:)``
    /// cannot tell before computing, as PLD may find its grid too small only while composing.
    public func answer(for event: PrivacyEvent, delta: Double) throws -> (epsilon: Double, accountant: String) {
        guard pld.supports(event), rdp.supports(event) else {
            let chosen = accountant(for: event)
            return (try chosen.epsilon(for: event, delta: delta), chosen.name)
        }
        do { return (try pld.epsilon(for: event, delta: delta), pld.name) } catch AccountingError.unsupportedEvent {
            return (try rdp.epsilon(for: event, delta: delta), rdp.name)
        }
    }
}
