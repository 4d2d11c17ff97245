/// A task as the method sees it: how private examples are shown to the LLM when generating
/// demonstrations, and how demonstrations and a query are shown when answering.
///
/// A ``TaskKind/classification`` task's templates use `{label}` (the label's word) and `{text}`. An
/// ``TaskKind/extraction`` task has no labels; its templates use `{text}` (the sentence) and `{answer}`
/// (the span to extract), and all its examples form one group keyed ``extractionGroup``. Tasks live as
/// files in `prompts/`; `FewShotData.TaskFile` reads them. A task value is public: it never holds
/// private text.
public struct TaskTemplate: Sendable, Hashable, Codable {
    public var name: String
    /// Classification (labelled examples) or extraction (sentence and answer, no labels).
    public var kind: TaskKind
    /// The task's labels; empty for an extraction task.
    public var labels: [TaskLabel]
    /// How private examples appear when the generator asks for a demonstration's next token.
    public var generation: PromptFormat
    /// How demonstrations and a query appear when the model answers: `{text}`/`{label}` for a
    /// classification task; for an extraction task `{text}`/`{answer}` (the file's `extraction` section).
    public var classification: PromptFormat
    /// Strings that end a generated demonstration (besides newline and the model's end of text).
    public var endMarkers: [String]
    /// The paper's settings for this task, used when the user gives none.
    public var defaults: TaskDefaults

    public init(
        name: String, labels: [TaskLabel], generation: PromptFormat, classification: PromptFormat,
        endMarkers: [String] = [], defaults: TaskDefaults = TaskDefaults(), kind: TaskKind = .classification
    ) {
        self.name = name
        self.kind = kind
        self.labels = labels
        self.generation = generation
        self.classification = classification
        self.endMarkers = endMarkers
        self.defaults = defaults
    }

    public func label(named name: String) -> TaskLabel? { labels.first { $0.name == name } }

    /// The label name under which an extraction task's examples, shots (`GenerationSettings.labels`),
    /// noise multiplier and privacy events are keyed: all examples form this one group. The store
    /// records it as `label: nil`.
    public static let extractionGroup = ""

    enum CodingKeys: String, CodingKey {
        case name, kind, labels, generation, classification, endMarkers, defaults
    }

    /// Decodes `kind` as optional (default classification), so encodings made before extraction
    /// tasks existed still decode.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), labels: try c.decode([TaskLabel].self, forKey: .labels),
            generation: try c.decode(PromptFormat.self, forKey: .generation),
            classification: try c.decode(PromptFormat.self, forKey: .classification),
            endMarkers: try c.decode([String].self, forKey: .endMarkers), defaults: try c.decode(TaskDefaults.self, forKey: .defaults),
            kind: try c.decodeIfPresent(TaskKind.self, forKey: .kind) ?? .classification)
    }

    /// Writes `kind` only for extraction tasks, so a classification task encodes exactly as before
    /// (its encoding keys caches).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        if kind != .classification { try c.encode(kind, forKey: .kind) }
        try c.encode(labels, forKey: .labels)
        try c.encode(generation, forKey: .generation)
        try c.encode(classification, forKey: .classification)
        try c.encode(endMarkers, forKey: .endMarkers)
        try c.encode(defaults, forKey: .defaults)
    }
}

/// What a task's examples hold and what a demonstration releases.
public enum TaskKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A private text with a public label; a demonstration releases a text for a chosen label.
    case classification
    /// A private sentence with a private answer (a span of it, e.g. a movie's genre); a demonstration
    /// releases a sentence, then its answer, both token by token with DP.
    case extraction
}

/// A label: its name in the data (`name`) and the word(s) the prompts use for it (`word`).
public struct TaskLabel: Sendable, Hashable, Codable {
    public var name: String
    public var word: String

    public init(name: String, word: String) {
        self.name = name
        self.word = word
    }
}

