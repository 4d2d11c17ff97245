import FewShotCore
import Foundation
import Testing
@testable import FewShotData

let twoLabels = TaskTemplate(
    name: "toy", labels: [TaskLabel(name: "pos", word: "Positive"), TaskLabel(name: "neg", word: "Negative")],
    generation: PromptFormat(instruction: "", example: "L: {label}\nT: {text}\n\n"),
    classification: PromptFormat(instruction: "", example: "T: {text}\nL: {label}\n\n"))

func write(_ contents: String, ext: String = "jsonl") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-\(UUID().uuidString).\(ext)")
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url
}

func writeBytes(_ bytes: [UInt8]) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-\(UUID().uuidString).jsonl")
    try Data(bytes).write(to: url)
    return url
}

@Suite struct PrivateDataFileTests {
    @Test func readsJSONLWithNamesAndIndices() throws {
        let url = try write(#"""
        {"text": "great", "label_name": "pos"}

        {"text": "awful", "label": 1}
        {"text": "fine", "label": "pos", "extra": [1, 2]}
        """#)
        let data = try PrivateDataFile.load(url, task: twoLabels)
        #expect(data.examples == [LabeledExample(text: "great", label: "pos"), LabeledExample(text: "awful", label: "neg"), LabeledExample(text: "fine", label: "pos")])
        #expect(data.countsByLabel == ["pos": 2, "neg": 1])
    }

    @Test func readsCSV() throws {
        let url = try write("text,label\n\"good, really\",pos\nbad,neg\n", ext: "csv")
        let data = try PrivateDataFile.load(url, task: twoLabels)
        #expect(data.examples.map(\.label) == ["pos", "neg"])
        #expect(data.examples[0].text == "good, really")
    }

    @Test(arguments: [
        (#"{"text": "a", "label": "pos"}"# + "\n" + #"{"label": "pos"}"#, 2, "text", "missing"),
        (#"{"text": "a", "label": "maybe"}"#, 1, "label", "not one of the task's labels; 5 characters"),
        (#"{"text": "   ", "label": "pos"}"#, 1, "text", "empty"),
        (#"{"text": "a", "label": 7}"#, 1, "label", "integer index outside 0..<2"),
        (#"{"text": "a", "label": true}"#, 1, "label", "must be a label name"),
        (#"{"text": "a"}"#, 1, "label", "missing"),
        (#"{"text": 3, "label": "pos"}"#, 1, "text", "must be a string"),
    ])
    func badLinesAreNamed(contents: String, line: Int, field: String, problem: String) throws {
        let url = try write(contents)
        do {
            _ = try PrivateDataFile.load(url, task: twoLabels)
            Issue.record("accepted bad data")
        } catch let error as FileProblem {
            #expect(error.file == url.path && error.line == line && error.field == field)
            #expect(error.problem.contains(problem), "\(error)")
        }
    }

    @Test func invalidJSONAndInvalidUTF8AreNamedWithoutQuotingText() throws {
        let json = try write(#"{"text": "ok", "label": "pos"}"# + "\n" + #"{"text": "secret stuff", "label": "#)
        #expect(throws: FileProblem(file: json.path, line: 2, problem: "invalid JSON or not a JSON object")) {
            try PrivateDataFile.load(json, task: twoLabels)
        }
        let utf8 = try writeBytes(Array(#"{"text": "ok", "label": "pos"}"#.utf8) + [10] + Array(#"{"text": "bad "#.utf8) + [0xC3, 0x28] + Array(#"", "label": "pos"}"#.utf8))
        do {
            _ = try PrivateDataFile.load(utf8, task: twoLabels)
            Issue.record("accepted invalid UTF-8")
        } catch let error as FileProblem {
            #expect(error.line == 2 && error.problem == "invalid UTF-8")
            #expect(!error.description.contains("bad"))
        }
    }

    @Test func csvWithoutTextColumnIsRefused() throws {
        let url = try write("body,label\nx,pos\n", ext: "csv")
        #expect(throws: FileProblem(file: url.path, line: 1, field: "text", problem: "no such column in the header")) {
            try PrivateDataFile.load(url, task: twoLabels)
        }
    }

    @Test func fingerprintIgnoresOrderAndFormatButNotContent() throws {
        let a = try PrivateDataFile.load(try write(#"{"text": "zebra", "label": "pos"}"# + "\n" + #"{"text": "y", "label": "neg"}"#), task: twoLabels)
        let b = try PrivateDataFile.load(try write("text,label_name\ny,neg\nzebra ,pos\n", ext: "csv"), task: twoLabels)
        let c = try PrivateDataFile.load(try write(#"{"text": "zebra", "label": "pos"}"# + "\n" + #"{"text": "z", "label": "neg"}"#), task: twoLabels)
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint != c.fingerprint)
        #expect(a.fingerprint.count == 64)
        #expect(!a.description.contains("zebra"))
    }
}

@Suite struct TaskFileTests {
    static let promptsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../prompts").standardized

    @Test(arguments: ["agnews", "trec", "dbpedia"])
    func shippedTasksLoad(name: String) throws {
        let task = try TaskFile.find(name, in: Self.promptsDirectory)
        #expect(task.name == name)
        #expect(task.generationHeader(label: task.labels[0]).hasSuffix(":"))
        #expect(task.classificationPrompt(demonstrations: [], query: "q").hasSuffix(":"))
    }

    @Test func shippedTasksMatchTheDataLabels() throws {
        let agnews = try TaskFile.find("agnews", in: Self.promptsDirectory)
        #expect(agnews.labels.map(\.name) == ["World", "Sports", "Business", "Sci/Tech"])
        let trec = try TaskFile.find("trec", in: Self.promptsDirectory)
        #expect(trec.labels.map(\.name) == ["ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"])
        #expect(trec.defaults == TaskDefaults(
            batches: .auto, batchSize: 1, maxTokens: 15, vocabulary: .full, topK: 100, sampling: .partition, maxExampleTokens: 40))
    }

    @Test func defaultsTakeAutoOrAPinnedBatchCount() throws {
        let auto = try write("name: t\nlabels: [{name: a, word: A}]\ngeneration: {instruction: x, example: '{label} {text}'}\nclassification: {instruction: y, example: '{text} {label}'}\ndefaults: {batches: auto, max_example_tokens: 30}\n", ext: "yaml")
        let task = try TaskFile.load(auto)
        #expect(task.defaults.batches == .auto && task.defaults.batchSize == 1 && task.defaults.maxExampleTokens == 30)
        #expect(task.defaults.sampling == .partition)
        let pinned = try write("name: t\nlabels: [{name: a, word: A}]\ngeneration: {instruction: x, example: '{label} {text}'}\nclassification: {instruction: y, example: '{text} {label}'}\ndefaults: {batches: 12, sampling: subsample}\n", ext: "yaml")
        #expect(try TaskFile.load(pinned).defaults.batches == .fixed(12))
        #expect(try TaskFile.load(pinned).defaults.sampling == .subsample)
        let bad = try write("name: t\nlabels: [{name: a, word: A}]\ngeneration: {instruction: x, example: '{label} {text}'}\nclassification: {instruction: y, example: '{text} {label}'}\ndefaults: {batches: many}\n", ext: "yaml")
        #expect { try TaskFile.load(bad) } throws: { "\($0)".contains("batches") && "\($0)".contains("auto") }
        let zero = try write("name: t\nlabels: [{name: a, word: A}]\ngeneration: {instruction: x, example: '{label} {text}'}\nclassification: {instruction: y, example: '{text} {label}'}\ndefaults: {max_example_tokens: 0}\n", ext: "yaml")
        #expect { try TaskFile.load(zero) } throws: { "\($0)".contains("max_example_tokens") }
    }

    @Test func badTaskFilesNameTheField() throws {
        let missing = try write("name: t\nlabels: [{name: a, word: A}]\ngeneration: {instruction: x, example: '{label} {text}'}\n", ext: "yaml")
        #expect(throws: FileProblem.self) { try TaskFile.load(missing) }
        do { _ = try TaskFile.load(missing) } catch { #expect("\(error)".contains("classification")) }
        let noPlaceholder = try write("name: t\nlabels: [{name: a, word: A}]\ngeneration: {instruction: x, example: '{label}'}\nclassification: {instruction: x, example: '{text} {label}'}\n", ext: "yaml")
        do { _ = try TaskFile.load(noPlaceholder); Issue.record("accepted") } catch { #expect("\(error)".contains("generation.example") && "\(error)".contains("{text}")) }
        #expect(throws: FileProblem.self) { try TaskFile.find("nonexistent", in: Self.promptsDirectory) }
    }
}
