import Hummingbird
import NIOCore

/// `GET /healthz` (liveness: `{"status":"ok",…}`) and `GET /metrics` (Prometheus text format).
/// Both are open, like most scrape targets: they hold counts and durations, no private text or key.
public struct OperationsRoutes<Context: RequestContext>: Sendable {
    let metrics: ServerMetrics
    let slots: UpstreamSlots

    public init(metrics: ServerMetrics, slots: UpstreamSlots) {
        self.metrics = metrics
        self.slots = slots
    }

    struct Health: ResponseEncodable {
        var status = "ok"
        var upstreamSlotsBusy: Int
        var upstreamSlotsLimit: Int
    }

    public func add(to router: Router<Context>) {
        router.get("healthz") { _, _ in
            Health(upstreamSlotsBusy: slots.busy, upstreamSlotsLimit: slots.limit)
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
    }
}
