import FewShotCore
import Foundation
import SwiftCSV

/// A private data set read from a file: its examples, its counts per label, and its fingerprint.
/// Its description never shows example text.
public struct PrivateDataset: Sendable, CustomStringConvertible {
    public var source: String
    public var examples: [LabeledExample]
    /// SHA-256 of the normalised content; identifies the data set in the store's ledger.
    public var fingerprint: String
    /// Lines (JSONL) or rows (CSV) that held nothing and were skipped.
    public var blankLines = 0
    /// Examples equal (text and label, or text and answer) to an earlier one; they are kept, and each
    /// counts as an example, but one person's data written twice weakens the privacy guarantee.
    public var duplicateExamples = 0

    public var countsByLabel: [String: Int] { Dictionary(grouping: examples, by: \.label).mapValues(\.count) }
    /// Without the fingerprint: it never leaves the store (see the store's public dataset ids).
    public var description: String { "PrivateDataset(\(source), \(examples.count) examples)" }

    /// What a user should know about the file's shape (counts only, never content), or nil if nothing.
    public var inputSummary: String? {
        var notes: [String] = []
        if blankLines > 0 { notes.append("\(blankLines) blank line\(blankLines == 1 ? "" : "s") skipped") }
        if duplicateExamples > 0 {
            notes.append("\(duplicateExamples) example\(duplicateExamples == 1 ? " repeats" : "s repeat") an earlier one (kept; remove duplicates if they are one person's data)")
        }
        return notes.isEmpty ? nil : "\(source): \(examples.count) examples; " + notes.joined(separator: "; ")
    }
}

