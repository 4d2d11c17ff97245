import Foundation

/// One description of a `DecodingError` for every reader of JSON or YAML (task files, the serve
/// configuration, request bodies, job requests, demonstration lines, LLM answers): the field as a dotted path (`models[0].task`) and
/// the problem in the file's words ("expected an object", not "Dictionary<String, Any>").
///
/// Guarantee: the text is built from the coding path and the expected type only; it never contains
/// the value that was read, so it can describe private input.
public enum DecodingErrorDescription {
    /// `a.b[2].c`; empty for the top level.
    public static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return out
    }

    /// What a value of `type` looks like in JSON or YAML: "an object", "an array", "a string", …
    public static func kind(of type: Any.Type) -> String {
        let name = String(describing: type)
        // Foundation names the containers (Dictionary, Array); Yams names its nodes (Mapping, Sequence, Scalar).
        if name.hasPrefix("Dictionary") || name == "Mapping" || name.contains("KeyedDecodingContainer") { return "an object" }
        if name.hasPrefix("Array") || name == "Sequence" || name.contains("UnkeyedDecodingContainer") { return "an array" }
        if name == "Scalar" { return "a single value" }
        switch type {
        case is String.Type, is Substring.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type, is UInt.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default: return "a value of type \(name)"
        }
    }

    /// "field: problem" (or "the body: problem" at the top level); "not valid JSON" when the text is
    /// not JSON at all, since the parser's own message may quote it.
    public static func sentence(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { return "not valid JSON" }
        let (field, problem) = describe(error)
        return "\(field ?? "the body"): \(problem)"
    }

    /// The field (nil at the top level) and the problem.
    public static func describe(_ error: DecodingError) -> (field: String?, problem: String) {
        func field(_ keys: [any CodingKey]) -> String? { keys.isEmpty ? nil : path(keys) }
        switch error {
        case .keyNotFound(let key, let context):
            return (field(context.codingPath + [key]), "missing")
        case .typeMismatch(let type, let context):
            return (field(context.codingPath), "expected \(kind(of: type))")
        case .valueNotFound(let type, let context):
            return (field(context.codingPath), "expected \(kind(of: type)), found null")
        case .dataCorrupted(let context):
            return (field(context.codingPath), context.debugDescription)
        @unknown default:
            return (nil, "cannot be read")
        }
    }
}
