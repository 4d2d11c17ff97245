import Hummingbird

/// Refuses a request unless its `Authorization: Bearer <key>` header carries one of `keys`.
///
/// Guarantee: keys are compared in time independent of where they differ, and neither the
/// expected nor the presented key appears in a response, log line or metric.
public struct BearerKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    private let keys: [[UInt8]]
    private let scope: String

    /// - Parameters:
    ///   - keys: accepted keys; empty refuses every request with 403 (e.g. admin API disabled).
    ///   - scope: named in refusals ("client", "admin").
    public init(keys: [String], scope: String) {
        self.keys = keys.map { Array($0.utf8) }
        self.scope = scope
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isEmpty else {
            throw OpenAIError.forbidden("the \(scope) API is disabled on this server (it needs a \(scope) key\(scope == "admin" ? " and a store" : ""))")
        }
        guard let header = request.headers[.authorization] else {
            throw OpenAIError.missingKey("missing \(scope) key: send 'Authorization: Bearer <key>'")
        }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix("bearer ") else {
            throw OpenAIError.missingKey("malformed Authorization header: expected 'Bearer <key>'")
        }
        let presented = Array(header.utf8.dropFirst(prefix.utf8.count))
        var accepted = false
        for key in keys where Self.constantTimeEqual(key, presented) { accepted = true }
        guard accepted else { throw OpenAIError.missingKey("\(scope) key not accepted") }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = a.count ^ b.count
        for i in 0..<max(a.count, b.count) {
            difference |= Int((i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0))
        }
        return difference == 0
    }
}
