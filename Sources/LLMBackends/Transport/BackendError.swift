/// A failed request to an LLM upstream. Every case names the URL that was called; HTTP failures
/// carry the status and the error kind, so a log line alone says which server refused what.
///
/// Guarantee: no text of a request or of the upstream's answer is part of an error. An upstream's
/// error body may echo the prompt (which holds private examples), and these errors end up in logs,
/// in the store's failure reasons and in the admin API, so the body is never kept: only the status,
/// the error kind (when it is one of the well-known OpenAI / llama.cpp error types) and a fixed message.
public enum BackendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The upstream answered with a non-2xx status. 4xx are not retried; 5xx were retried `attempts` times.
    /// `kind` is the body's `error.type` when it is one of ``knownErrorKinds``, else nil.
    case httpStatus(url: String, status: Int, kind: String?, attempts: Int)
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
        case let .httpStatus(url, status, kind, attempts):
            let what = status >= 500 ? "the upstream failed" : "the upstream refused the request"
            return "LLM upstream \(url) answered HTTP \(status)\(kind.map { " \($0)" } ?? "") (\(Self.attemptsText(attempts))): "
                + "\(what); its error text is not kept, since it may echo the prompt (see the upstream's own log)"
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

    /// Error types that OpenAI and llama.cpp servers put in `error.type`: fixed words, never request text.
    public static let knownErrorKinds: Set<String> = [
        "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "rate_limit_error",
        "server_error", "unavailable_error", "not_supported_error", "exceed_context_size_error", "insufficient_quota",
        "api_error", "overloaded_error",
    ]

    private static func attemptsText(_ n: Int) -> String { n == 1 ? "1 attempt" : "\(n) attempts" }
}
