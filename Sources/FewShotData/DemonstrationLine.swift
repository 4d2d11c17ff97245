import DPAccounting
import FewShotCore
import Foundation

/// One line of a demonstrations file (JSON Lines), the one format that `fewshot gen --out` and
/// `fewshot demos export` write and `fewshot serve` reads (``DemonstrationFile``).
///
/// A demonstration line has `text` and either a `label` (classification) or an `answer` (extraction:
/// it has no label, so `label` is absent, never empty or a placeholder). `fewshot gen` marks its lines
/// `"type": "demonstration"` and writes its privacy record first (`"type": "privacy"`, a line with
/// neither label nor text); `fewshot demos export` adds the set's metadata to each line, so that a
/// line alone says what its privacy claim is. Fields the reader does not know are ignored.
///
/// Guarantees: every line is written by ``encoded(_:)`` (sorted keys, ISO 8601 dates, an infinite
/// epsilon as the string "inf", as ``EpsilonJSON`` writes it) and read by ``decode(_:)``; the text
/// is DP output (public), so errors about a line may quote its labels.
public struct DemonstrationLine: Codable, Sendable, Equatable {
    /// "demonstration" on `fewshot gen`'s demonstration lines, "privacy" on its privacy record;
    /// absent on exported lines.
    public var type: String?
    /// A classification demonstration's label; absent on an extraction demonstration.
    public var label: String?
    public var text: String?
    /// An extraction demonstration's answer; absent on a classification demonstration.
    public var answer: String?

    // The set's metadata, on exported lines (the privacy record has its own fields; of those the
    // reader needs `epsilon`, `private` and `seed`).
    public var set: String?
    public var dataset: String?
    public var task: String?
    public var epsilon: Double?
    public var delta: Double?
    public var sigma: Double?
    public var mechanism: String?
    public var sampling: String?
    /// Private batches (M), examples per batch (N), most tokens per demonstration (T).
    public var m: Int?
    public var n: Int?
    public var t: Int?
    public var model: String?
    public var created: Date?
    public var accountant: String?
    /// True when the set's noise was seeded (reproducible, NOT private).
    public var seeded: Bool?
    /// The noise seed of a `fewshot gen --seed` run (an older fewshot's privacy record).
    public var seed: UInt64?
    /// False when the demonstrations do not carry a DP guarantee (seeded noise, or epsilon = inf).
    public var `private`: Bool?

    /// A line holding one demonstration and nothing else (add the metadata to its fields).
    public init(_ demonstration: Demonstration, type: String? = nil) {
        self.type = type
        label = demonstration.writtenLabel
        text = demonstration.text
        answer = demonstration.answer
    }

    /// Whether the line holds a demonstration (the privacy record holds none).
    public var holdsDemonstration: Bool { label != nil || text != nil || answer != nil }

    /// The line's demonstration, or the field that is wrong and why.
    public func demonstration() -> Result<Demonstration, FieldProblem> {
        if let answer {
            guard label == nil else {
                return .failure(.init(field: "label", problem: "an extraction demonstration (one with an answer) has no label; remove one of them"))
            }
            guard !answer.isEmpty else { return .failure(.init(field: "answer", problem: "empty")) }
        } else {
            guard let label, !label.isEmpty else { return .failure(.init(field: "label", problem: "missing or empty (or give an answer, for an extraction task)")) }
        }
        guard let text, !text.isEmpty else { return .failure(.init(field: "text", problem: "missing or empty")) }
        return .success(Demonstration(writtenLabel: label, text: text, answer: answer))
    }

    /// Why the line says its demonstrations are not private (`"private": false`, seeded noise, or
    /// an infinite epsilon); nil when it says nothing of the kind.
    public var nonPrivateStatement: String? {
        if `private` == false { return "says \"private\": false" }
        if seeded == true { return "says \"seeded\": true (reproducible noise)" }
        if seed != nil { return "has a \"seed\" (reproducible noise)" }
        if let epsilon, !epsilon.isFinite { return "says epsilon = inf (no noise)" }
        return nil
    }

    /// A field of a line and what is wrong with it.
    public struct FieldProblem: Error, Sendable, Equatable {
        public var field: String?
        public var problem: String
    }

    /// One line of JSON, without its newline. Also used for `fewshot gen`'s privacy record, so that
    /// every line of the file is written alike.
    public static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = EpsilonJSON.encoding
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The lines as a file's content: each followed by a newline.
    public static func file(_ lines: [String]) -> String {
        lines.map { $0 + "\n" }.joined()
    }

    /// Reads one line, or names the field that cannot be read.
    public static func decode(_ line: Substring) -> Result<DemonstrationLine, FieldProblem> {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = EpsilonJSON.decoding
        do {
            return .success(try decoder.decode(DemonstrationLine.self, from: Data(line.utf8)))
        } catch let error as DecodingError {
            let (field, problem) = DecodingErrorDescription.describe(error)
            return .failure(.init(field: field, problem: field == nil ? "not a JSON object" : problem))
        } catch {
            return .failure(.init(field: nil, problem: "not a JSON object"))
        }
    }
}
