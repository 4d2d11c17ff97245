import FewShotTestSupport
import Foundation
import LLMBackends
import Testing

/// Least-outstanding spreading over several upstreams, in the pool and end to end over two stubs.
@Suite struct UpstreamSpreadingTests {
    @Test func poolPicksLeastOutstandingAndBreaksTiesRoundRobin() async throws {
        let pool = try UpstreamPool(["http://a:1", "http://b:2/", "http://c:3"])
        #expect(pool.upstreams == ["http://a:1", "http://b:2", "http://c:3"])
        let first = await pool.acquire()
        let second = await pool.acquire()
        let third = await pool.acquire()
        #expect(Set([first, second, third]) == [0, 1, 2])
        await pool.release(second)
        #expect(await pool.acquire() == second)
        #expect(await pool.outstanding() == [1, 1, 1])
        for i in 0..<3 { await pool.release(i) }
        #expect(await pool.outstanding() == [0, 0, 0])
    }

    @Test func retryAvoidsTheUpstreamThatFailedWhenAnotherIsAsFree() async throws {
        let pool = try UpstreamPool(["http://a:1", "http://b:2"])
        let i = await pool.acquire()
        await pool.release(i)
        #expect(await pool.acquire(avoiding: i) != i)
    }

    @Test func concurrentRequestsAreSpreadEvenlyOverTwoUpstreams() async throws {
        let a = try await MisbehavingUpstream.start { _ in .respond(status: 200, body: "{}", delay: .milliseconds(400)) }
        let b = try await MisbehavingUpstream.start { _ in .respond(status: 200, body: "{}", delay: .milliseconds(400)) }
        let http = try HTTPTransport(upstreams: [a.url, b.url])
        try await shuttingDown(http) { http in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask { _ = try await http.get("/health") }
                }
                try await group.waitForAll()
            }
            #expect(await a.requestCount == 4)
            #expect(await b.requestCount == 4)
        }
        await a.stop()
        await b.stop()
    }

    @Test func manyConcurrentRequestsRunInParallel() async throws {
        let a = try await MisbehavingUpstream.start { _ in .respond(status: 200, body: "{}", delay: .milliseconds(200)) }
        let b = try await MisbehavingUpstream.start { _ in .respond(status: 200, body: "{}", delay: .milliseconds(200)) }
        let http = try HTTPTransport(upstreams: [a.url, b.url])
        try await shuttingDown(http) { http in
            let clock = ContinuousClock()
            let start = clock.now
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await http.get("/health").status }
                }
                for try await status in group { #expect(status == 200) }
            }
            // One after another this would take 20 s; pooled connections run them side by side.
            #expect(clock.now - start < .seconds(5))
            #expect(await a.requestCount == 50)
            #expect(await b.requestCount == 50)
            #expect(await http.pool.outstanding() == [0, 0])
        }
        await a.stop()
        await b.stop()
    }

    @Test func busyUpstreamIsSkippedWhileItHasARequestInFlight() async throws {
        let slow = try await MisbehavingUpstream.start { _ in .respond(status: 200, body: "{}", delay: .seconds(2)) }
        let fast = try await MisbehavingUpstream.start { _ in .respond(status: 200, body: "{}") }
        let http = try HTTPTransport(upstreams: [slow.url, fast.url])
        try await shuttingDown(http) { http in
            let held = Task { try await http.get("/slow") }
            while await slow.requestCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
            for _ in 0..<5 {
                let response = try await http.get("/fast")
                #expect(response.url == fast.url + "/fast")
            }
            #expect(await fast.requestCount == 5)
            #expect(await slow.requestCount == 1)
            _ = try await held.value
            #expect(await http.pool.outstanding() == [0, 0])
        }
        await slow.stop()
        await fast.stop()
    }
}
