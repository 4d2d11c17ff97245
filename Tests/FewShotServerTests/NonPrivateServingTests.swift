import FewShotCore
import FewShotData
import FewShotStore
import FewShotTestSupport
import Foundation
import Logging
import Testing
@testable import FewShotServer

/// `fewshot serve` serves only private demonstrations. A stored set or a file that is not private
/// (seeded noise, or epsilon = inf: no noise, so a text can copy a private example) is refused with
/// an error naming the field and the way out, unless its model says `allow_non_private: true`; then it
/// is served and the server warns at startup.
@Suite struct NonPrivateServingTests {
    let env = ["KEYS": "k"]

    static func config(_ demonstrations: String, allow: Bool = false) -> String {
        """
        server: {client_keys_env: KEYS}
        models:
          - name: s1
            task: sentiment
            upstream: {urls: ["http://127.0.0.1:8090/v1"], model: smol}
            demonstrations: \(demonstrations)
        \(allow ? "    allow_non_private: true" : "")
        """
    }

    static func set(epsilon: Double, seeded: Bool) -> DemonstrationSetRecord {
        DemonstrationSetRecord(
            id: "3f2a9c00-set", dataset: "public-id", task: "sentiment", labels: ["pos"],
            demonstrations: [.init(label: "pos", text: "Fine.")], epsilon: epsilon, delta: 1e-5, sigma: 0.5,
            mechanism: .gaussian, sampling: SetSampling(mode: .partition, scheme: .poisson), batches: 10, examplesPerBatch: 1, maxTokens: 5, model: "m", seeded: seeded)
    }

    func load(_ config: String, demos: String = "{\"label\":\"pos\",\"text\":\"Fine.\"}\n", set: DemonstrationSetRecord? = nil) throws -> ProxyConfiguration {
        let dir = try ConfigurationFileTests().directory(config: config, demos: demos)
        return try ProxyConfigurationFile.load(
            from: dir.appendingPathComponent("serve.yaml"), environment: env, taskLoader: ConfigurationFileTests.loadTask,
            demonstrationSetLoader: set.map { record in { (_: String) in record } })
    }

    func refusal(_ body: () throws -> ProxyConfiguration) -> FileProblem? {
        do {
            _ = try body()
            Issue.record("a non-private source was accepted")
            return nil
        } catch let error as FileProblem {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test(arguments: [(Double.infinity, false), (4.0, true), (Double.infinity, true)])
    func aStoredSetThatIsNotPrivateIsRefused(epsilon: Double, seeded: Bool) throws {
        let error = refusal { try load(Self.config("{set: 3f2a}"), set: Self.set(epsilon: epsilon, seeded: seeded)) }
        #expect(error?.field == "models[0].demonstrations.set")
        #expect(error?.problem.contains("NOT private") == true)
        #expect(error?.problem.contains("allow_non_private: true") == true)
    }

    @Test func aPrivateStoredSetIsServed() throws {
        let c = try load(Self.config("{set: 3f2a}"), set: Self.set(epsilon: 4, seeded: false))
        let model = try #require(c.model(named: "s1"))
        #expect(model.demonstrations == [Demonstration(label: "pos", text: "Fine.")])
        #expect(model.nonPrivateReason == nil)
    }

    @Test(arguments: [
        // `fewshot gen --epsilon inf --out`: its privacy record says so.
        "{\"type\":\"privacy\",\"epsilon\":\"inf\",\"private\":false}\n{\"type\":\"demonstration\",\"label\":\"pos\",\"text\":\"Fine.\"}\n",
        // `fewshot demos export` of an epsilon = inf set by an older fewshot, which wrote "private": true.
        "{\"label\":\"pos\",\"text\":\"Fine.\",\"epsilon\":\"inf\",\"private\":true,\"seeded\":false}\n",
        // A seeded export.
        "{\"label\":\"pos\",\"text\":\"Fine.\",\"epsilon\":4,\"private\":false,\"seeded\":true}\n",
        // `fewshot gen --seed 7 --out` by an older fewshot.
        "{\"type\":\"privacy\",\"epsilon\":4,\"seed\":7}\n{\"type\":\"demonstration\",\"label\":\"pos\",\"text\":\"Fine.\"}\n",
    ])
    func aFileThatSaysItIsNotPrivateIsRefused(demos: String) throws {
        let error = refusal { try load(Self.config("{file: demos.jsonl}"), demos: demos) }
        #expect(error?.field == "models[0].demonstrations.file")
        #expect(error?.problem.contains("demos.jsonl line 1") == true)
        #expect(error?.problem.contains("allow_non_private: true") == true)
    }

    @Test func aPrivateFileIsServed() throws {
        let demos = "{\"type\":\"privacy\",\"epsilon\":4,\"private\":true,\"seed\":null}\n{\"type\":\"demonstration\",\"label\":\"pos\",\"text\":\"Fine.\"}\n"
        let model = try #require(try load(Self.config("{file: demos.jsonl}"), demos: demos).model(named: "s1"))
        #expect(model.demonstrations.count == 1 && model.nonPrivateReason == nil)
    }

    @Test func allowNonPrivateServesItAndTheServerWarnsAtStartup() throws {
        let c = try load(Self.config("{set: 3f2a}", allow: true), set: Self.set(epsilon: .infinity, seeded: false))
        let model = try #require(c.model(named: "s1"))
        #expect(model.demonstrations.count == 1)
        #expect(model.nonPrivateReason?.contains("NOT private") == true)

        let logs = LogCapture()
        ProxyServer(configuration: c, logger: Logger(label: "serve-test") { _ in logs.handler }, store: nil).warnAboutNonPrivateModels()
        #expect(logs.text.contains("NOT differentially private"))
        #expect(logs.text.contains("s1"))
    }
}