/// How examples appear in a prompt: an instruction, then one `example` per demonstration. A task has
/// two, with the same shape and different roles:
/// - ``TaskTemplate/generation`` (generating demonstrations): `example` holds `{label}` and `{text}`
///   (classification) or `{text}` and then `{answer}` (extraction); the header for a new demonstration
///   is `example` up to `{text}`, with trailing spaces removed so the model chooses its own leading
///   space. For extraction the answer's header is the text between `{text}` and `{answer}`, trimmed
///   the same way.
/// - ``TaskTemplate/classification`` (answering): `example` holds `{text}` and `{label}` (or
///   `{answer}`); the query is `example` up to `{label}` (or `{answer}`), with trailing spaces removed.
public struct PromptFormat: Sendable, Hashable, Codable {
    public var instruction: String
    public var example: String

    public init(instruction: String, example: String) {
        self.instruction = instruction
        self.example = example
    }
}

/// Default generation settings of a task. `batches` is ``BatchCount/auto`` unless the task pins M.
public struct TaskDefaults: Sendable, Hashable, Codable {
    public var batches: BatchCount
    public var batchSize: Int
    /// T: the most tokens of a demonstration's text (for extraction: of its sentence, T_text).
    public var maxTokens: Int
    public var vocabulary: VocabularyMode
    public var topK: Int
    /// Extraction tasks only: T_answer, the most tokens of a demonstration's answer (nil for
    /// classification). A demonstration is charged T_text + T_answer tokens.
    public var answerMaxTokens: Int?
    /// How private examples are drawn (default: partition, amplified once per demonstration).
    public var sampling: SamplingMode
    /// The most tokens of one private example in a prompt (``GenerationSettings/maxExampleTokens``).
    public var maxExampleTokens: Int?

    public init(
        batches: BatchCount = .auto, batchSize: Int = 1, maxTokens: Int = 100, vocabulary: VocabularyMode = .rvp, topK: Int = 100,
        answerMaxTokens: Int? = nil, sampling: SamplingMode = .partition, maxExampleTokens: Int? = nil
    ) {
        self.batches = batches
        self.batchSize = batchSize
        self.maxTokens = maxTokens
        self.vocabulary = vocabulary
        self.topK = topK
        self.answerMaxTokens = answerMaxTokens
        self.sampling = sampling
        self.maxExampleTokens = maxExampleTokens
    }

    enum CodingKeys: String, CodingKey {
        case batches, batchSize, maxTokens, vocabulary, topK, answerMaxTokens, sampling, maxExampleTokens
    }

    /// Decodes encodings made before the automatic plan (an integer M, no sampling) too.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            batches: try c.decode(BatchCount.self, forKey: .batches), batchSize: try c.decode(Int.self, forKey: .batchSize),
            maxTokens: try c.decode(Int.self, forKey: .maxTokens), vocabulary: try c.decode(VocabularyMode.self, forKey: .vocabulary),
            topK: try c.decode(Int.self, forKey: .topK), answerMaxTokens: try c.decodeIfPresent(Int.self, forKey: .answerMaxTokens),
            sampling: try c.decodeIfPresent(SamplingMode.self, forKey: .sampling) ?? .partition,
            maxExampleTokens: try c.decodeIfPresent(Int.self, forKey: .maxExampleTokens))
    }
}

/// M, the number of private batches: chosen by ``BatchPlanner`` (`auto`) or pinned.
public enum BatchCount: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    case auto
    case fixed(Int)

    public init(integerLiteral value: Int) { self = .fixed(value) }

    /// Parses "auto" or a whole number.
    public init?(parsing text: String) {
        if text.lowercased() == "auto" { self = .auto } else if let m = Int(text) { self = .fixed(m) } else { return nil }
    }

    public var fixed: Int? { if case .fixed(let m) = self { m } else { nil } }

    public var description: String { fixed.map(String.init) ?? "auto" }

    /// JSON: a number, or "auto".
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let m = try? c.decode(Int.self) { self = .fixed(m); return }
        let text = try c.decode(String.self)
        guard let value = BatchCount(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a whole number or \"auto\", got '\(text)'")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case .fixed(let m): try c.encode(m)
        }
    }
}

/// Which tokens compete in the noisy argmax.
public enum VocabularyMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Reduced vocabulary from the public prompt's top-K (the paper's default).
    case rvp
    /// The union of each private prompt's own top-k; tokens a prompt did not list count as 0.
    case full
}
