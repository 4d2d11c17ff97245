import AsyncHTTPClient
import ServiceLifecycle

/// Keeps the upstream HTTP client for as long as the application runs and shuts it down after the
/// server has stopped (it is listed before the server, so the service group stops it last).
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
