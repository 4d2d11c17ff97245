/// A synthetic demonstration: text released by the DP generator (or, for baselines, by the public
/// prompt or copied from real data), with its label's name.
public struct Demonstration: Sendable, Hashable, Codable {
    public var label: String
    public var text: String

    public init(label: String, text: String) {
        self.label = label
        self.text = text
    }
}

/// A private labeled example. Its text must never leave the generation step: it is not `Codable`
/// and its description does not show the text.
public struct LabeledExample: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var label: String

    public init(text: String, label: String) {
        self.text = text
        self.label = label
    }

    public var description: String { "LabeledExample(label: \(label), text: <private, \(text.utf8.count) bytes>)" }
}
