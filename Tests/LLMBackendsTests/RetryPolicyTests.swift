import LLMBackends
import Testing

/// Backoff grows exponentially, is capped, and jitter only shortens it.
@Suite struct RetryPolicyTests {
    @Test func withoutJitterBackoffDoublesUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 10, initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), jitter: 0)
        var rng = SystemRandomNumberGenerator()
        let waits = (1...6).map { policy.backoff(beforeRetry: $0, using: &rng) }
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
    }

    @Test func jitterShortensWithinItsFraction() {
        let policy = RetryPolicy(initialBackoff: .milliseconds(400), maxBackoff: .seconds(10), jitter: 0.5)
        let waits = (0..<200).map { _ in policy.backoff(beforeRetry: 2) }
        #expect(waits.allSatisfy { $0 >= .milliseconds(400) && $0 <= .milliseconds(800) })
        // Spread out, not all equal (200 equal draws from a continuous range would be a broken jitter).
        #expect(Set(waits).count > 100)
    }

    @Test func valuesAreClamped() {
        let policy = RetryPolicy(maxAttempts: 0, jitter: 3)
        #expect(policy.maxAttempts == 1)
        #expect(policy.jitter == 1)
        #expect(RetryPolicy.none.maxAttempts == 1)
    }
}
