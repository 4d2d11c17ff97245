import FewShotCore
import FewShotData
import FewShotSelection
import FewShotStore
import Foundation
import Testing
@testable import FewShotServer

/// `demonstrations: {file|set|inline, select: {k, by, balanced}}`: read into the model's selector, with
/// defaults; each bad value refused naming the file and the key. Without `select` nothing changes.
@Suite struct SelectionConfigurationTests {
    let env = ["KEYS": "k"]
    static let demos = "{\"epsilon\": 4}\n{\"label\":\"pos\",\"text\":\"Fine.\"}\n{\"label\":\"neg\",\"text\":\"Bad.\"}\n{\"label\":\"pos\",\"text\":\"Great fun.\"}\n"

    static func config(_ demonstrations: String) -> String {
        """
        server: {client_keys_env: KEYS}
        models:
          - name: s1
            task: sentiment
            upstream: {urls: ["http://127.0.0.1:8090/v1"], model: smol}
            demonstrations: \(demonstrations)
        """
    }

    static let set = DemonstrationSetRecord(
        id: "3f2a9c00-set", dataset: "public-id", task: "sentiment", labels: ["pos", "neg"],
        demonstrations: [.init(label: "pos", text: "Fine."), .init(label: "neg", text: "Bad."), .init(label: "neg", text: "Awful.")],
        epsilon: 4, delta: 1e-5, sigma: 0.5, mechanism: .gaussian, sampling: SetSampling(mode: .partition, scheme: .poisson), batches: 10, examplesPerBatch: 1,
        maxTokens: 5, model: "m", seeded: false)

    func load(_ demonstrations: String) throws -> ServedModel {
        let dir = try ConfigurationFileTests().directory(config: Self.config(demonstrations), demos: Self.demos)
        let configuration = try ProxyConfigurationFile.load(
            from: dir.appendingPathComponent("serve.yaml"), environment: env, taskLoader: ConfigurationFileTests.loadTask,
            demonstrationSetLoader: { _ in Self.set })
        return try #require(configuration.model(named: "s1"))
    }

    @Test func aFileWithSelectBecomesAPool() throws {
        let model = try load("{file: demos.jsonl, select: {k: 2, by: similarity}}")
        let selector = try #require(model.selector)
        #expect(selector.rule == DemonstrationSelection(k: 2, by: .similarity, balanced: true))
        #expect(selector.pool.count == 3)
        #expect(model.demonstrationText(for: "great fun") == ProxyHarness.task.renderedDemonstrations([
            Demonstration(label: "neg", text: "Bad."), Demonstration(label: "pos", text: "Great fun."),
        ]))
        // What a request without common words gets, and what the model reports as its rendering.
        #expect(model.renderedDemonstrations == ProxyHarness.task.renderedDemonstrations([
            Demonstration(label: "pos", text: "Fine."), Demonstration(label: "neg", text: "Bad."),
        ]))
    }

    @Test func aStoredSetAndInlineDemonstrationsCanSelectToo() throws {
        let fromSet = try load("{set: 3f2a, select: {k: 1, balanced: false}}")
        #expect(fromSet.selector?.rule == DemonstrationSelection(k: 1, by: .similarity, balanced: false))
        #expect(fromSet.demonstrationSource == "set:3f2a9c00-set")
        #expect(fromSet.selector?.select(for: "awful") == [Demonstration(label: "neg", text: "Awful.")])
        let inline = try load("\n      inline: [{label: pos, text: \"Fine.\"}]\n      select: {}")
        #expect(inline.selector?.rule == DemonstrationSelection())
        #expect(inline.selector?.rule.k == 4 && inline.selector?.rule.balanced == true)
    }

    @Test func withoutSelectTheSetIsFixedAsBefore() throws {
        let model = try load("{file: demos.jsonl}")
        #expect(model.selector == nil)
        #expect(model.demonstrations.count == 3)
        #expect(model.demonstrationText(for: "great fun") == ProxyHarness.task.renderedDemonstrations(model.demonstrations))
        #expect(model.renderedDemonstrations == ProxyHarness.task.renderedDemonstrations(model.demonstrations))
    }

    func refusal(_ demonstrations: String) -> FileProblem? {
        do {
            _ = try load(demonstrations)
            Issue.record("accepted \(demonstrations)")
            return nil
        } catch let error as FileProblem {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test(arguments: [
        ("{file: demos.jsonl, select: {k: 0}}", "models[0].demonstrations.select.k", "0 is not a positive number"),
        ("{file: demos.jsonl, select: {k: -3}}", "models[0].demonstrations.select.k", "-3 is not a positive number"),
        ("{file: demos.jsonl, select: {by: embeddings}}", "models[0].demonstrations.select.by", "embeddings are not supported yet; use by: similarity"),
        ("{file: demos.jsonl, select: {by: cosine}}", "models[0].demonstrations.select.by", "'cosine' is not a selection method; use one of: similarity"),
    ])
    func badValuesNameTheKey(demonstrations: String, field: String, problem: String) throws {
        let error = try #require(refusal(demonstrations))
        #expect(error.field == field)
        #expect(error.problem.contains(problem), "\(error)")
        #expect(error.description.contains("serve.yaml: field '\(field)': "), "\(error)")
    }

    @Test(arguments: [
        ("{file: demos.jsonl, select: {k: four}}", "models[0].demonstrations.select.k"),
        ("{file: demos.jsonl, select: {k: 2.5}}", "models[0].demonstrations.select.k"),
        ("{file: demos.jsonl, select: {balanced: maybe}}", "models[0].demonstrations.select.balanced"),
        ("{file: demos.jsonl, select: 4}", "models[0].demonstrations.select"),
    ])
    func wrongTypesNameTheKeyAndLine(demonstrations: String, field: String) throws {
        let error = try #require(refusal(demonstrations))
        #expect(error.field == field, "\(error)")
        #expect(error.line == 6, "\(error)")
        #expect(error.description.hasPrefix(error.file + ":6"), "\(error)")
    }

    @Test func anUnknownKeyIsRefusedWithTheNearestOne() throws {
        let error = try #require(refusal("{file: demos.jsonl, select: {k: 2, balance: false}}"))
        #expect(error.line == 6, "\(error)")
        #expect(error.description.contains("balance") && error.description.contains("did you mean 'balanced'"), "\(error)")
        let misplaced = try #require(refusal("{file: demos.jsonl, k: 2}"))
        #expect(misplaced.description.contains("unknown key"), "\(misplaced)")
    }

    @Test func selectAloneIsNotASource() throws {
        let error = try #require(refusal("{select: {k: 2}}"))
        #expect(error.field == "models[0].demonstrations" && error.problem.contains("exactly one of file, set, inline"))
    }
}
