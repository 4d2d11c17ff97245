import Foundation
import Hummingbird
import Logging

/// Records every request in ``ServerMetrics`` (count and duration by route, method and status) and
/// writes one structured log line when its response body has been written.
///
/// Guarantee: the log line and labels hold the matched route pattern, method, status, duration and
/// request id only — never the URI's query, headers (so no key) or a body.
///
/// Why not Hummingbird's `MetricsMiddleware`: it records into the process-wide `MetricsSystem` (it
/// takes no factory), under its own names (`hb.requests`, `http.server.request.duration`,
/// `hb.request.errors`, `http.server.active_requests`) with the dimensions `http.route`,
/// `http.request.method` and `http.response.status_code`. fewshot's `/metrics` page is a registry
/// owned by each ``ServerMetrics`` (so several servers in one process, as in the tests, stay apart)
/// and its documented series are `fewshot_http_requests_total` and
/// `fewshot_http_request_duration_seconds` by `route`, `method` and `status` (README, `RefusalTests`);
/// and this middleware also writes the request's log line at the same moment.
public struct RequestRecordingMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    public init(metrics: ServerMetrics) { self.metrics = metrics }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let method = request.method.rawValue
        do {
            var response = try await next(request, context)
            let status = response.status.code
            let route = context.endpointPath ?? "unmatched"
            let body = response.body
            let logger = context.logger
            let metrics = self.metrics
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                do {
                    try await body.write(writer)
                } catch {
                    Self.record(metrics, logger, route: route, method: method, status: status, start: start, note: "body write failed")
                    throw error
                }
                Self.record(metrics, logger, route: route, method: method, status: status, start: start, note: nil)
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            Self.record(metrics, context.logger, route: context.endpointPath ?? "unmatched", method: method, status: status, start: start, note: nil)
            throw error
        }
    }

    static func record(_ metrics: ServerMetrics, _ logger: Logger, route: String, method: String, status: Int, start: ContinuousClock.Instant, note: String?) {
        let duration = ContinuousClock.now - start
        metrics.recordRequest(route: route, method: method, status: status, duration: duration)
        let level: Logger.Level = status >= 500 ? .warning : .info
        guard logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "route": .string(route), "method": .string(method), "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.3f", duration / .milliseconds(1))),
        ]
        if let note { metadata["note"] = .string(note) }
        logger.log(level: level, "request", metadata: metadata)
    }
}
