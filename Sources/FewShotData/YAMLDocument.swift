import FewShotCore
import Foundation
import Yams

/// The keys a YAML (or JSON) document may hold, nested as the document is: a typo such as
/// `temprature:` or `max_body_byte:` is refused instead of silently falling back to a default.
public indirect enum KeySchema: Sendable {
    /// A mapping with exactly these keys (each optional here; the decoder says what is required).
    case mapping([String: KeySchema])
    /// A list whose items follow the schema.
    case list(KeySchema)
    /// Any value; its keys (if any) are not checked.
    case value
}

/// A problem at a place in a YAML or JSON document: line and column (1-based, from Yams' marks,
/// where Yams has one) and the field as a dotted path.
public struct DocumentProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int?
    public var column: Int?
    public var field: String?
    public var problem: String

    public init(line: Int? = nil, column: Int? = nil, field: String? = nil, problem: String) {
        self.line = line
        self.column = column
        self.field = field
        self.problem = problem
    }

    /// `line:column: field 'x': problem` (parts that are unknown are left out).
    public var description: String {
        var parts: [String] = []
        if let line { parts.append(column.map { "\(line):\($0)" } ?? "\(line)") }
        if let field { parts.append("field '\(field)'") }
        parts.append(problem)
        return parts.joined(separator: ": ")
    }
}

/// Reads configuration-like YAML (or JSON) documents: task files and the serve configuration.
///
/// Guarantee: a syntax error names its line and column; an empty document says so; an unknown key
/// is refused naming the key, its place and the nearest valid key; a value of the wrong type names
/// the field and, where Yams knows it, the line.
public enum YAMLDocument {
    public static func decode<T: Decodable>(_ type: T.Type, from text: String, schema: KeySchema, whatItHolds: String) throws -> T {
        let node: Node?
        do {
            // The resolver YAMLDecoder uses for text, so that the values decode as they did before.
            node = try Yams.compose(yaml: text, Resolver.basic.appending(.merge))
        } catch let error as YamlError {
            throw syntaxProblem(error)
        }
        guard let node else { throw DocumentProblem(problem: "the file is empty; it should hold \(whatItHolds)") }
        guard node.mapping != nil else {
            throw DocumentProblem(line: node.mark?.line, column: node.mark?.column, problem: "expected a mapping of keys; it should hold \(whatItHolds)")
        }
        try checkKeys(node, schema, path: [])
        do {
            return try YAMLDecoder().decode(T.self, from: node)
        } catch let error as DecodingError {
            let (field, problem) = DecodingErrorDescription.describe(error)
            let mark = Self.node(at: codingPath(of: error), in: node)?.mark
            throw DocumentProblem(line: mark?.line, column: mark?.column, field: field, problem: problem)
        }
    }

    static func syntaxProblem(_ error: YamlError) -> DocumentProblem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return DocumentProblem(line: mark.line, column: mark.column, problem: "not valid YAML: \(problem)\(while_)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return DocumentProblem(
                line: context.mark.line, column: context.mark.column,
                problem: "key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) appears twice in one mapping; keep one")
        case .reader(let problem, _, _, _):
            return DocumentProblem(problem: "not valid YAML text: \(problem)")
        default:
            return DocumentProblem(problem: "not valid YAML")
        }
    }

    static func checkKeys(_ node: Node, _ schema: KeySchema, path: [String]) throws {
        switch schema {
        case .value:
            return
        case .list(let item):
            guard let sequence = node.sequence else { return }  // the decoder reports the wrong type
            for (index, child) in sequence.enumerated() {
                var childPath = path.isEmpty ? [""] : path
                childPath[childPath.count - 1] += "[\(index)]"
                try checkKeys(child, item, path: childPath)
            }
        case .mapping(let keys):
            guard let mapping = node.mapping else { return }
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? ""
                guard let child = keys[key] else {
                    let at = path.joined(separator: ".")
                    let nearest = Self.nearest(to: key, in: Array(keys.keys))
                    throw DocumentProblem(
                        line: keyNode.mark?.line, column: keyNode.mark?.column, field: at.isEmpty ? key : "\(at).\(key)",
                        problem: "unknown key\(nearest.map { "; did you mean '\($0)'?" } ?? "") (keys \(at.isEmpty ? "at the top level" : "of '\(at)'"): \(keys.keys.sorted().joined(separator: ", ")))")
                }
                try checkKeys(value, child, path: path + [key])
            }
        }
    }

    /// The valid key with the smallest edit distance to `key` (ties: the first in sorted order).
    public static func nearest(to key: String, in candidates: [String]) -> String? {
        candidates.sorted().min { editDistance(key, $0) < editDistance(key, $1) }
    }

    /// Levenshtein distance over characters.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    static func codingPath(of error: DecodingError) -> [any CodingKey] {
        switch error {
        case .keyNotFound(_, let context): return context.codingPath
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): return context.codingPath
        @unknown default: return []
        }
    }

    /// The node a coding path leads to (as far as it exists), for its mark.
    static func node(at path: [any CodingKey], in root: Node) -> Node? {
        var current = root
        for key in path {
            if let index = key.intValue, let sequence = current.sequence, sequence.indices.contains(index) {
                current = sequence[index]
            } else if let child = current.mapping?[key.stringValue] {
                current = child
            } else {
                return current
            }
        }
        return current
    }
}
