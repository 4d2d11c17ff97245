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

    public var countsByLabel: [String: Int] { Dictionary(grouping: examples, by: \.label).mapValues(\.count) }
    /// Without the fingerprint: it never leaves the store (see the store's public dataset ids).
    public var description: String { "PrivateDataset(\(source), \(examples.count) examples)" }
}

/// Reads private labeled data from JSONL or CSV.
///
/// JSONL: one object per line with `text` and a label: `label_name` (a label name of the task), or
/// `label` (a name, or an integer index into the task's labels). CSV: a header row with `text` and
/// `label_name` or `label` columns. For an extraction task each line has `text` and `answer` instead
/// (CSV columns `text,answer`), both non-empty strings; the examples form the task's one group. Every problem (invalid UTF-8, bad JSON, missing or empty field,
/// unknown label) is reported with the file, line and field, and nothing is returned: a data set
/// is used whole or not at all. Errors never quote example text.
public enum PrivateDataFile {
    public static func load(_ url: URL, task: TaskTemplate) throws -> PrivateDataset {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DataFileError(file: url.path, line: nil, problem: "cannot read the file (\(error.localizedDescription))")
        }
        let examples: [LabeledExample]
        if url.pathExtension.lowercased() == "csv" {
            examples = try readCSV(data, file: url.path, task: task)
        } else {
            examples = try readJSONL(data, file: url.path, task: task)
        }
        guard !examples.isEmpty else { throw DataFileError(file: url.path, line: nil, problem: "no examples") }
        return PrivateDataset(source: url.path, examples: examples, fingerprint: DatasetFingerprint.of(examples))
    }

    static func readJSONL(_ data: Data, file: String, task: TaskTemplate) throws -> [LabeledExample] {
        var examples: [LabeledExample] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let bytes = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard String(validating: bytes, as: UTF8.self) != nil else {
                throw DataFileError(file: file, line: lineNumber, problem: "invalid UTF-8")
            }
            let row: JSONLRow
            do { row = try JSONDecoder().decode(JSONLRow.self, from: Data(bytes)) } catch {
                throw DataFileError(file: file, line: lineNumber, problem: "invalid JSON or not a JSON object")
            }
            guard case .string(let text)? = row.text else {
                throw DataFileError(file: file, line: lineNumber, field: "text", problem: row.text == nil ? "missing" : "must be a string")
            }
            if task.kind == .extraction {
                guard case .string(let answer)? = row.answer else {
                    throw DataFileError(file: file, line: lineNumber, field: "answer", problem: row.answer == nil ? "missing" : "must be a string")
                }
                examples.append(try extractionExample(text: text, answer: answer, file: file, line: lineNumber))
                continue
            }
            let label = try resolveLabel(name: row.label_name, label: row.label, task: task, file: file, line: lineNumber)
            examples.append(try example(text: text, label: label, file: file, line: lineNumber))
        }
        return examples
    }

    static func readCSV(_ data: Data, file: String, task: TaskTemplate) throws -> [LabeledExample] {
        guard let string = String(data: data, encoding: .utf8) else {
            throw DataFileError(file: file, line: firstInvalidUTF8Line(data), problem: "invalid UTF-8")
        }
        let csv: NamedCSV
        do { csv = try NamedCSV(string: string, delimiter: .comma, loadColumns: false) } catch {
            throw DataFileError(file: file, line: nil, problem: "invalid CSV (\(error))")
        }
        guard csv.header.contains("text") else { throw DataFileError(file: file, line: 1, field: "text", problem: "no such column in the header") }
        if task.kind == .extraction {
            guard csv.header.contains("answer") else { throw DataFileError(file: file, line: 1, field: "answer", problem: "no such column in the header") }
            return try csv.rows.enumerated().map { index, row in
                try extractionExample(text: row["text"] ?? "", answer: row["answer"] ?? "", file: file, line: index + 2)
            }
        }
        guard csv.header.contains("label_name") || csv.header.contains("label") else {
            throw DataFileError(file: file, line: 1, field: "label", problem: "no 'label' or 'label_name' column in the header")
        }
        return try csv.rows.enumerated().map { index, row in
            let line = index + 2  // the header is line 1; rows with embedded newlines shift later numbers
            let name = row["label_name"].flatMap { $0.isEmpty ? nil : FieldValue.string($0) }
            let label = try resolveLabel(name: name, label: row["label"].map(FieldValue.string), task: task, file: file, line: line)
            return try example(text: row["text"] ?? "", label: label, file: file, line: line)
        }
    }

    static func resolveLabel(name: FieldValue?, label: FieldValue?, task: TaskTemplate, file: String, line: Int) throws -> String {
        switch name {
        case .string(let name)?:
            guard task.label(named: name) != nil else { throw unknownLabel(name, field: "label_name", task: task, file: file, line: line) }
            return name
        case .other?, .integer?:
            throw DataFileError(file: file, line: line, field: "label_name", problem: "must be a string")
        case nil:
            break
        }
        switch label {
        case .string(let value)?:
            if task.label(named: value) != nil { return value }
            if let index = Int(value), task.labels.indices.contains(index) { return task.labels[index].name }
            throw unknownLabel(value, field: "label", task: task, file: file, line: line)
        case .integer(let index)?:
            guard task.labels.indices.contains(index) else {
                throw DataFileError(file: file, line: line, field: "label", problem: "index \(index) is not in 0..<\(task.labels.count) (labels of task '\(task.name)')")
            }
            return task.labels[index].name
        case .other?:
            throw DataFileError(file: file, line: line, field: "label", problem: "must be a label name or an integer index")
        case nil:
            throw DataFileError(file: file, line: line, field: "label", problem: "missing (give 'label' or 'label_name')")
        }
    }

    static func unknownLabel(_ value: String, field: String, task: TaskTemplate, file: String, line: Int) -> DataFileError {
        DataFileError(file: file, line: line, field: field, problem: "unknown label '\(value)'; task '\(task.name)' has \(task.labels.map(\.name).joined(separator: ", "))")
    }

    static func example(text: String, label: String, file: String, line: Int) throws -> LabeledExample {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw DataFileError(file: file, line: line, field: "text", problem: "empty")
        }
        return LabeledExample(text: text, label: label)
    }

    static func extractionExample(text: String, answer: String, file: String, line: Int) throws -> LabeledExample {
        for (field, value) in [("text", text), ("answer", answer)] where value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw DataFileError(file: file, line: line, field: field, problem: "empty")
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

/// A data file that cannot be used; names the file, the line and the field. Never quotes example text.
public struct DataFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int?
    public var field: String?
    public var problem: String

    public init(file: String, line: Int?, field: String? = nil, problem: String) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let field { return "\(location): field '\(field)': \(problem)" }
        return "\(location): \(problem)"
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
