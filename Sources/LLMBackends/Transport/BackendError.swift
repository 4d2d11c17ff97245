/// A failed request to an LLM upstream. Every case names the URL that was called; HTTP failures
/// carry the status and a short excerpt of the upstream's error message, so a log line alone says
/// which server refused what. Prompt text is never part of an error.
public enum BackendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The upstream answered with a non-2xx status. 4xx are not retried; 5xx were retried `attempts` times.
    case httpStatus(url: String, status: Int, bodyExcerpt: String, attempts: Int)
    /// No complete answer within the per-attempt timeout.
    case timeout(url: String, after: Duration, attempts: Int)
    /// The connection could not be made or broke (refused, reset, closed early).
    case connection(url: String, reason: String, attempts: Int)
    /// The upstream answered 2xx but the body was not what this backend reads.
    case malformedResponse(url: String, reason: String)
    /// The request could not be built (bad upstream URL, impossible parameters).
    case invalidRequest(reason: String)

    /// The upstream URL the error is about, if any.
    public var url: String? {
        switch self {
        case .httpStatus(let url, _, _, _), .timeout(let url, _, _), .connection(let url, _, _),
             .malformedResponse(let url, _):
            return url
        case .invalidRequest:
            return nil
        }
    }

    public var description: String {
        switch self {
        case let .httpStatus(url, status, excerpt, attempts):
            let body = excerpt.isEmpty ? "" : ": \(excerpt)"
            return "LLM upstream \(url) answered HTTP \(status) (\(Self.attemptsText(attempts)))\(body)"
        case let .timeout(url, after, attempts):
            return "LLM upstream \(url) did not answer within \(after) (\(Self.attemptsText(attempts)))"
        case let .connection(url, reason, attempts):
            return "LLM upstream \(url) could not be reached (\(Self.attemptsText(attempts))): \(reason)"
        case let .malformedResponse(url, reason):
            return "LLM upstream \(url) sent a response this backend cannot read: \(reason)"
        case let .invalidRequest(reason):
            return "invalid LLM request: \(reason)"
        }
    }

    private static func attemptsText(_ n: Int) -> String { n == 1 ? "1 attempt" : "\(n) attempts" }
}
