import Foundation
import Hummingbird
import NIOCore

/// An error the server returns to a client: an HTTP status and OpenAI's error body
/// `{"error":{"message":…,"type":…,"code":…}}`, so OpenAI SDKs raise their usual exceptions.
///
/// Guarantee: a message names the field, limit or upstream that failed; it never contains request
/// text, demonstration text or a key.
public struct OpenAIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// OpenAI's error category, e.g. `invalid_request_error`, `authentication_error`.
    public var type: String
    public var code: String?

    public init(status: HTTPResponse.Status, message: String, type: String, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.code = code
    }

    public var description: String { "OpenAIError(\(status.code) \(type)\(code.map { "/\($0)" } ?? ""): \(message))" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody())))
    }

    /// The error body as JSON bytes (also used inside event streams).
    public func jsonBody() -> [UInt8] {
        struct Body: Encodable {
            struct Inner: Encodable {
                let message: String
                let type: String
                let code: String?
                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(message, forKey: .message)
                    try c.encode(type, forKey: .type)
                    try c.encode(code, forKey: .code)  // explicit null, as OpenAI does
                }
                enum CodingKeys: String, CodingKey { case message, type, code }
            }
            let error: Inner
        }
        let data = (try? JSONEncoder().encode(Body(error: .init(message: message, type: type, code: code)))) ?? Data()
        return Array(data)
    }
}

extension OpenAIError {
    public static func invalidRequest(_ message: String, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", code: code)
    }

    public static func missingKey(_ message: String) -> OpenAIError {
        OpenAIError(status: .unauthorized, message: message, type: "authentication_error", code: "invalid_api_key")
    }

    public static func forbidden(_ message: String) -> OpenAIError {
        OpenAIError(status: .forbidden, message: message, type: "permission_error", code: "forbidden")
    }

    public static func bodyTooLarge(limit: Int) -> OpenAIError {
        OpenAIError(
            status: .contentTooLarge, message: "request body exceeds the limit of \(limit) bytes (limits.max_body_bytes)",
            type: "invalid_request_error", code: "request_too_large")
    }

    public static func headerTooLarge(limit: Int) -> OpenAIError {
        OpenAIError(
            status: .requestHeaderFieldsTooLarge, message: "request headers exceed the limit of \(limit) bytes; send smaller headers",
            type: "invalid_request_error", code: "headers_too_large")
    }

    /// The client ended the request before its body was complete (it sent less than its Content-Length).
    public static func incompleteBody() -> OpenAIError {
        OpenAIError(
            status: .badRequest, message: "the request ended before its body was complete (fewer bytes than Content-Length); resend it whole",
            type: "invalid_request_error", code: "incomplete_body")
    }

    public static func modelNotFound(_ name: String, available: [String]) -> OpenAIError {
        OpenAIError(
            status: .notFound,
            message: "model '\(name)' is not served here; available: \(available.joined(separator: ", "))",
            type: "invalid_request_error", code: "model_not_found")
    }

    public static func overloaded(limit: Int) -> OpenAIError {
        OpenAIError(
            status: .tooManyRequests,
            message: "all \(limit) upstream slots are busy (limits.max_concurrent_upstream); retry later",
            type: "rate_limit_error", code: "proxy_overloaded")
    }

    public static func upstreamUnavailable(_ message: String) -> OpenAIError {
        OpenAIError(status: .badGateway, message: message, type: "upstream_error", code: "upstream_unavailable")
    }

    public static func upstreamTimeout(seconds: Double) -> OpenAIError {
        OpenAIError(
            status: .gatewayTimeout,
            message: "upstream did not answer within \(seconds) s (limits.upstream_timeout_seconds)",
            type: "upstream_error", code: "upstream_timeout")
    }

    public static func notFound(_ path: String) -> OpenAIError {
        OpenAIError(status: .notFound, message: "no route for \(path)", type: "invalid_request_error", code: "not_found")
    }
}
