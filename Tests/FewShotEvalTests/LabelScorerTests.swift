import FewShotCore
import FewShotTestSupport
import Foundation
import Testing
@testable import FewShotEval

@Suite struct LabelScorerTests {
    @Test func singleTokenLabelsAreScoredByTheirToken() async throws {
        let model = Toy.model()
        let tokenization = try await LabelTokenization.discover(task: Toy.task, model: model)
        #expect(tokenization.labelTokens.map { $0.map(\.text) } == [[" World"], [" Sports"]])
        #expect(tokenization.firstTokenSuffices)
        let scorer = LabelScorer(task: Toy.task, model: model, tokenization: tokenization)
        let before = model.requests.count
        let p = try await scorer.labelProbabilities(demonstrations: [], query: "election day")
        #expect(abs(p[0] - 0.9) < 1e-12 && abs(p[1] - 0.1) < 1e-12)
        let requests = model.requests
        #expect(requests.count == before + 1)
        #expect(requests.last?.cachePrompt == true && requests.last?.slot == 0)
    }

    /// Labels "NUM" and "NAME" share their first token " N": each is scored by its whole word,
    /// P(" N") * P(rest | " N"), through a chained request.
    @Test func labelsSharingAFirstTokenAreScoredByWholeWords() async throws {
        let task = TaskTemplate(
            name: "names", labels: [TaskLabel(name: "num", word: "NUM"), TaskLabel(name: "name", word: "NAME")],
            generation: Toy.task.generation, classification: Toy.task.classification)
        let model = Toy.fake({ prompt in
            switch prompt.continuation.map(\.text) {
            case []: return [" N": 0.8, " X": 0.2]
            case [" N"]: return ["UM": 0.3, "AME": 0.6, "O": 0.1]
            default: return ["\n": 1]
            }
        })
        let tokenization = try await LabelTokenization.discover(task: task, model: model)
        #expect(tokenization.labelTokens.map { $0.map(\.text) } == [[" N", "UM"], [" N", "AME"]])
        #expect(!tokenization.firstTokenSuffices)
        let scorer = LabelScorer(task: task, model: model, tokenization: tokenization)
        let before = model.requests.count
        let p = try await scorer.labelProbabilities(demonstrations: [], query: "q")
        #expect(abs(p[0] - 0.24) < 1e-12 && abs(p[1] - 0.48) < 1e-12)
        // One request for the first token (shared), one for the continuation after " N".
        #expect(model.requests.count == before + 2)
    }

    @Test func longestMatchingTokenIsPreferred() async throws {
        let model = Toy.fake({ prompt in
            prompt.continuation.isEmpty ? [" W": 0.5, " World": 0.3, " Sports": 0.2] : ["orld": 1]
        })
        let tokenization = try await LabelTokenization.discover(task: Toy.task, model: model)
        #expect(tokenization.labelTokens.map { $0.map(\.text) } == [[" World"], [" Sports"]])
    }

    /// Top-2 lists World 0.6 and "the" 0.3; Sports is unlisted, so its probability is at most
    /// min(0.3, 1 - 0.9) = 0.1.
    @Test func unlistedLabelGetsAnUpperBoundOfItsProbability() async throws {
        let tokenization = LabelTokenization(labelTokens: [[Token(id: 0, text: " World")], [Token(id: 1, text: " Sports")]])
        let model = Toy.fake({ _ in [" World": 0.6, " the": 0.3, ",": 0.1] })
        let scorer = LabelScorer(task: Toy.task, model: model, tokenization: tokenization, topK: 2)
        let p = try await scorer.labelProbabilities(demonstrations: [], query: "x")
        #expect(abs(p[0] - 0.6) < 1e-12)
        #expect(abs(p[1] - 0.1) < 1e-12)
    }

    @Test func unproducibleLabelWordIsAClearError() async throws {
        let model = Toy.fake({ _ in [" World": 0.9, " the": 0.1] })
        await #expect(throws: EvalError.self) {
            _ = try await LabelTokenization.discover(task: Toy.task, model: model)
        }
        do {
            _ = try await LabelTokenization.discover(task: Toy.task, model: model)
        } catch {
            #expect("\(error)".contains("label 'Sports'"))
        }
    }
}
