import AsyncHTTPClient
import Foundation
import NIOCore

/// Asks a llama-server's `GET /health` whether it is ready to serve completions.
public enum HealthProbe {
    /// The outcome of one probe: ready, or the reason it is not (loading, refused, timed out...).
    public enum Result: Sendable, Equatable {
        case healthy
        case unhealthy(String)

        public var isHealthy: Bool { self == .healthy }
    }

    public static func check(_ baseURL: URL, timeout: Duration = .seconds(2)) async -> Result {
        let url = baseURL.appendingPathComponent("health").absoluteString
        do {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: url), timeout: TimeAmount(timeout))
            let body = try await response.body.collect(upTo: 64 * 1024)
            let text = String(decoding: body.readableBytesView, as: UTF8.self)
            if response.status == .ok, text.contains("\"ok\"") { return .healthy }
            return .unhealthy("HTTP \(response.status.code) \(text.prefix(200))")
        } catch {
            return .unhealthy("\(error)")
        }
    }
}
