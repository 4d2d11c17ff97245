import FewShotCore
import Foundation
import Testing
@testable import FewShotData

/// The demonstration line: files in the format fewshot writes today load, what the writer writes
/// reads back as the same demonstrations, and a bad line is named by file, line and field.
@Suite struct DemonstrationFileTests {
    /// A line of `fewshot demos export` as fewshot writes it today (keys sorted, ISO 8601 date).
    static let exportedLine = #"{"accountant":"pld","created":"2026-11-30T12:00:00Z","dataset":"ds-3f2a","delta":1e-05,"epsilon":4,"label":"pos","m":10,"mechanism":"gaussian","model":"smol","n":1,"private":true,"sampling":"partition","seeded":false,"set":"3f2a9c00","sigma":0.5,"t":5,"task":"sentiment","text":"Fine."}"#

    /// `fewshot gen --out` of an extraction task as fewshot writes it today: the privacy record,
    /// then lines with an answer and no label.
    static let generatedExtraction = """
        {"M":10,"N":1,"T":5,"T_answer":3,"accountant":"pld","epsilon":4,"private":true,"seeded_noise":false,"sigma":0.5,"task":"movie","type":"privacy"}
        {"answer":"Alien","text":"Which film has the Nostromo?","type":"demonstration"}
        {"answer":"Heat","text":"Which film has De Niro and Pacino?","type":"demonstration"}

        """

    func load(_ contents: String) throws -> DemonstrationFile.Contents {
        try DemonstrationFile.load(try write(contents))
    }

    func error(_ contents: String) -> FileProblem? {
        do {
            _ = try load(contents)
            Issue.record("accepted \(contents)")
            return nil
        } catch {
            return error as? FileProblem
        }
    }

    @Test func readsALineOfTodaysExportFormat() throws {
        let contents = try load(Self.exportedLine + "\n")
        #expect(contents.demonstrations == [Demonstration(label: "pos", text: "Fine.")])
        #expect(contents.nonPrivateReason == nil)
    }

    @Test func writesTheExportFormatByteForByte() throws {
        var line = DemonstrationLine(Demonstration(label: "pos", text: "Fine."))
        (line.accountant, line.dataset, line.delta, line.epsilon, line.m, line.mechanism, line.model) = ("pld", "ds-3f2a", 1e-5, 4, 10, "gaussian", "smol")
        (line.n, line.private, line.sampling, line.seeded, line.set, line.sigma, line.t, line.task) = (1, true, "partition", false, "3f2a9c00", 0.5, 5, "sentiment")
        line.created = Date(timeIntervalSince1970: 1_796_040_000)  // 2026-11-30T12:00:00Z
        #expect(try DemonstrationLine.encoded(line) == Self.exportedLine)
    }

    @Test func readsAGeneratedExtractionFileWithoutLabels() throws {
        let contents = try load(Self.generatedExtraction)
        #expect(contents.demonstrations == [
            Demonstration(label: TaskTemplate.extractionGroup, text: "Which film has the Nostromo?", answer: "Alien"),
            Demonstration(label: TaskTemplate.extractionGroup, text: "Which film has De Niro and Pacino?", answer: "Heat"),
        ])
    }

    @Test func whatTheWriterWritesReadsBackTheSame() throws {
        let demonstrations = [
            Demonstration(label: "pos", text: "A \"quoted\" line/with a slash."),
            Demonstration(label: TaskTemplate.extractionGroup, text: "Which film?", answer: "Alien"),
        ]
        let lines = try demonstrations.map { try DemonstrationLine.encoded(DemonstrationLine($0, type: "demonstration")) }
        #expect(!lines[1].contains("\"label\""), "an extraction line has no label: \(lines[1])")
        #expect(try load(DemonstrationLine.file(lines)).demonstrations == demonstrations)
    }

    @Test func anInfiniteEpsilonSaysNotPrivate() throws {
        let contents = try load(#"{"type":"privacy","epsilon":"inf"}"# + "\n" + #"{"type":"demonstration","label":"pos","text":"Fine."}"#)
        #expect(contents.nonPrivateReason == "line 1 says epsilon = inf (no noise)")
        #expect(contents.demonstrations.count == 1)
    }

    struct BadLine: Sendable, CustomTestStringConvertible {
        var contents: String, line: Int, field: String, problem: String
        var testDescription: String { "\(field): \(problem)" }
    }

    @Test(arguments: [
        BadLine(contents: #"{"label":"pos","text":"ok"}"# + "\n" + #"{"label":"pos"}"#, line: 2, field: "text", problem: "missing or empty"),
        BadLine(contents: #"{"text":"ok"}"#, line: 1, field: "label", problem: "missing or empty (or give an answer, for an extraction task)"),
        BadLine(contents: #"{"label":"pos","answer":"Alien","text":"ok"}"#, line: 1, field: "label",
                problem: "an extraction demonstration (one with an answer) has no label; remove one of them"),
        BadLine(contents: #"{"label":3,"text":"ok"}"#, line: 1, field: "label", problem: "expected a string"),
        BadLine(contents: #"{"answer":"","text":"ok"}"#, line: 1, field: "answer", problem: "empty"),
    ])
    func aBadLineIsNamedByLineAndField(bad: BadLine) throws {
        let e = try #require(error(bad.contents))
        #expect(e.line == bad.line && e.field == bad.field && e.problem == bad.problem, "\(e)")
        #expect(e.description.hasSuffix(".jsonl:\(bad.line): field '\(bad.field)': \(bad.problem)"))
    }

    @Test(arguments: ["not json", #"["pos", "Fine."]"#, "3"])
    func aLineThatIsNotAnObjectIsNamed(contents: String) throws {
        let e = try #require(error(contents))
        #expect(e.line == 1 && e.field == nil && e.problem == "not a JSON object", "\(e)")
    }
}
