import Hummingbird
import Logging

/// Gives every error response the OpenAI error shape: ``OpenAIError`` passes through, Hummingbird's
/// `HTTPError` (unknown route, wrong method) keeps its status, and any other error becomes a 500
/// whose message is generic — the error itself is logged by type only, since it could quote input.
public struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as OpenAIError {
            throw error
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
