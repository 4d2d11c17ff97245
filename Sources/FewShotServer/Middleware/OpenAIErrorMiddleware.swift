import Hummingbird
import Logging
import NIOHTTP1

/// Gives every error response the OpenAI error shape: ``OpenAIError`` passes through, a body that
/// ends before its Content-Length (NIO's `HTTPParserError`) is the client's 400, Hummingbird's
/// `HTTPError` (unknown route, wrong method) keeps its status, and any other error becomes a 500
/// whose message is generic — the error itself is logged by type only, since it could quote input.
public struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as OpenAIError {
            throw error
        } catch is HTTPParserError {
            // The body stream failed to parse: in practice the client closed the connection mid-body.
            // The client's doing, so a 400 and no error log line.
            context.logger.debug("request body ended early")
            throw OpenAIError.incompleteBody()
        } catch let error as HTTPError {
            let type = error.status == .unauthorized ? "authentication_error" : "invalid_request_error"
            throw OpenAIError(status: error.status, message: error.body ?? error.status.reasonPhrase, type: type, code: nil)
        } catch let error as any HTTPResponseError {
            throw OpenAIError(status: error.status, message: error.status.reasonPhrase, type: "invalid_request_error", code: nil)
        } catch {
            context.logger.error("unhandled error", metadata: ["error_type": .string(String(describing: type(of: error)))])
            throw OpenAIError(status: .internalServerError, message: "internal server error", type: "server_error", code: nil)
        }
    }
}
