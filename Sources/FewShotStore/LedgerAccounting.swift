import DPAccounting
import FewShotCore

/// The privacy events charged to one label part of a data set, and how they compose: `count`
/// sequential runs of `event` (one whole demonstration's planned event, or for slots recorded before
/// per-demonstration events a token event times the tokens charged).
///
/// Demonstrations of different labels read disjoint private examples (parallel composition), so
/// each label is accounted separately and the data set costs the most expensive label. Events
/// without a label read every part and are composed into every label.
package struct LedgerCharge: Sendable, Hashable {
    package var label: String?
    package var event: PrivacyEvent
    package var count: Int
    /// The generation and example group of a demonstration of a pool (`gen --groups`): one
    /// generation's groups read disjoint examples and compose in parallel. nil for anything else.
    package var generation: String? = nil
    package var group: Int? = nil

    package init(label: String?, event: PrivacyEvent, count: Int, generation: String? = nil, group: Int? = nil) {
        self.label = label
        self.event = event
        self.count = count
        self.generation = generation
        self.group = group
    }

    /// What a data set's label-count release at `noiseMultiplier` charges: its event once, to every
    /// label (the counts read every example). Both stores charge a new release, and read a stored one
    /// back, with it.
    package static func labelCountRelease(noiseMultiplier: Double) -> LedgerCharge {
        LedgerCharge(label: nil, event: LabelCountRelease.event(noiseMultiplier: noiseMultiplier), count: 1)
    }

    /// What reserving `plan` as generation `id` charges: each demonstration its planned event; a
    /// pool's groups compose in parallel from the start, as ``FewShotStore/charges(_:dataset:)`` reads
    /// them back. Both stores reserve with it.
    package static func planned(_ plan: GenerationPlan, generation id: String) -> [LedgerCharge] {
        plan.demonstrations.map {
            LedgerCharge(label: $0.label, event: $0.plannedEvent, count: 1, generation: $0.group == nil ? nil : id, group: $0.group)
        }
    }
}

enum LedgerAccounting {
    /// Epsilon at `delta` per label part; `labels` are the data set's known labels.
    /// `known` caches epsilons of events already computed at this delta (accounting can take seconds).
    static func epsilonPerLabel(
        _ charges: [LedgerCharge], labels: Set<String>, accountant: any PrivacyAccountant, delta: Double,
        known: inout [PrivacyEvent: Double]
    ) throws -> [(label: String?, epsilon: Double)] {
        let allLabels = labels.union(charges.compactMap(\.label))
        if allLabels.isEmpty {
            return [(nil, try epsilon(of: charges, accountant: accountant, delta: delta, known: &known))]
        }
        return try allLabels.sorted().map { label in
            let part = charges.filter { $0.label == nil || $0.label == label }
            return (label, try epsilon(of: part, accountant: accountant, delta: delta, known: &known))
        }
    }

    static func epsilonPerLabel(
        _ charges: [LedgerCharge], labels: Set<String>, accountant: any PrivacyAccountant, delta: Double
    ) throws -> [(label: String?, epsilon: Double)] {
        var known: [PrivacyEvent: Double] = [:]
        return try epsilonPerLabel(charges, labels: labels, accountant: accountant, delta: delta, known: &known)
    }

    /// The data set's epsilon: the largest over its label parts (0 when nothing was charged).
    static func datasetEpsilon(
        _ charges: [LedgerCharge], labels: Set<String>, accountant: any PrivacyAccountant, delta: Double,
        known: inout [PrivacyEvent: Double]
    ) throws -> Double {
        try epsilonPerLabel(charges, labels: labels, accountant: accountant, delta: delta, known: &known).map(\.epsilon).max() ?? 0
    }

    /// The composition of `charges`: a pool generation's groups in parallel (one example is in one
    /// group only), everything else sequentially.
    static func event(of charges: [LedgerCharge]) -> PrivacyEvent? {
        var units: [LedgerCharge] = []
        var pools: [String: [Int: [LedgerCharge]]] = [:]
        var poolOrder: [String] = []
        for charge in charges where charge.count > 0 {
            guard let generation = charge.generation, let group = charge.group else {
                units.append(charge)
                continue
            }
            if pools[generation] == nil { poolOrder.append(generation) }
            pools[generation, default: [:]][group, default: []].append(charge)
        }
        for generation in poolOrder {
            let branches = pools[generation]!.sorted { $0.key < $1.key }.compactMap { sequential($0.value) }
            // Groups with the same cost (the usual case: one plan for every group) cost one group.
            let distinct = branches.reduce(into: [PrivacyEvent]()) { if !$0.contains($1) { $0.append($1) } }
            guard let first = distinct.first else { continue }
            units.append(LedgerCharge(label: nil, event: distinct.count == 1 ? first : .parallel(distinct), count: 1))
        }
        return sequential(units)
    }

    /// Sequential composition of `charges`, with identical events merged into one
    /// self-composition (the same event, so the accountant can compose it faster and more tightly).
    static func sequential(_ charges: [LedgerCharge]) -> PrivacyEvent? {
        var order: [PrivacyEvent] = []
        var counts: [PrivacyEvent: Int] = [:]
        for charge in charges where charge.count > 0 {
            if counts[charge.event] == nil { order.append(charge.event) }
            counts[charge.event, default: 0] += charge.count
        }
        let parts = order.map { PrivacyEvent.selfComposed(event: $0, count: counts[$0]!) }
        switch parts.count {
        case 0: return nil
        case 1: return parts[0]
        default: return .composed(parts)
        }
    }

    static func epsilon(
        of charges: [LedgerCharge], accountant: any PrivacyAccountant, delta: Double, known: inout [PrivacyEvent: Double]
    ) throws -> Double {
        guard let event = event(of: charges) else { return 0 }
        if let cached = known[event] { return cached }
        guard accountant.supports(event) else {
            throw StoreError.unsupportedEvent(accountant: accountant.name, event: "\(event)")
        }
        let value = try accountant.epsilon(for: event, delta: delta)
        known[event] = value
        return value
    }
}
