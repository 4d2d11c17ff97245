/// A synthetic demonstration: text released by the DP generator (or, for baselines, by the public
/// prompt or copied from real data), with its label's name. For an extraction task `label` is
/// ``TaskTemplate/extractionGroup`` and `answer` holds the released answer; for classification
/// `answer` is nil (and is not encoded, so classification records are unchanged).
public struct Demonstration: Sendable, Hashable, Codable {
    public var label: String
    public var text: String
    /// The extracted answer (extraction tasks only).
    public var answer: String?

    public init(label: String, text: String, answer: String? = nil) {
        self.label = label
        self.text = text
        self.answer = answer
    }

    /// The label as demonstration files and the store write it: nil for an extraction demonstration,
    /// whose answer stands in its place (the one way "no label" is written).
    public var writtenLabel: String? { answer == nil ? label : nil }

    /// A demonstration from its written form: with an answer it is an extraction demonstration
    /// (label ``TaskTemplate/extractionGroup``), else a classification one with `writtenLabel`.
    public init(writtenLabel: String?, text: String, answer: String?) {
        self.init(label: answer == nil ? writtenLabel ?? "" : TaskTemplate.extractionGroup, text: text, answer: answer)
    }
}

/// A private example. Its text (and answer) must never leave the generation step: it is not
/// `Codable` and its description shows neither.
///
/// Classification: `text` with a public `label`. Extraction: a sentence `text` with a private
/// `answer`, and `label` = ``TaskTemplate/extractionGroup`` (all examples form one group).
public struct LabeledExample: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var label: String
    /// The answer to extract from `text` (extraction tasks only).
    public var answer: String?

    public init(text: String, label: String) {
        self.text = text
        self.label = label
        self.answer = nil
    }

    /// An extraction example: a sentence and its answer, in the one group of an extraction task.
    public init(text: String, answer: String) {
        self.text = text
        self.label = TaskTemplate.extractionGroup
        self.answer = answer
    }

    public var description: String {
        guard let answer else { return "LabeledExample(label: \(label), text: <private, \(text.utf8.count) bytes>)" }
        return "LabeledExample(text: <private, \(text.utf8.count) bytes>, answer: <private, \(answer.utf8.count) bytes>)"
    }
}
