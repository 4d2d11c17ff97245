/// One column of the paper's Table 3: where the demonstrations of a classification prompt come from.
///
/// Guarantees a stable ``id`` (used for cache file names, CSV and JSON) and ordering: zero-shot,
/// epsilon = 0, the DP epsilons ascending, epsilon = infinity, then real examples.
public enum EvalCondition: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// No demonstrations.
    case zeroShot
    /// Epsilon = 0: one demonstration per label generated greedily from the public prompt only.
    case publicOnly
    /// DP demonstrations at this epsilon (the generator, calibrated by the accountant).
    case privateGenerated(epsilon: Double)
    /// Epsilon = infinity: the generator with sigma = 0 (argmax of the private aggregate). Not private.
    case nonPrivateGenerated
    /// One real training example per label, sampled with the seed. Not private.
    case realExamples
    /// A DP pool at this epsilon (`gen --groups`: disjoint groups, the cost of one set); each test
    /// example gets the pool's demonstrations most similar to it (BM25, one per label).
    case poolSelected(epsilon: Double)
    /// The same pool, one demonstration per label drawn at random with the seed, fixed for the cell.
    case poolRandom(epsilon: Double)

    /// The paper's columns for a list of epsilons.
    public static func standard(epsilons: [Double] = [1, 2, 4, 8]) -> [EvalCondition] {
        [.zeroShot, .publicOnly] + epsilons.sorted().map { .privateGenerated(epsilon: $0) } + [.nonPrivateGenerated, .realExamples]
    }

    /// File-name and CSV-safe identifier: `zero-shot`, `eps-0`, `eps-4`, `eps-0.5`, `eps-inf`, `real-shots`.
    public var id: String { names.id }

    /// Column title in the markdown table.
    public var title: String { names.title }

    /// The ``id`` and ``title`` side by side, so that a condition is named in one place.
    private var names: (id: String, title: String) {
        switch self {
        case .zeroShot: ("zero-shot", "0-shot")
        case .publicOnly: ("eps-0", "ε=0")
        case .privateGenerated(let epsilon): ("eps-\(Self.format(epsilon))", "ε=\(Self.format(epsilon))")
        case .nonPrivateGenerated: ("eps-inf", "ε=∞")
        case .realExamples: ("real-shots", "real (non-private)")
        case .poolSelected(let epsilon): ("pool-knn-\(Self.format(epsilon))", "pool ε=\(Self.format(epsilon)), selected")
        case .poolRandom(let epsilon): ("pool-random-\(Self.format(epsilon))", "pool ε=\(Self.format(epsilon)), random")
        }
    }

    public var description: String { id }

    /// The epsilon the condition spends, where it has one (0, a DP epsilon, or infinity).
    public var epsilon: Double? {
        switch self {
        case .zeroShot, .realExamples: return nil
        case .publicOnly: return 0
        case .privateGenerated(let epsilon), .poolSelected(let epsilon), .poolRandom(let epsilon): return epsilon
        case .nonPrivateGenerated: return .infinity
        }
    }

    /// Parses an ``id`` (and `0`, `inf`, or a number for the epsilon conditions).
    public init?(id: String) {
        switch id {
        case "zero-shot", "0-shot": self = .zeroShot
        case "eps-0", "0": self = .publicOnly
        case "eps-inf", "inf": self = .nonPrivateGenerated
        case "real-shots", "real": self = .realExamples
        default:
            for (prefix, make) in [("pool-knn-", EvalCondition.poolSelected), ("pool-random-", EvalCondition.poolRandom)] where id.hasPrefix(prefix) {
                guard let epsilon = Double(id.dropFirst(prefix.count)), epsilon > 0, epsilon.isFinite else { return nil }
                self = make(epsilon)
                return
            }
            let number = id.hasPrefix("eps-") ? String(id.dropFirst(4)) : id
            guard let epsilon = Double(number), epsilon > 0, epsilon.isFinite else { return nil }
            self = .privateGenerated(epsilon: epsilon)
        }
    }

    private var rank: (Int, Double, Int) {
        switch self {
        case .zeroShot: return (0, 0, 0)
        case .publicOnly: return (1, 0, 0)
        case .privateGenerated(let epsilon): return (2, epsilon, 0)
        case .poolRandom(let epsilon): return (2, epsilon, 1)
        case .poolSelected(let epsilon): return (2, epsilon, 2)
        case .nonPrivateGenerated: return (3, 0, 0)
        case .realExamples: return (4, 0, 0)
        }
    }

    public static func < (lhs: EvalCondition, rhs: EvalCondition) -> Bool { lhs.rank < rhs.rank }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
