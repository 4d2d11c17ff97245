import FewShotCore
import Foundation

/// Reads demonstrations from JSONL: one `{"label": …, "text": …}` object per line (for an extraction
/// task `{"text": …, "answer": …}`), as `fewshot demos export` writes. Records with neither `label` nor `text` (such as the privacy
/// metadata record that `fewshot gen` writes first) are skipped; blank lines too.
///
/// Guarantee: returns every demonstration in file order, or throws a ``DemonstrationFileError``
/// naming the file, line and field. The file holds DP output (public), so errors may quote labels.
public enum DemonstrationFile {
    public static func read(_ url: URL) throws -> [Demonstration] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DemonstrationFileError(file: url.path, line: nil, problem: "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(data, file: url.path)
    }

    public static func parse(_ data: Data, file: String) throws -> [Demonstration] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DemonstrationFileError(file: file, line: nil, problem: "not valid UTF-8")
        }
        var out: [Demonstration] = []
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
        return out
    }
}

/// A problem in a demonstrations file, with its line (1-based) when it concerns one record.
public struct DemonstrationFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var problem: String

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(problem)" }
}
