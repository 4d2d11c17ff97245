import CoreMetrics
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Prometheus

/// The server's metrics, recorded through swift-metrics into a Prometheus registry owned by this
/// value (not the process-wide `MetricsSystem`, so several servers — e.g. in tests — stay apart).
///
/// Guarantee: label values are routes, methods, status codes, configured model names, job states
/// and data-set ids chosen by the operator — never request, response or private text.
public struct ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// Request counters and timers by route, method and status, so a request does not look them up in the registry.
    private let requestMetrics = RequestMetricsCache()

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        // The proxy's own cost is sub-millisecond; the upstream's is seconds. Buckets cover both.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        self.factory = factory
    }

    /// One finished HTTP request: counted, and its duration (until the last body byte) observed.
    public func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestMetricsKey(route: route, method: method, status: status)
        let pair = requestMetrics.withLock { cache in
            if let pair = cache[key] { return pair }
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let pair = (
                CoreMetrics.Counter(label: "fewshot_http_requests_total", dimensions: dimensions, factory: factory),
                CoreMetrics.Timer(label: "fewshot_http_request_duration_seconds", dimensions: dimensions, factory: factory))
            cache[key] = pair
            return pair
        }
        pair.0.increment()
        pair.1.recordNanoseconds(TimeAmount(duration).nanoseconds)
    }

    /// An upstream failure. `kind` is one of `unreachable`, `timeout`, `status_5xx`, `stream_broken`.
    public func recordUpstreamError(model: String, kind: String) {
        CoreMetrics.Counter(label: "fewshot_upstream_errors_total", dimensions: [("model", model), ("kind", kind)], factory: factory).increment()
    }

    /// A request refused because every upstream slot stayed busy.
    public func recordOverload(model: String) {
        CoreMetrics.Counter(label: "fewshot_upstream_overload_total", dimensions: [("model", model)], factory: factory).increment()
    }

    /// What happened to a generation job: the `state` label of `fewshot_generation_jobs_total`.
    public enum GenerationJobEvent: String, Sendable {
        case started, resumed, completed, failed, cancelled
    }

    /// A generation job started, resumed or ended.
    public func recordGenerationJob(_ event: GenerationJobEvent) {
        CoreMetrics.Counter(label: "fewshot_generation_jobs_total", dimensions: [("state", event.rawValue)], factory: factory).increment()
    }

    /// Tokens released by the DP generator for a data set.
    public func recordTokensReleased(dataset: String, count: Int) {
        CoreMetrics.Counter(label: "fewshot_tokens_released_total", dimensions: [("dataset", dataset)], factory: factory).increment(by: count)
    }

    /// The epsilon spent so far on a data set, as the ledger's accountant reports it.
    public func setEpsilonSpent(dataset: String, epsilon: Double) {
        CoreMetrics.Gauge(label: "fewshot_epsilon_spent", dimensions: [("dataset", dataset)], factory: factory).record(epsilon)
    }

    /// The Prometheus text exposition of everything recorded.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

struct RequestMetricsKey: Hashable {
    var route: String
    var method: String
    var status: Int
}

final class RequestMetricsCache: Sendable {
    private let cache = NIOLockedValueBox<[RequestMetricsKey: (CoreMetrics.Counter, CoreMetrics.Timer)]>([:])

    func withLock<T>(_ body: (inout [RequestMetricsKey: (CoreMetrics.Counter, CoreMetrics.Timer)]) -> T) -> T {
        cache.withLockedValue { body(&$0) }
    }
}
