/// A task as the method sees it: how private examples are shown to the LLM when generating
/// demonstrations, and how demonstrations and a query are shown when classifying.
///
/// Templates use two placeholders, `{label}` (the label's word) and `{text}`. Tasks live as files in
/// `prompts/`; `FewShotData.TaskFile` reads them. A task value is public: it never holds private text.
public struct TaskTemplate: Sendable, Hashable, Codable {
    public var name: String
    public var labels: [TaskLabel]
    public var generation: GenerationFormat
    public var classification: ClassificationFormat
    /// Strings that end a generated demonstration (besides newline and the model's end of text).
    public var endMarkers: [String]
    /// The paper's settings for this task, used when the user gives none.
    public var defaults: TaskDefaults

    public init(
        name: String, labels: [TaskLabel], generation: GenerationFormat, classification: ClassificationFormat,
        endMarkers: [String] = [], defaults: TaskDefaults = TaskDefaults()
    ) {
        self.name = name
        self.labels = labels
        self.generation = generation
        self.classification = classification
        self.endMarkers = endMarkers
        self.defaults = defaults
    }

    public func label(named name: String) -> TaskLabel? { labels.first { $0.name == name } }
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

/// How examples appear in a generation prompt. `example` holds `{label}` and `{text}`; the label
/// header for a new demonstration is `example` up to `{text}`, with trailing spaces removed so the
/// model chooses its own leading space.
public struct GenerationFormat: Sendable, Hashable, Codable {
    public var instruction: String
    public var example: String

    public init(instruction: String, example: String) {
        self.instruction = instruction
        self.example = example
    }
}

/// How demonstrations and a query appear in a classification prompt. `example` holds `{text}` and
/// `{label}`; the query is `example` up to `{label}`, with trailing spaces removed.
public struct ClassificationFormat: Sendable, Hashable, Codable {
    public var instruction: String
    public var example: String

    public init(instruction: String, example: String) {
        self.instruction = instruction
        self.example = example
    }
}

/// Default generation settings of a task (the paper's table at epsilon = 4).
public struct TaskDefaults: Sendable, Hashable, Codable {
    public var batches: Int
    public var batchSize: Int
    public var maxTokens: Int
    public var vocabulary: VocabularyMode
    public var topK: Int

    public init(batches: Int = 10, batchSize: Int = 2, maxTokens: Int = 100, vocabulary: VocabularyMode = .rvp, topK: Int = 100) {
        self.batches = batches
        self.batchSize = batchSize
        self.maxTokens = maxTokens
        self.vocabulary = vocabulary
        self.topK = topK
    }
}

/// Which tokens compete in the noisy argmax.
public enum VocabularyMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Reduced vocabulary from the public prompt's top-K (the paper's default).
    case rvp
    /// The union of each private prompt's own top-k; tokens a prompt did not list count as 0.
    case full
}
