import FewShotCore
import FewShotData
import Foundation

/// Rewrites an OpenAI request body for the upstream by splicing bytes: the `model` value becomes the
/// upstream's model name, and the demonstrations go into `messages` (a leading system message) or
/// `prompt` (a prefix). Every other byte is forwarded as the client sent it, so fields the proxy does
/// not know (tools, logprobs, sampling options, …) reach the upstream unchanged.
///
/// Guarantee: the body is validated as JSON before any byte is touched; a malformed body, a missing
/// `model`, or a `messages`/`prompt` of the wrong shape (each message an object with a known `role`
/// and a `content`) is refused with a 400 naming the field, so a client's mistake never reaches the
/// upstream to come back as a 5xx. Messages never quote the body.
public enum RequestBodyRewriter {
    /// What the client asked for, read from the body.
    public struct Request: Sendable {
        public var model: String
        public var stream: Bool
        /// Chat: the text of the last `user` message (its string content, or its text parts joined by
        /// newlines; empty when there is none), which selects demonstrations. Completions: empty (the
        /// prompt selects).
        public var lastUserText: String = ""
    }

    /// Reads `model`, `stream` and the last user message's text of a chat body and checks that
    /// `messages` is a non-empty array of messages with a `role` and a `content`.
    public static func inspectChat(_ body: [UInt8]) throws(OpenAIError) -> Request {
        struct Head: Decodable {
            var model: String
            var stream: Bool?
            var messages: [MessageShape]
        }
        let head: Head
        do {
            head = try JSONDecoder().decode(Head.self, from: Data(body))
        } catch {
            throw Self.describe(error)
        }
        guard !head.messages.isEmpty else { throw OpenAIError.invalidRequest("'messages' must not be empty", code: "invalid_messages") }
        let lastUser = head.messages.last { $0.role == "user" }
        return Request(model: head.model, stream: head.stream ?? false, lastUserText: lastUser?.text ?? "")
    }

    /// A chat body (checked by ``inspectChat(_:)``) with `model` replaced by `upstreamModelJSON`
    /// (a JSON string's bytes) and `systemMessage` (a JSON object's bytes) put first in `messages`.
    public static func spliceChat(_ body: [UInt8], upstreamModelJSON: [UInt8], systemMessage: [UInt8]) throws(OpenAIError) -> [UInt8] {
        let members = try topLevelMembers(body)
        guard let modelRange = members["model"], let messagesRange = members["messages"] else {
            throw OpenAIError.invalidRequest("field names 'model' and 'messages' must be written without escapes")
        }
        let afterBracket = messagesRange.lowerBound + 1
        return splice(body, [
            (modelRange, upstreamModelJSON),
            (afterBracket..<afterBracket, systemMessage + Array(",".utf8)),
        ])
    }

    /// Reads `model`, `stream` and `prompt` (a string or a non-empty list of strings) of a completions body.
    public static func inspectCompletion(_ body: [UInt8]) throws(OpenAIError) -> (request: Request, prompt: PromptValue) {
        struct Head: Decodable {
            var model: String
            var stream: Bool?
            var prompt: PromptValue
        }
        let head: Head
        do {
            head = try JSONDecoder().decode(Head.self, from: Data(body))
        } catch {
            throw Self.describe(error)
        }
        if case .texts(let list) = head.prompt, list.isEmpty {
            throw OpenAIError.invalidRequest("'prompt' must not be an empty list", code: "invalid_prompt")
        }
        return (Request(model: head.model, stream: head.stream ?? false), head.prompt)
    }

    /// A completions body with `model` replaced and `prefix` put before the prompt (each prompt, if a list).
    public static func spliceCompletion(_ body: [UInt8], upstreamModelJSON: [UInt8], prompt: PromptValue, prefix: String) throws(OpenAIError) -> [UInt8] {
        try spliceCompletion(body, upstreamModelJSON: upstreamModelJSON, prompt: prompt, prefix: { _ in prefix })
    }

