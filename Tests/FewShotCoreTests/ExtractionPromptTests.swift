import Foundation
import Testing
import FewShotCore

@Suite struct ExtractionPromptTests {
    @Test func headersComeFromTheGenerationExample() {
        #expect(movieTask.sentenceHeader == "Sentence:")
        #expect(movieTask.answerHeader == "\nGenre:")
        #expect(movieTask.publicExtractionGenerationPrompt == "Write about films.\n\nSentence:")
    }

    @Test func demonstrationsRenderWithTheirAnswersAndTheQueryStopsBeforeTheAnswer() {
        let demos = [Demonstration(label: "", text: "a scary film", answer: "horror"), Demonstration(label: "", text: "b", answer: "{text}")]
        #expect(movieTask.renderedDemonstrations(demos) == "Sentence: a scary film\nGenre: horror\n\nSentence: b\nGenre: {text}\n\n")
        #expect(movieTask.classificationPrompt(demonstrations: demos, query: "q")
            == "Sentence: a scary film\nGenre: horror\n\nSentence: b\nGenre: {text}\n\nSentence: q\nGenre:")
    }

    @Test func classificationTasksEncodeAsBeforeAndExtractionTasksRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let classification = String(decoding: try encoder.encode(toyTask), as: UTF8.self)
        #expect(!classification.contains("kind"))
        #expect(try JSONDecoder().decode(TaskTemplate.self, from: Data(classification.utf8)) == toyTask)
        let extraction = try encoder.encode(movieTask)
        #expect(String(decoding: extraction, as: UTF8.self).contains(#""kind":"extraction""#))
        #expect(try JSONDecoder().decode(TaskTemplate.self, from: extraction) == movieTask)
        // Demonstrations without an answer encode as before.
        #expect(String(decoding: try encoder.encode(Demonstration(label: "pos", text: "x")), as: UTF8.self) == #"{"label":"pos","text":"x"}"#)
    }

    @Test func privateExamplesDoNotShowTheirAnswers() {
        let example = LabeledExample(text: "secret sentence", answer: "secret answer")
        #expect(example.label == TaskTemplate.extractionGroup)
        #expect(!example.description.contains("secret"))
    }
}
