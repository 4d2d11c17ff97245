import FewShotCore
import Foundation

/// Reads demonstrations from JSONL: one `{"label": …, "text": …}` object per line (for an extraction
/// task `{"text": …, "answer": …}`), as `fewshot demos export` writes. Records with neither `label` nor `text` (such as the privacy
/// metadata record that `fewshot gen` writes first) are skipped; blank lines too.
///
/// Guarantee: returns every demonstration in file order, or throws a ``DemonstrationFileError``
/// naming the file, line and field. The file holds DP output (public), so errors may quote labels.
/// ``load(_:)`` also reports whether a record of the file says its demonstrations are not private
/// (`fewshot gen --out` and `fewshot demos export` write `"private"`, `"epsilon"` and the seed).
public enum DemonstrationFile {
    /// The demonstrations of a file and, when one of its records says they are not private, why.
    /// A file without any privacy statement (hand-written demonstrations) has no reason.
    public struct Contents: Sendable {
        public var demonstrations: [Demonstration]
        public var nonPrivateReason: String?
    }

    public static func read(_ url: URL) throws -> [Demonstration] {
        try load(url).demonstrations
    }

    public static func load(_ url: URL) throws -> Contents {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DemonstrationFileError(file: url.path, line: nil, problem: "cannot read the file (\(error.localizedDescription))")
        }
        return try contents(data, file: url.path)
    }

    public static func parse(_ data: Data, file: String) throws -> [Demonstration] {
        try contents(data, file: file).demonstrations
    }

    /// Why a record (a privacy record or an exported line) says the demonstrations are not private:
    /// `"private": false`, seeded noise, or an infinite epsilon (written as "inf").
    static func nonPrivateStatement(_ object: [String: Any]) -> String? {
        if let flag = object["private"] as? Bool, !flag { return "says \"private\": false" }
        if let seeded = object["seeded"] as? Bool, seeded { return "says \"seeded\": true (reproducible noise)" }
        if let seed = object["seed"], !(seed is NSNull) { return "has a \"seed\" (reproducible noise)" }
        if let text = object["epsilon"] as? String, ["inf", "+inf", "infinity"].contains(text.lowercased()) { return "says epsilon = inf (no noise)" }
        if let number = object["epsilon"] as? Double, !number.isFinite { return "says epsilon = inf (no noise)" }
        return nil
    }

    static func contents(_ data: Data, file: String) throws -> Contents {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DemonstrationFileError(file: file, line: nil, problem: "not valid UTF-8")
        }
        var out: [Demonstration] = []
        var nonPrivate: String?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            func fail(_ problem: String) -> DemonstrationFileError {
                DemonstrationFileError(file: file, line: lineNumber, problem: problem)
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw fail("not a JSON object")
            }
            if nonPrivate == nil, let statement = nonPrivateStatement(object) { nonPrivate = "line \(lineNumber) \(statement)" }
            let label = object["label"]
            let body = object["text"]
            if label == nil && body == nil { continue }
            // An extraction demonstration has an answer and no label; a classification one a label.
            let labelString: String
            var answerString: String?
            if let answer = object["answer"] {
                guard let value = answer as? String, !value.isEmpty else { throw fail("field 'answer': not a non-empty string") }
                (labelString, answerString) = (TaskTemplate.extractionGroup, value)
            } else {
                guard let value = label as? String, !value.isEmpty else { throw fail("field 'label': missing or not a non-empty string") }
                labelString = value
            }
            guard let textString = body as? String, !textString.isEmpty else { throw fail("field 'text': missing or not a non-empty string") }
            out.append(Demonstration(label: labelString, text: textString, answer: answerString))
        }
        return Contents(demonstrations: out, nonPrivateReason: nonPrivate)
    }
}

/// A problem in a demonstrations file, with its line (1-based) when it concerns one record.
public struct DemonstrationFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var problem: String

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(problem)" }
}
