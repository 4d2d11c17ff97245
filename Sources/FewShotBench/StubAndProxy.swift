import ArgumentParser
import FewShotServer
import Logging
import ServiceLifecycle

/// The in-process stub upstream and a proxy in front of it, as the proxy benchmarks start them:
/// each in a service group, so both shut down gracefully at the end (cancelling them makes
/// Hummingbird log errors about the child channels it was waiting on).
enum StubAndProxy {
    /// Starts the stub, then the proxy configured by `configuration` (given the stub's port), runs
    /// `body` with both ports, and shuts both down.
    static func run(
        logger: Logger, configuration: (_ upstreamPort: Int) -> ProxyConfiguration,
        body: (_ upstreamPort: Int, _ proxyPort: Int) async throws -> Void
    ) async throws {
        let (upstreamPorts, upstreamPortSink) = AsyncStream.makeStream(of: Int.self)
        let (proxyPorts, proxyPortSink) = AsyncStream.makeStream(of: Int.self)
        let upstream = FixedCompletionUpstream.application(logger: logger) { upstreamPortSink.yield($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            let upstreamService = ServiceGroup(configuration: .init(services: [upstream], logger: logger))
            group.addTask { try await upstreamService.run() }
            var ports = upstreamPorts.makeAsyncIterator()
            guard let upstreamPort = await ports.next() else { throw ValidationError("stub upstream did not start") }

            let proxy = ProxyServer(configuration: configuration(upstreamPort), logger: logger).makeApplication { proxyPortSink.yield($0) }
            let proxyService = ServiceGroup(configuration: .init(services: [proxy], logger: logger))
            group.addTask { try await proxyService.run() }
            var proxyIterator = proxyPorts.makeAsyncIterator()
            guard let proxyPort = await proxyIterator.next() else { throw ValidationError("proxy did not start") }

            try await body(upstreamPort, proxyPort)
            await proxyService.triggerGracefulShutdown()
            await upstreamService.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
