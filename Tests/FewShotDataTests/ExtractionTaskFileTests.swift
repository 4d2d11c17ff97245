import FewShotCore
import Foundation
import Testing
@testable import FewShotData

@Suite struct ExtractionTaskFileTests {
    @Test(arguments: [("mit-g", "Genre"), ("mit-d", "Director")])
    func shippedExtractionTasksLoadWithThePapersDefaults(name: String, field: String) throws {
        let task = try TaskFile.find(name, in: TaskFileTests.promptsDirectory)
        #expect(task.name == name && task.kind == .extraction && task.labels.isEmpty)
        #expect(task.defaults == TaskDefaults(
            batches: 20, batchSize: 4, maxTokens: 20, vocabulary: .rvp, topK: 100, answerMaxTokens: 10, sampling: .partition, maxExampleTokens: 40))
        #expect(task.sentenceHeader == "Sentence:")
        #expect(task.answerHeader == "\n\(field):")
        #expect(task.classificationPrompt(demonstrations: [Demonstration(label: "", text: "s", answer: "a")], query: "q")
            == "Sentence: s\n\(field): a\n\nSentence: q\n\(field):")
    }

    @Test(arguments: ["agnews", "trec", "dbpedia"])
    func classificationTasksStayClassification(name: String) throws {
        let task = try TaskFile.find(name, in: TaskFileTests.promptsDirectory)
        #expect(task.kind == .classification && task.defaults.answerMaxTokens == nil)
    }

    @Test func answerLengthDefaultsToTen() throws {
        let url = try write(extractionTaskFile(), ext: "yaml")
        let task = try TaskFile.load(url)
        #expect(task.defaults.answerMaxTokens == 10 && task.defaults.maxTokens == 100)
    }

    @Test(arguments: [
        (extractionTaskFile(generation: #"generation: {instruction: "", example: "S: {text}\n\n"}"#), "'generation.example' has no {answer}"),
        (extractionTaskFile(generation: #"generation: {instruction: "", example: "G: {answer}\nS: {text}\n"}"#), "{text} before {answer}"),
        (extractionTaskFile(generation: #"generation: {instruction: "", example: "{label} {text} {answer}"}"#), "'generation.example' has a {label}"),
        (extractionTaskFile(answering: #"extraction: {instruction: "", example: "S: {text}\n"}"#), "'extraction.example' has no {answer}"),
        (extractionTaskFile(answering: ""), "missing field 'extraction'"),
        (extractionTaskFile(answering: #"classification: {instruction: "", example: "{text} {label}"}"#), "field 'classification'"),
        (extractionTaskFile(labels: "labels: [{name: a, word: A}]\n"), "field 'labels'"),
        (extractionTaskFile(defaults: "defaults: {answer_max_tokens: 0}\n"), "field 'defaults.answer_max_tokens' must be at least 1, got 0"),
        (extractionTaskFile(defaults: "defaults: {answer_max_tokens: 100001}\n"), "field 'defaults.answer_max_tokens' must be at most 100000"),
        (extractionTaskFile(defaults: "defaults: {max_tokens: 4000000000000}\n"), "field 'defaults.max_tokens' must be at most 100000, got 4000000000000"),
        (extractionTaskFile(kind: "kind: regression\n"), "kind"),
        (extractionTaskFile(kind: "", generation: #"generation: {instruction: "", example: "{label} {text}"}"#,
              answering: #"extraction: {instruction: "", example: "{text} {answer}"}"#), "missing field 'labels'"),
        (extractionTaskFile(kind: "", labels: "labels: [{name: a, word: A}]\n", generation: #"generation: {instruction: "", example: "{label} {text}"}"#,
              answering: #"classification: {instruction: "", example: "{text} {label}"}"#, defaults: "defaults: {answer_max_tokens: 5}\n"),
         "'defaults.answer_max_tokens' is only for 'kind: extraction'"),
        (extractionTaskFile(kind: "", labels: "labels: [{name: a, word: A}]\n", generation: #"generation: {instruction: "", example: "{label} {text}"}"#,
              answering: #"classification: {instruction: "", example: "{text} {label}"}"# + "\n" + #"extraction: {instruction: "", example: "{text} {answer}"}"#),
         "'extraction' is only for 'kind: extraction'"),
    ])
    func badExtractionTaskFilesNameTheFileAndField(contents: String, problem: String) throws {
        let url = try write(contents, ext: "yaml")
        do {
            _ = try TaskFile.load(url)
            Issue.record("accepted a bad task file")
        } catch let error as FileProblem {
            #expect(error.file == url.path)
            #expect(error.description.contains(problem), "\(error)")
        }
    }
}

/// A task file (YAML) with one part changed from a valid extraction task.
func extractionTaskFile(
    kind: String = "kind: extraction\n", labels: String = "",
    generation: String = #"generation: {instruction: "w\n", example: "S: {text}\nG: {answer}\n\n"}"#,
    answering: String = #"extraction: {instruction: "", example: "S: {text}\nG: {answer}\n\n"}"#, defaults: String = ""
) -> String {
    kind + "name: t\n" + labels + generation + "\n" + answering + "\n" + defaults
}
