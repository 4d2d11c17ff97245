/// When and how often a failed request is tried again. Guarantees: at most `maxAttempts` attempts in
/// total; only connection errors and HTTP 5xx are retried (timeouts only if `retriesTimeouts`), never
/// 4xx; the wait before retry n (n = 1, 2, ...) is `min(maxBackoff, initialBackoff * 2^(n-1))`
/// shortened by a random factor in `[1 - jitter, 1]` so that many clients do not retry in lockstep.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Fraction in [0, 1] of the backoff that is randomised.
    public var jitter: Double
    /// A timed-out attempt may still be running upstream; retrying it adds load, so it is off by default.
    public var retriesTimeouts: Bool

    public init(
        maxAttempts: Int = 4,
        initialBackoff: Duration = .milliseconds(250),
        maxBackoff: Duration = .seconds(8),
        jitter: Double = 0.5,
        retriesTimeouts: Bool = false
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.jitter = min(1, max(0, jitter))
        self.retriesTimeouts = retriesTimeouts
    }

    /// One attempt, no retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait before retry number `retry` (1 for the first retry).
    public func backoff<R: RandomNumberGenerator>(beforeRetry retry: Int, using rng: inout R) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        var wait = initialBackoff * (1 << exponent)
        if wait > maxBackoff { wait = maxBackoff }
        let factor = 1 - jitter * Double.random(in: 0...1, using: &rng)
        return wait * factor
    }

    public func backoff(beforeRetry retry: Int) -> Duration {
        var rng = SystemRandomNumberGenerator()
        return backoff(beforeRetry: retry, using: &rng)
    }
}