/// Reads private labeled data from JSONL or CSV.
///
/// JSONL: one object per line with `text` and a label: `label_name` (a label name of the task), or
/// `label` (a name, or an integer index into the task's labels); when both are given they must name
/// the same label. CSV: a header row with `text` and `label_name` or `label` columns. For an
/// extraction task each line has `text` and `answer` instead (CSV columns `text,answer`), both
/// non-empty strings; the examples form the task's one group. Every problem (invalid UTF-8, bad JSON,
/// a raw control character in a JSON string, a CSV quote left open or a row with more or fewer fields
/// than the header, missing or empty field, unknown label) is reported with the file, line and field,
/// and nothing is returned: a data set is used whole or not at all. Blank lines are skipped and
/// duplicates kept; both are counted in ``PrivateDataset``.
///
/// Guarantee: no error quotes a value of the file (text, label or answer); a wrong label is described
/// by its length and the task's labels are listed instead.
public enum PrivateDataFile {
    public static func load(_ url: URL, task: TaskTemplate) throws -> PrivateDataset {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw FileProblem(file: url.path, line: nil, problem: "is a directory; give the path of a .jsonl or .csv file")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FileProblem(file: url.path, line: nil, problem: FileReading.problem(url, error))
        }
        let read: (examples: [LabeledExample], blank: Int)
        if url.pathExtension.lowercased() == "csv" {
            read = try readCSV(data, file: url.path, task: task)
        } else {
            read = try readJSONL(data, file: url.path, task: task)
        }
        guard !read.examples.isEmpty else { throw FileProblem(file: url.path, line: nil, problem: "no examples") }
        var dataset = PrivateDataset(source: url.path, examples: read.examples, fingerprint: DatasetFingerprint.of(read.examples))
        dataset.blankLines = read.blank
        dataset.duplicateExamples = read.examples.count - Set(read.examples).count
        return dataset
    }

    static func readJSONL(_ data: Data, file: String, task: TaskTemplate) throws -> (examples: [LabeledExample], blank: Int) {
        var examples: [LabeledExample] = []
        var blank = 0
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let lineNumber = index + 1
            let bytes = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                // The piece after a final newline is the file's end, not a blank line.
                if !(index == lines.count - 1 && line.isEmpty) { blank += 1 }
                continue
            }
            guard String(validating: bytes, as: UTF8.self) != nil else {
                throw FileProblem(file: file, line: lineNumber, problem: "invalid UTF-8")
            }
            if let control = rawControlCharacter(in: bytes) {
                let code = "U+" + String(format: "%04X", control.byte)
                throw FileProblem(
                    file: file, line: lineNumber, field: control.field,
                    problem: "a raw control character (\(code)) inside a JSON string; write it escaped (e.g. \\n, \\t or \\u\(code.dropFirst(2)))")
            }
            let row: JSONLRow
            do { row = try JSONDecoder().decode(JSONLRow.self, from: Data(bytes)) } catch {
                throw FileProblem(file: file, line: lineNumber, problem: "invalid JSON or not a JSON object")
            }
            guard case .string(let text)? = row.text else {
                throw FileProblem(file: file, line: lineNumber, field: "text", problem: row.text == nil ? "missing" : "must be a string")
            }
            if task.kind == .extraction {
                guard case .string(let answer)? = row.answer else {
                    throw FileProblem(file: file, line: lineNumber, field: "answer", problem: row.answer == nil ? "missing" : "must be a string")
                }
                examples.append(try extractionExample(text: text, answer: answer, file: file, line: lineNumber))
                continue
            }
            let label = try resolveLabel(name: row.label_name, label: row.label, task: task, file: file, line: lineNumber)
            examples.append(try example(text: text, label: label, file: file, line: lineNumber))
        }
        return (examples, blank)
    }

    /// The first byte below U+0020 inside a JSON string (JSON requires those escaped), with the
    /// field it is in when that is one this reader knows. Never returns content.
    static func rawControlCharacter(in bytes: some Collection<UInt8>) -> (byte: UInt8, field: String?)? {
        let known: Set<String> = ["text", "label", "label_name", "answer"]
        var inString = false, escaped = false, stringIsKey = false, expectKey = false
        var current: [UInt8] = []
        var lastKey: String?
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if stringIsKey { lastKey = String(decoding: current, as: UTF8.self) }
                } else if byte < 0x20 {
                    return (byte, stringIsKey ? nil : lastKey.flatMap { known.contains($0) ? $0 : nil })
                } else {
                    current.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                stringIsKey = expectKey
                current = []
            case UInt8(ascii: "{"), UInt8(ascii: ","): expectKey = true
            case UInt8(ascii: ":"): expectKey = false
            default: break
            }
        }
        return nil
    }

    static func readCSV(_ data: Data, file: String, task: TaskTemplate) throws -> (examples: [LabeledExample], blank: Int) {
        guard let string = String(data: data, encoding: .utf8) else {
            throw FileProblem(file: file, line: firstInvalidUTF8Line(data), problem: "invalid UTF-8")
        }
        // SwiftCSV (0.10) reports neither line numbers nor a quote left open (it reads the rest of the
        // file into that field), and its parse error quotes a character of the file; CSVRecordLines
        // follows the same grammar to find both, so SwiftCSV's own error is never shown.
        let layout = CSVRecordLines(string)
        func columnName(_ index: Int, _ header: [String]) -> String? { header.indices.contains(index) ? header[index] : nil }
        if let problem = layout.problem {
            throw FileProblem(file: file, line: problem.line, field: columnName(problem.fieldIndex, layout.header), problem: problem.problem)
        }
        let csv: EnumeratedCSV
        do { csv = try EnumeratedCSV(string: string, delimiter: .comma, loadColumns: false) } catch {
            throw FileProblem(file: file, line: nil, problem: "invalid CSV: a quote inside a field must be doubled (\"\") and a quoted field must end at a comma or the end of the line")
        }
        let header = csv.header.map { $0.trimmingCharacters(in: .whitespaces) }
        guard header.contains("text") else { throw FileProblem(file: file, line: 1, field: "text", problem: "no such column in the header") }
        if task.kind == .extraction {
            guard header.contains("answer") else { throw FileProblem(file: file, line: 1, field: "answer", problem: "no such column in the header") }
        } else {
            guard header.contains("label_name") || header.contains("label") else {
                throw FileProblem(file: file, line: 1, field: "label", problem: "no 'label' or 'label_name' column in the header")
            }
        }
        var examples: [LabeledExample] = []
        var blank = 0
        for (index, fields) in csv.rows.enumerated() {
            let line = layout.line(ofRow: index)
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                blank += 1
                continue
            }
            guard fields.count == header.count else {
                throw FileProblem(
                    file: file, line: line,
                    problem: "\(fields.count) fields but the header has \(header.count) columns; quote a field that holds a comma (\"...\")")
            }
            var row: [String: String] = [:]
            for (column, value) in zip(header, fields) { row[column] = value }
            if task.kind == .extraction {
                examples.append(try extractionExample(text: row["text"] ?? "", answer: row["answer"] ?? "", file: file, line: line))
                continue
            }
            let name = row["label_name"].flatMap { $0.isEmpty ? nil : FieldValue.string($0) }
            let label = try resolveLabel(
                name: name, label: row["label"].flatMap { $0.isEmpty ? nil : FieldValue.string($0) }, task: task, file: file, line: line)
            examples.append(try example(text: row["text"] ?? "", label: label, file: file, line: line))
        }
        return (examples, blank)
    }

    static func resolveLabel(name: FieldValue?, label: FieldValue?, task: TaskTemplate, file: String, line: Int) throws -> String {
        var byName: String?
        switch name {
        case .string(let name)?:
            guard task.label(named: name) != nil else { throw unknownLabel(name, field: "label_name", task: task, file: file, line: line) }
            byName = name
        case .other?, .integer?:
            throw FileProblem(file: file, line: line, field: "label_name", problem: "must be a string (a label name of task '\(task.name)': \(labelList(task)))")
        case nil:
            break
        }
        let byLabel: String
        switch label {
        case .string(let value)?:
            if task.label(named: value) != nil {
                byLabel = value
            } else if let index = Int(value), task.labels.indices.contains(index) {
                byLabel = task.labels[index].name
            } else {
                throw unknownLabel(value, field: "label", task: task, file: file, line: line)
            }
        case .integer(let index)?:
            guard task.labels.indices.contains(index) else {
                throw FileProblem(
                    file: file, line: line, field: "label",
                    problem: "integer index outside 0..<\(task.labels.count) (labels of task '\(task.name)': \(labelList(task)))")
            }
            byLabel = task.labels[index].name
        case .other?:
            throw FileProblem(file: file, line: line, field: "label", problem: "must be a label name or an integer index")
        case nil:
            if let byName { return byName }
            throw FileProblem(file: file, line: line, field: "label", problem: "missing (give 'label' or 'label_name')")
        }
        if let byName, byName != byLabel {
            throw FileProblem(
                file: file, line: line, field: "label_name",
                problem: "names a different label than field 'label' on the same line; give one of them, or make them agree")
        }
        return byLabel
    }

    static func labelList(_ task: TaskTemplate) -> String { task.labels.map(\.name).joined(separator: ", ") }

    /// Describes a wrong label without its value: when columns are swapped, or a CSV field holds an
    /// unquoted comma, the value is example text.
    static func unknownLabel(_ value: String, field: String, task: TaskTemplate, file: String, line: Int) -> FileProblem {
        let longest = task.labels.map(\.name.count).max() ?? 0
        let hint = value.count > longest + 10 ? " (longer than any label: is text in the label's column?)" : ""
        return FileProblem(
            file: file, line: line, field: field,
            problem: "not one of the task's labels; \(value.count) characters\(hint). Task '\(task.name)' has \(labelList(task))")
    }

    static func example(text: String, label: String, file: String, line: Int) throws -> LabeledExample {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw FileProblem(file: file, line: line, field: "text", problem: "empty")
        }
        return LabeledExample(text: text, label: label)
    }

    static func extractionExample(text: String, answer: String, file: String, line: Int) throws -> LabeledExample {
        for (field, value) in [("text", text), ("answer", answer)] where value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw FileProblem(file: file, line: line, field: field, problem: "empty")
        }
        return LabeledExample(text: text, answer: answer)
    }

    static func firstInvalidUTF8Line(_ data: Data) -> Int? {
        var number = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            if String(validating: line, as: UTF8.self) == nil { return number }
        }
        return nil
    }
}

/// One JSONL line's fields of interest; other fields are ignored.
struct JSONLRow: Decodable {
    var text: FieldValue?
    var answer: FieldValue?
    var label: FieldValue?
    var label_name: FieldValue?
}

/// A field that may be a string, an integer, or something else (reported as a type error).
enum FieldValue: Decodable, Equatable {
    case string(String)
    case integer(Int)
    case other

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let integer = try? container.decode(Int.self) {
            self = .integer(integer)
        } else {
            self = .other
        }
    }
}
