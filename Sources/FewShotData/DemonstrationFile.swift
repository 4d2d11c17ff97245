import FewShotCore
import Foundation

/// Reads a demonstrations file: JSON Lines of ``DemonstrationLine``, as `fewshot gen --out` and
/// `fewshot demos export` write them. Lines that hold no demonstration (such as the privacy record
/// that `fewshot gen` writes first) are skipped; blank lines too.
///
/// Guarantee: returns every demonstration in file order, or throws a ``FileProblem`` naming the
/// file, line and field. The file holds DP output (public), so errors may quote labels.
/// ``load(_:)`` also reports whether a line of the file says its demonstrations are not private
/// (`fewshot gen --out` and `fewshot demos export` write `"private"`, `"epsilon"` and the seed).
public enum DemonstrationFile {
    /// The demonstrations of a file and, when one of its lines says they are not private, why.
    /// A file without any privacy statement (hand-written demonstrations) has no reason.
    public struct Contents: Sendable {
        public var demonstrations: [Demonstration]
        public var nonPrivateReason: String?
    }

    public static func read(_ url: URL) throws -> [Demonstration] {
        try load(url).demonstrations
    }

    public static func load(_ url: URL) throws -> Contents {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw FileProblem(file: url.path, line: nil, problem: FileReading.problem(url, error))
        }
        return try contents(data, file: url.path)
    }

    public static func parse(_ data: Data, file: String) throws -> [Demonstration] {
        try contents(data, file: file).demonstrations
    }

    static func contents(_ data: Data, file: String) throws -> Contents {
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileProblem(file: file, line: nil, problem: "invalid UTF-8")
        }
        var out: [Demonstration] = []
        var nonPrivate: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let trimmed = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            do {
                let line = try DemonstrationLine.decode(Substring(trimmed)).get()
                if nonPrivate == nil, let statement = line.nonPrivateStatement { nonPrivate = "line \(lineNumber) \(statement)" }
                if line.holdsDemonstration { out.append(try line.demonstration().get()) }
            } catch {
                throw FileProblem(file: file, line: lineNumber, field: error.field, problem: error.problem)
            }
        }
        return Contents(demonstrations: out, nonPrivateReason: nonPrivate)
    }
}
