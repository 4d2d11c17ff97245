import Hummingbird
import ServiceLifecycle

/// Keeps `fewshot_epsilon_spent` current: recomputes it from the ledger when the server starts and
/// then every `interval` (accounting can take seconds, so it is not done per scrape).
struct EpsilonMetricsService<Context: RequestContext>: Service {
    let admin: AdminRoutes<Context>
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await admin.refreshEpsilonMetrics()
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
