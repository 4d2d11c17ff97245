import FewShotCore
import Foundation
import Testing
@testable import FewShotData

/// Bad inputs, one per row: each error names the file, line and field (or the key), says what to do,
/// and never quotes a value of a private data file. Every private field below holds `canary`.
let canary = "CANARY-9d2e"

struct BadData: CustomTestStringConvertible, Sendable {
    var name: String
    var contents: String
    var ext = "jsonl"
    var line: Int?
    var field: String?
    var says: String
    var testDescription: String { name }
}

struct BadTaskFile: CustomTestStringConvertible, Sendable {
    var name: String
    var contents: String
    var line: Int?
    var says: [String]
    var testDescription: String { name }
}

@Suite struct BadInputTests {
    static let task = twoLabels  // labels pos, neg

    static let dataRows: [BadData] = [
        BadData(name: "unknown label", contents: #"{"text": "\#(canary) a", "label": "\#(canary)"}"#, line: 1, field: "label",
                says: "not one of the task's labels; 11 characters"),
        BadData(name: "swapped columns: text in the label", contents: #"{"text": "pos", "label": "\#(canary) is a long sentence of example text"}"#,
                line: 1, field: "label", says: "is text in the label's column?"),
        BadData(name: "unknown label_name", contents: #"{"text": "\#(canary)", "label_name": "\#(canary)"}"#, line: 1, field: "label_name",
                says: "Task 'toy' has pos, neg"),
        BadData(name: "label and label_name disagree", contents: #"{"text": "\#(canary)", "label": "pos", "label_name": "neg"}"#, line: 1,
                field: "label_name", says: "names a different label than field 'label'"),
        BadData(name: "label index disagrees with label_name", contents: #"{"text": "\#(canary)", "label": 1, "label_name": "pos"}"#, line: 1,
                field: "label_name", says: "give one of them"),
        BadData(name: "raw tab in text", contents: "{\"text\": \"\(canary)\there\", \"label\": \"pos\"}", line: 1, field: "text",
                says: "raw control character (U+0009)"),
        BadData(name: "raw newline-like control in label", contents: "{\"text\": \"\(canary)\", \"label\": \"p\u{1}os\"}", line: 1, field: "label",
                says: "write it escaped"),
        BadData(name: "label index out of range", contents: #"{"text": "\#(canary)", "label": 7}"#, line: 1, field: "label",
                says: "integer index outside 0..<2"),
        BadData(name: "text not a string", contents: #"{"text": ["\#(canary)"], "label": "pos"}"#, line: 1, field: "text", says: "must be a string"),
        BadData(name: "text missing on line 2", contents: #"{"text": "\#(canary)", "label": "pos"}"# + "\n" + #"{"label": "neg"}"#, line: 2, field: "text",
                says: "missing"),
        BadData(name: "text empty", contents: #"{"text": "  ", "label": "pos"}"#, line: 1, field: "text", says: "empty"),
        BadData(name: "label missing", contents: #"{"text": "\#(canary)"}"#, line: 1, field: "label", says: "give 'label' or 'label_name'"),
        BadData(name: "label_name a number", contents: #"{"text": "\#(canary)", "label_name": 3}"#, line: 1, field: "label_name", says: "must be a string"),
        BadData(name: "invalid JSON after a blank line", contents: #"{"text": "\#(canary)", "label": "pos"}"# + "\n\n" + #"{"text": "\#(canary)", "label": "#,
                line: 3, field: nil, says: "invalid JSON"),
        BadData(name: "JSON array line", contents: #"["\#(canary)", "pos"]"#, line: 1, field: nil, says: "not a JSON object"),
        BadData(name: "CSV unterminated quote", contents: "text,label\n\"\(canary) open,pos\nnext,neg\n", ext: "csv", line: 2, field: "text",
                says: "never closed"),
        BadData(name: "CSV unquoted comma", contents: "text,label\n\(canary) hello, world,pos\n", ext: "csv", line: 2, field: nil,
                says: "3 fields but the header has 2 columns; quote a field"),
        BadData(name: "CSV line number after a multi-line field", contents: "text,label\n\"\(canary) a\nb\nc\",pos\n\(canary),\(canary)\n", ext: "csv",
                line: 5, field: "label", says: "not one of the task's labels"),
        BadData(name: "CSV text after closing quote", contents: "text,label\nok,pos\n\"\(canary)\"x,pos\n", ext: "csv", line: 3, field: "text",
                says: "after the closing quote"),
        BadData(name: "CSV stray quote", contents: "text,label\n\(canary)\"x,pos\n", ext: "csv", line: 2, field: "text", says: "double each quote"),
        BadData(name: "CSV unknown label", contents: "text,label\n\(canary),\(canary)\n", ext: "csv", line: 2, field: "label", says: "11 characters"),
        BadData(name: "CSV no text column", contents: "body,label\n\(canary),pos\n", ext: "csv", line: 1, field: "text", says: "no such column"),
        BadData(name: "CSV empty text", contents: "text,label\n\(canary),pos\n\"\",neg\n", ext: "csv", line: 3, field: "text", says: "empty"),
        BadData(name: "CSV label and label_name disagree", contents: "text,label,label_name\n\(canary),pos,neg\n", ext: "csv", line: 2,
                field: "label_name", says: "names a different label"),
        BadData(name: "CSV label column empty", contents: "text,label\n\(canary),\n", ext: "csv", line: 2, field: "label", says: "missing"),
    ]

    @Test(arguments: dataRows)
    func badDataIsNamedWithoutQuotingIt(row: BadData) throws {
        let url = try write(row.contents, ext: row.ext)
        do {
            let accepted = try PrivateDataFile.load(url, task: Self.task)
            Issue.record("accepted \(accepted.examples.count) examples")
        } catch let error as FileProblem {
            #expect(error.file == url.path)
            #expect(error.line == row.line, "\(error)")
            #expect(error.field == row.field, "\(error)")
            #expect(error.description.contains(row.says), "\(error)")
            #expect(!error.description.contains(canary), "\(error)")
            #expect(!error.description.contains("CANARY"), "\(error)")
        }
    }

    @Test func aDirectoryOrAMissingFileIsNamedInWords() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-dir-\(UUID().uuidString).jsonl")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        #expect(throws: FileProblem(file: directory.path, line: nil, problem: "is a directory; give the path of a .jsonl or .csv file")) {
            try PrivateDataFile.load(directory, task: Self.task)
        }
        let missing = directory.appendingPathComponent("none.jsonl")
        do { _ = try PrivateDataFile.load(missing, task: Self.task); Issue.record("accepted") } catch {
            #expect("\(error)".contains("no such file") && !"\(error)".contains("error 2"), "\(error)")
        }
    }

    @Test func blankLinesAndDuplicatesAreCountedNeverShown() throws {
        let line = #"{"text": "\#(canary) one", "label": "pos"}"#
        let url = try write([line, "", "  ", line, #"{"text": "\#(canary) two", "label": 1}"#, line].joined(separator: "\n") + "\n")
        let data = try PrivateDataFile.load(url, task: Self.task)
        #expect(data.examples.count == 4 && data.blankLines == 2 && data.duplicateExamples == 2)
        let summary = try #require(data.inputSummary)
        #expect(summary.contains("2 blank lines") && summary.contains("2 examples repeat"))
        #expect(!summary.contains(canary))
        let csv = try PrivateDataFile.load(try write("text,label\n\(canary),pos\n\n\(canary),pos\n", ext: "csv"), task: Self.task)
        #expect(csv.blankLines == 1 && csv.duplicateExamples == 1)
        // Positive control: a clean file has nothing to report.
        #expect(try PrivateDataFile.load(try write(line + "\n"), task: Self.task).inputSummary == nil)
    }

    @Test func csvLineNumbersFollowMultiLineFields() throws {
        let url = try write("text,label\n\"a\r\nb\",pos\n\"c\"\"d\",neg\n", ext: "csv")
        let data = try PrivateDataFile.load(url, task: Self.task)
        #expect(data.examples.map(\.label) == ["pos", "neg"])
        #expect(data.examples[1].text == "c\"d")
    }

    static let validTask = """
        name: NAME
        labels: [{name: a, word: A}, {name: b, word: B}]
        generation: {instruction: "x", example: "{label}: {text}"}
        classification: {instruction: "y", example: "{text} -> {label}"}
        defaults: {batches: 2, batch_size: 1, max_tokens: 5, top_k: 10}
        """

    static let taskRows: [BadTaskFile] = [
        BadTaskFile(name: "typo at the top level", contents: validTask + "\ntemprature: 0.7\n", line: 6,
                    says: ["field 'temprature'", "unknown key", "keys at the top level"]),
        BadTaskFile(name: "typo in defaults", contents: validTask.replacingOccurrences(of: "max_tokens", with: "max_token"), line: 5,
                    says: ["field 'defaults.max_token'", "did you mean 'max_tokens'?"]),
        BadTaskFile(name: "typo in a label", contents: validTask.replacingOccurrences(of: "{name: b, word: B}", with: "{name: b, wrod: B}"), line: 2,
                    says: ["field 'labels[1].wrod'", "did you mean 'word'?"]),
        BadTaskFile(name: "typo in a section", contents: validTask.replacingOccurrences(of: "generation: {instruction", with: "generation: {instructions"), line: 3,
                    says: ["field 'generation.instructions'", "did you mean 'instruction'?"]),
        BadTaskFile(name: "YAML syntax error", contents: "name: t\nlabels: [{name: a, word: A}\ngeneration: x\n", line: 3,
                    says: ["not valid YAML"]),
        BadTaskFile(name: "bad indentation", contents: "name: t\n  labels: x\n", line: 2, says: ["not valid YAML"]),
        BadTaskFile(name: "empty file", contents: "", line: nil, says: ["the file is empty", "name, labels, generation, classification"]),
        BadTaskFile(name: "only comments", contents: "# nothing yet\n", line: nil, says: ["the file is empty"]),
        BadTaskFile(name: "a list, not a mapping", contents: "- name: t\n", line: 1, says: ["expected a mapping"]),
        BadTaskFile(name: "wrong type", contents: validTask.replacingOccurrences(of: "top_k: 10", with: "top_k: many"), line: 5,
                    says: ["field 'defaults.top_k'", "expected an integer"]),
        BadTaskFile(name: "labels not a list", contents: validTask.replacingOccurrences(of: "[{name: a, word: A}, {name: b, word: B}]", with: "a"), line: 2,
                    says: ["field 'labels'", "expected an array"]),
        BadTaskFile(name: "missing generation", contents: "name: t\nlabels: [{name: a, word: A}]\nclassification: {instruction: y, example: '{text} {label}'}\n",
                    line: 1, says: ["field 'generation'", "missing"]),
    ]

    @Test(arguments: taskRows)
    func badTaskFilesNameLineAndKey(row: BadTaskFile) throws {
        let url = try write(row.contents.replacingOccurrences(of: "NAME", with: "t"), ext: "yaml")
        do {
            _ = try TaskFile.load(url)
            Issue.record("accepted")
        } catch let error as FileProblem {
            #expect(error.file == url.path)
            #expect(error.line == row.line, "\(error)")
            for part in row.says { #expect(error.description.contains(part), "\(error)") }
            #expect(!error.description.contains("Dictionary") && !error.description.contains("Node"), "\(error)")
        }
    }

    @Test func aTaskFileNamedOtherwiseThanAskedIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-prompts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.validTask.replacingOccurrences(of: "NAME", with: "trec").write(to: directory.appendingPathComponent("trec2.yaml"), atomically: true, encoding: .utf8)
        try Self.validTask.replacingOccurrences(of: "NAME", with: "good").write(to: directory.appendingPathComponent("good.yaml"), atomically: true, encoding: .utf8)
        do { _ = try TaskFile.find("trec2", in: directory); Issue.record("accepted") } catch {
            #expect("\(error)".contains("field 'name'") && "\(error)".contains("asked for as 'trec2'"), "\(error)")
        }
        #expect(try TaskFile.find("good", in: directory).name == "good")  // positive control
    }

    @Test func nearestKeyIsByEditDistance() {
        #expect(YAMLDocument.editDistance("max_body_byte", "max_body_bytes") == 1)
        #expect(YAMLDocument.nearest(to: "temprature", in: ["name", "labels", "kind"]) != nil)
        #expect(YAMLDocument.nearest(to: "max_body_byte", in: ["max_body_bytes", "max_queue_wait_seconds"]) == "max_body_bytes")
    }
}