    /// A completions body with `model` replaced and `prefix(p)` put before each prompt `p`.
    public static func spliceCompletion(
        _ body: [UInt8], upstreamModelJSON: [UInt8], prompt: PromptValue, prefix: (String) -> String
    ) throws(OpenAIError) -> [UInt8] {
        let members = try topLevelMembers(body)
        guard let modelRange = members["model"], let promptRange = members["prompt"] else {
            throw OpenAIError.invalidRequest("field names 'model' and 'prompt' must be written without escapes")
        }
        let newPrompt: [UInt8]
        switch prompt {
        case .text(let s): newPrompt = jsonString(prefix(s) + s)
        case .texts(let list): newPrompt = jsonStrings(list.map { prefix($0) + $0 })
        }
        return splice(body, [(modelRange, upstreamModelJSON), (promptRange, newPrompt)])
    }

    /// `{"role":"system","content":…}` as JSON bytes.
    public static func systemMessage(_ content: String) -> [UInt8] {
        Array(#"{"role":"system","content":"#.utf8) + jsonString(content) + Array("}".utf8)
    }

    /// A completions prompt the proxy can prefix: text or a list of texts (token-id prompts are refused).
    public enum PromptValue: Sendable, Decodable {
        case text(String)
        case texts([String])

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                self = .text(s)
            } else if let list = try? c.decode([String].self) {
                self = .texts(list)
            } else {
                throw DecodingError.typeMismatch(
                    String.self,
                    .init(codingPath: decoder.codingPath,
                          debugDescription: "'prompt' must be a string or a list of strings (token-id prompts cannot carry text demonstrations)"))
            }
        }
    }

    /// The shape of one chat message, as OpenAI's API requires it: an object with a `role` the API
    /// knows and a `content` (a string, a list of parts, or null; an assistant message that calls
    /// tools may leave it out). Nothing else is checked: other fields reach the upstream as sent.
    /// Keeps the role and the content's text (a string, or the `text` of its parts joined by newlines).
    struct MessageShape: Decodable {
        static let roles = ["system", "developer", "user", "assistant", "tool", "function"]

        enum Keys: String, CodingKey { case role, content, tool_calls, function_call }

        /// A content part; only text parts (`{"type": "text", "text": ...}`) carry text, any other part is read as none.
        struct Part: Decodable {
            enum Keys: String, CodingKey { case text }
            var text: String?

            init(from decoder: any Decoder) throws {
                text = try? decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .text)
            }
        }

        var role: String
        var text: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            let role = try c.decode(String.self, forKey: .role)
            guard Self.roles.contains(role) else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: c.codingPath + [Keys.role], debugDescription: "not one of \(Self.roles.joined(separator: ", "))"))
            }
            self.role = role
            let callsTools = c.contains(.tool_calls) || c.contains(.function_call)
            guard c.contains(.content) || role == "assistant" && callsTools else {
                throw DecodingError.keyNotFound(Keys.content, .init(codingPath: c.codingPath, debugDescription: ""))
            }
            if c.contains(.content), try !c.decodeNil(forKey: .content) {
                if let string = try? c.decode(String.self, forKey: .content) {
                    text = string
                } else {
                    guard (try? c.nestedUnkeyedContainer(forKey: .content)) != nil else {
                        throw DecodingError.typeMismatch(String.self, .init(
                            codingPath: c.codingPath + [Keys.content], debugDescription: "'\(DecodingErrorDescription.path(c.codingPath + [Keys.content]))' must be a string or a list of content parts"))
                    }
                    // Parts of other shapes (images, audio) are the upstream's to judge; they carry no text here.
                    if role == "user", let parts = try? c.decode([Part].self, forKey: .content) {
                        text = parts.compactMap(\.text).joined(separator: "\n")
                    }
                }
            }
        }
    }

    static func describe(_ error: any Error) -> OpenAIError {
        guard let error = error as? DecodingError else { return .invalidRequest("request body is not valid JSON", code: "invalid_json") }
        let (field, problem) = DecodingErrorDescription.describe(error)
        switch error {
        case .keyNotFound:
            let hint = field?.hasPrefix("messages[") == true ? "; each message needs 'role' (\(MessageShape.roles.joined(separator: ", "))) and 'content'" : ""
            return .invalidRequest("missing field '\(field ?? "")'\(hint)", code: "missing_field")
        case .typeMismatch(_, let ctx):
            if ctx.debugDescription.hasPrefix("'") { return .invalidRequest(ctx.debugDescription, code: "invalid_type") }
            guard let field else { return .invalidRequest("request body must be a JSON object, not an array or a single value", code: "invalid_json") }
            return .invalidRequest("field '\(field)' has the wrong type (\(problem))", code: "invalid_type")
        case .valueNotFound:
            return .invalidRequest("field '\(field ?? "")' is null (\(problem.replacingOccurrences(of: ", found null", with: "")))", code: "invalid_type")
        case .dataCorrupted:
            // Without a field, the JSON itself is broken; the parser's message could quote the body.
            guard let field else { return .invalidRequest("request body is not valid JSON", code: "invalid_json") }
            return .invalidRequest("field '\(field)': \(problem.hasPrefix("not one of") ? problem : "a value that cannot be read")", code: "invalid_value")
        @unknown default:
            return .invalidRequest("request body is not valid JSON", code: "invalid_json")
        }
    }

    static func jsonString(_ s: String) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return Array((try? encoder.encode(s)) ?? Data("\"\"".utf8))
    }

    static func jsonStrings(_ list: [String]) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return Array((try? encoder.encode(list)) ?? Data("[]".utf8))
    }

    static func splice(_ body: [UInt8], _ edits: [(Range<Int>, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + edits.reduce(0) { $0 + $1.1.count })
        var cursor = 0
        for (range, replacement) in edits.sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            out.append(contentsOf: body[cursor..<range.lowerBound])
            out.append(contentsOf: replacement)
            cursor = range.upperBound
        }
        out.append(contentsOf: body[cursor...])
        return out
    }

    /// Byte ranges of the values of the top-level object's members, by raw key. Assumes the body is
    /// valid JSON (checked by the decoders above); a later duplicate key wins, as in JSONDecoder.
    static func topLevelMembers(_ b: [UInt8]) throws(OpenAIError) -> [String: Range<Int>] {
        let malformed = OpenAIError.invalidRequest("request body is not a JSON object", code: "invalid_json")
        var i = 0
        func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }
        func skipString() -> Bool {  // at the opening quote; ends after the closing quote
            i += 1
            while i < b.count {
                if b[i] == UInt8(ascii: "\\") { i += 2; continue }
                if b[i] == UInt8(ascii: "\"") { i += 1; return true }
                i += 1
            }
            return false
        }
        func skipValue() -> Bool {
            guard i < b.count else { return false }
            switch b[i] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while i < b.count {
                    switch b[i] {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                    default: break
                    }
                    i += 1
                    if depth == 0 { return true }
                }
                return false
            default:
                while i < b.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 }
                return true
            }
        }

        var members: [String: Range<Int>] = [:]
        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: "{") else { throw malformed }
        i += 1
        while true {
            skipSpace()
            guard i < b.count else { throw malformed }
            if b[i] == UInt8(ascii: "}") { break }
            guard b[i] == UInt8(ascii: "\"") else { throw malformed }
            let keyStart = i + 1
            guard skipString() else { throw malformed }
            let key = String(decoding: b[keyStart..<(i - 1)], as: UTF8.self)
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw malformed }
            i += 1
            skipSpace()
            let valueStart = i
            guard skipValue() else { throw malformed }
            members[key] = valueStart..<i
            skipSpace()
            guard i < b.count else { throw malformed }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            guard b[i] == UInt8(ascii: "}") else { throw malformed }
            break
        }
        return members
    }
}
