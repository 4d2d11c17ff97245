import FewShotCore
import Foundation
import Testing
@testable import FewShotData

let extractionTask = TaskTemplate(
    name: "movie", labels: [],
    generation: PromptFormat(instruction: "", example: "S: {text}\nG: {answer}\n\n"),
    classification: PromptFormat(instruction: "", example: "S: {text}\nG: {answer}\n\n"),
    defaults: TaskDefaults(answerMaxTokens: 10), kind: .extraction)

@Suite struct ExtractionDataFileTests {
    @Test func readsJSONLSentencesWithAnswersIntoOneGroup() throws {
        let url = try write(#"""
        {"text": "a scary film from 1980", "answer": "scary"}

        {"text": "a funny one", "answer": "funny", "label": "ignored"}
        """#)
        let data = try PrivateDataFile.load(url, task: extractionTask)
        #expect(data.examples == [LabeledExample(text: "a scary film from 1980", answer: "scary"), LabeledExample(text: "a funny one", answer: "funny")])
        #expect(data.countsByLabel == [TaskTemplate.extractionGroup: 2])
        #expect(!data.description.contains("scary"))
    }

    @Test func readsCSV() throws {
        let url = try write("text,answer\n\"a film, scary\",scary\nfunny one,funny\n", ext: "csv")
        let data = try PrivateDataFile.load(url, task: extractionTask)
        #expect(data.examples == [LabeledExample(text: "a film, scary", answer: "scary"), LabeledExample(text: "funny one", answer: "funny")])
    }

    @Test(arguments: [
        (#"{"text": "secret one", "answer": "x"}"# + "\n" + #"{"text": "secret two"}"#, 2, "answer", "missing"),
        (#"{"text": "secret one", "answer": "  "}"#, 1, "answer", "empty"),
        (#"{"text": " ", "answer": "secret"}"#, 1, "text", "empty"),
        (#"{"text": "secret one", "answer": 3}"#, 1, "answer", "must be a string"),
        (#"{"answer": "secret"}"#, 1, "text", "missing"),
    ])
    func badLinesAreNamedWithoutQuotingText(contents: String, line: Int, field: String, problem: String) throws {
        let url = try write(contents)
        do {
            _ = try PrivateDataFile.load(url, task: extractionTask)
            Issue.record("accepted bad data")
        } catch let error as FileProblem {
            #expect(error.file == url.path && error.line == line && error.field == field)
            #expect(error.problem.contains(problem), "\(error)")
            #expect(!error.description.contains("secret"))
        }
    }

    @Test func csvProblemsAreNamed() throws {
        let noAnswer = try write("text,label\nsecret,pos\n", ext: "csv")
        #expect(throws: FileProblem(file: noAnswer.path, line: 1, field: "answer", problem: "no such column in the header")) {
            try PrivateDataFile.load(noAnswer, task: extractionTask)
        }
        let emptyAnswer = try write("text,answer\nsecret one,x\nsecret two,\n", ext: "csv")
        #expect(throws: FileProblem(file: emptyAnswer.path, line: 3, field: "answer", problem: "empty")) {
            try PrivateDataFile.load(emptyAnswer, task: extractionTask)
        }
    }

    @Test func invalidUTF8IsNamed() throws {
        let url = try writeBytes(Array(#"{"text": "ok", "answer": "a"}"#.utf8) + [10] + Array(#"{"text": "secret "#.utf8) + [0xC3, 0x28] + Array(#"", "answer": "a"}"#.utf8))
        #expect(throws: FileProblem(file: url.path, line: 2, problem: "invalid UTF-8")) {
            try PrivateDataFile.load(url, task: extractionTask)
        }
    }

    @Test func fingerprintCoversAnswersAndLeavesClassificationUnchanged() throws {
        let a = DatasetFingerprint.of([LabeledExample(text: "s", answer: "x")])
        #expect(a != DatasetFingerprint.of([LabeledExample(text: "s", answer: "y")]))
        #expect(a == DatasetFingerprint.of([LabeledExample(text: " s", answer: "x ")]))
        // The classification fingerprint as computed before extraction existed (SHA-256 over the
        // length-prefixed label and text of the examples sorted by label and text).
        let classification = [LabeledExample(text: "great", label: "pos"), LabeledExample(text: "awful", label: "neg")]
        #expect(DatasetFingerprint.of(classification) == "7c2dbff0610989e7c600797a7f5d2bb76955ad51e17290af7c70a1264039801e")
    }
}
