/// Settings of an `HTTPTransport`. The timeout bounds each attempt (connect, send, and reading the
/// whole answer); the total time of a call is at most `maxAttempts` timeouts plus the backoffs.
public struct TransportConfiguration: Sendable, Hashable {
    public var requestTimeout: Duration
    public var retry: RetryPolicy
    /// Pooled HTTP/1.1 connections kept per upstream; requests beyond it wait for a free connection,
    /// and fail after the connect timeout (10 s). The generator sends M + 1 requests at once (M = 80
    /// for TREC), so the default leaves room for M up to 255.
    public var maxConnectionsPerUpstream: Int
    /// A full-vocabulary distribution is a few MB of JSON; larger answers are refused.
    public var maxResponseBytes: Int

    public init(
        requestTimeout: Duration = .seconds(120),
        retry: RetryPolicy = RetryPolicy(),
        maxConnectionsPerUpstream: Int = 256,
        maxResponseBytes: Int = 64 << 20
    ) {
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.maxConnectionsPerUpstream = max(1, maxConnectionsPerUpstream)
        self.maxResponseBytes = maxResponseBytes
    }
}
