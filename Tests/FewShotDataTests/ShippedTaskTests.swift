import FewShotCore
import Foundation
import Testing
@testable import FewShotData

/// Issue 15: built-in tasks work from any directory; `--prompts` adds to and overrides them.
@Suite struct ShippedTaskTests {
    func emptyDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-prompts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func aShippedTaskIsFoundWithoutItsDirectory() throws {
        let task = try TaskFile.find("trec", in: try emptyDirectory())
        #expect(task.name == "trec")
        #expect(task.labels.map(\.name).contains("ABBR"))
    }

    @Test func theGivenDirectoryOverridesAndAdds() throws {
        let directory = try emptyDirectory()
        let shipped = try TaskFile.find("trec", in: directory)
        let source = try #require(TaskFile.shippedDirectories.map { $0.appendingPathComponent("trec.yaml") }.first { FileManager.default.fileExists(atPath: $0.path) })
        let text = try String(contentsOf: source, encoding: .utf8).replacingOccurrences(of: "{name: ABBR, word: Abbreviation}", with: "{name: ABBR, word: Acronym}")
        try text.write(to: directory.appendingPathComponent("trec.yaml"), atomically: true, encoding: .utf8)
        let overridden = try TaskFile.find("trec", in: directory)
        #expect(overridden.label(named: "ABBR")?.word == "Acronym")
        #expect(shipped.label(named: "ABBR")?.word == "Abbreviation")
        let missing = #expect(throws: FileProblem.self) { try TaskFile.find("no-such-task", in: directory) }
        #expect(missing.map { "\($0)" }?.contains("agnews") == true, "the error lists the shipped tasks too")
    }
}
