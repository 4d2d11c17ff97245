import FewShotCore
import Foundation

/// What one generation is asked to do, as data: the options of `fewshot gen` and the JSON body of
/// the admin API's `POST /admin/jobs`. It holds a task name, a data file path and settings, never
/// private text, so it may be stored with a job and shown back.
///
/// JSON keys are snake_case: `task`, `data`, `epsilon` (a number, or "inf"), `delta`, `sigma`, `shots`,
/// `labels`, `seed`, and the generator's `batches`, `batch_size`, `max_tokens`, `mechanism`,
/// `vocabulary`, `top_k`, `sampling`, `subsample`, `accountant`. `task`, `data` and `epsilon` are required.
public struct GenerationSpec: Sendable, Hashable, Codable {
    /// A task name in the prompts directory, or a task file path.
    public var task: String
    /// The private data file (JSONL or CSV).
    public var data: String
    public var epsilon: TargetEpsilon
    /// Target delta; nil means 1/|D_y| of the smallest label used.
    public var delta: Double?
    /// A noise multiplier to use instead of calibrating one from `epsilon`.
    public var sigma: Double?
    /// Number of demonstrations; nil means one per label.
    public var shots: Int?
    /// Labels to generate for, in order; nil means the task's labels.
    public var labels: [String]?
    /// Seeds the noise: reproducible, and then not private.
    public var seed: UInt64?
    /// A pool: each label's examples split into this many disjoint groups, one set per group, at the
    /// privacy cost of one set (nil: one set).
    public var groups: GroupCount?
    public var generator: GeneratorOverrides

    public init(
        task: String, data: String, epsilon: TargetEpsilon, delta: Double? = nil, sigma: Double? = nil, shots: Int? = nil,
        labels: [String]? = nil, seed: UInt64? = nil, groups: GroupCount? = nil, generator: GeneratorOverrides = GeneratorOverrides()
    ) {
        self.groups = groups
        self.task = task
        self.data = data
        self.epsilon = epsilon
        self.delta = delta
        self.sigma = sigma
        self.shots = shots
        self.labels = labels
        self.seed = seed
        self.generator = generator
    }

    enum CodingKeys: String, CodingKey {
        case task, data, epsilon, delta, sigma, shots, labels, seed, groups
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        task = try c.decode(String.self, forKey: .task)
        data = try c.decode(String.self, forKey: .data)
        epsilon = try c.decode(TargetEpsilon.self, forKey: .epsilon)
        delta = try c.decodeIfPresent(Double.self, forKey: .delta)
        sigma = try c.decodeIfPresent(Double.self, forKey: .sigma)
        shots = try c.decodeIfPresent(Int.self, forKey: .shots)
        labels = try c.decodeIfPresent([String].self, forKey: .labels)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        groups = try c.decodeIfPresent(GroupCount.self, forKey: .groups)
        generator = try GeneratorOverrides(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task, forKey: .task)
        try c.encode(data, forKey: .data)
        try c.encode(epsilon, forKey: .epsilon)
        try c.encodeIfPresent(delta, forKey: .delta)
        try c.encodeIfPresent(sigma, forKey: .sigma)
        try c.encodeIfPresent(shots, forKey: .shots)
        try c.encodeIfPresent(labels, forKey: .labels)
        try c.encodeIfPresent(seed, forKey: .seed)
        try c.encodeIfPresent(groups, forKey: .groups)
        try generator.encode(to: encoder)
    }

    /// Checks the values that need no file: ranges of delta, sigma, shots and the generator's numbers.
    public func validate() throws {
        if let delta, !(delta > 0 && delta < 1) { throw GenerationSpecError(field: "delta", problem: "must be in (0, 1), got \(delta)") }
        if let sigma, !(sigma > 0 && sigma.isFinite) { throw GenerationSpecError(field: "sigma", problem: "must be positive, got \(sigma)") }
        if let shots, let problem = GenerationSetting.shots.problem(with: shots) { throw GenerationSpecError(field: "shots", problem: problem) }
        if let labels, labels.isEmpty { throw GenerationSpecError(field: "labels", problem: "empty; omit it to use the task's labels") }
        if case .count(let g) = groups, GenerationSetting.groups.problem(with: g) != nil {
            throw GenerationSpecError(field: "groups", problem: "must be from 1 to \(GenerationSetting.groups.maximum!), or max; got \(g)")
        }
        try generator.validate()
    }
}

/// How many disjoint example groups a pool generation uses: a number, or `max`, the most groups in
/// which every label still has M*N examples per group in expectation for the one-set plan. In JSON a
/// number or "max".
public enum GroupCount: Sendable, Hashable, Codable, CustomStringConvertible {
    case count(Int)
    case max

    public init(parsing text: String) throws {
        if text.lowercased() == "max" { self = .max; return }
        guard let value = Int(text), value >= 1 else {
            throw GenerationSpecError(field: "groups", problem: "must be a whole number of at least 1, or 'max'; got '\(text)'")
        }
        self = .count(value)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let value = try? c.decode(Int.self) { self = try GroupCount(parsing: String(value)) } else { self = try GroupCount(parsing: try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .count(let value): try c.encode(value)
        case .max: try c.encode("max")
        }
    }

    public var description: String {
        switch self {
        case .count(let value): String(value)
        case .max: "max"
        }
    }
}

/// The privacy a generation aims for: a finite epsilon, no noise at all (`inf`, not private), or the
/// public prompt only (0). In JSON a number, or the string "inf".
public enum TargetEpsilon: Sendable, Hashable, Codable, CustomStringConvertible {
    case epsilon(Double)
    case infinite
    case publicOnly

    /// Parses "4", "0.5", "inf"/"infinity" or "0".
    public init(parsing text: String) throws {
        switch text.lowercased() {
        case "inf", "infinity": self = .infinite
        default:
            guard let value = Double(text), value >= 0, value.isFinite else {
                throw GenerationSpecError(field: "epsilon", problem: "must be a non-negative number, 'inf', or 0; got '\(text)'")
            }
            self = value == 0 ? .publicOnly : .epsilon(value)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let value = try? c.decode(Double.self) {
            self = try TargetEpsilon(parsing: String(value))
        } else {
            self = try TargetEpsilon(parsing: try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .epsilon(let value): try c.encode(value)
        case .infinite: try c.encode("inf")
        case .publicOnly: try c.encode(0.0)
        }
    }

    public var description: String {
        switch self {
        case .epsilon(let value): String(value)
        case .infinite: "inf"
        case .publicOnly: "0"
        }
    }
}

/// A value of a ``GenerationSpec`` that cannot work, naming the field.
public struct GenerationSpecError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var problem: String
    /// The core's error behind `problem` (which is "`context`: `cause`"), so that a front end can
    /// name its settings its own way (``GenerationError/description(naming:)``).
    public var cause: GenerationError?
    public var context: String?

    public init(field: String, problem: String, cause: GenerationError? = nil, context: String? = nil) {
        self.field = field
        self.problem = problem
        self.cause = cause
        self.context = context
    }

    /// `problem` with the cause's settings named by `name`.
    public func problem(naming name: (GenerationSetting) -> String) -> String {
        guard let cause else { return problem }
        return (context.map { "\($0): " } ?? "") + cause.description(naming: name)
    }

    public var description: String { "\(field): \(problem)" }
}
