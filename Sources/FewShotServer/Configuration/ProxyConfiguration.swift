import FewShotCore
import FewShotSelection
import Foundation

/// Everything the proxy needs to run, resolved: keys read from the environment, tasks and
/// demonstrations loaded. Build one with ``ProxyConfigurationFile/load(from:environment:taskLoader:)``
/// or directly (tests, benchmarks).
///
/// Guarantee: holds only public values — demonstrations are DP output; keys are kept here and
/// compared, never logged (``description`` hides them).
public struct ProxyConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Bearer keys accepted on the OpenAI routes. Must not be empty.
    public var clientKeys: [String]
    /// Bearer key for the admin routes; `nil` disables the admin API (every admin call is refused).
    public var adminKey: String?
    public var limits: ProxyLimits
    public var models: [ServedModel]
    /// Generation jobs through the admin API; `nil` disables them.
    public var jobs: JobsConfiguration?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, clientKeys: [String], adminKey: String? = nil,
        limits: ProxyLimits = ProxyLimits(), models: [ServedModel], jobs: JobsConfiguration? = nil
    ) {
        self.jobs = jobs
        self.host = host
        self.port = port
        self.clientKeys = clientKeys
        self.adminKey = adminKey
        self.limits = limits
        self.models = models
    }

    public func model(named name: String) -> ServedModel? { models.first { $0.name == name } }

    public var description: String {
        "ProxyConfiguration(\(host):\(port), \(clientKeys.count) client key(s), admin \(adminKey == nil ? "off" : "on"), "
            + "models: \(models.map(\.name).joined(separator: ", ")), \(limits))"
    }
}

/// The proxy's limits. Every client request ends within about
/// `maxQueueWait + upstreamTimeout` (plus the stream, whose chunks each arrive within `upstreamTimeout`).
public struct ProxyLimits: Sendable, CustomStringConvertible {
    /// Largest request body accepted; larger bodies get 413.
    public var maxBodyBytes: Int
    /// Time allowed for the upstream's response head, and then between two body chunks; beyond it 504.
    public var upstreamTimeout: Duration
    /// Upstream requests in flight at once, over all models.
    public var maxConcurrentUpstream: Int
    /// How long a request may wait for a free upstream slot before it gets 429.
    public var maxQueueWait: Duration

    public init(
        maxBodyBytes: Int = 1 << 20, upstreamTimeout: Duration = .seconds(120), maxConcurrentUpstream: Int = 64,
        maxQueueWait: Duration = .seconds(10)
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.upstreamTimeout = upstreamTimeout
        self.maxConcurrentUpstream = maxConcurrentUpstream
        self.maxQueueWait = maxQueueWait
    }

    public var description: String {
        "limits(body \(maxBodyBytes) B, upstream timeout \(upstreamTimeout), concurrent \(maxConcurrentUpstream), queue wait \(maxQueueWait))"
    }
}

/// A model name the proxy exposes, and what it stands for: an upstream model, a task whose format
/// renders the demonstrations, and the demonstrations themselves: a fixed set, or a pool that each
/// request selects from (`selection`).
///
/// Guarantees: a fixed set's text is rendered once here with `TaskTemplate.renderedDemonstrations(_:)`,
/// so every request of this model gets the same public prefix. With a selection, each request's
/// demonstrations are chosen by ``DemonstrationSelector`` from the pool (public DP output) and the
/// request's own text only, and rendered the same way (``demonstrationText(for:)``).
public struct ServedModel: Sendable {
    public var name: String
    public var upstream: Upstream
    public var task: TaskTemplate
    /// The fixed set, or the pool that a selection picks from.
    public var demonstrations: [Demonstration]
    /// Where the demonstrations came from (a file path or a store id), for `/v1/models` and logs.
    public var demonstrationSource: String
    /// The fixed set's rendering: the system message (chat) or the prompt prefix (completions). With a
    /// selection, the rendering of what a request without words in common with the pool gets.
    public let renderedDemonstrations: String
    /// Picks each request's demonstrations from the pool; `nil` for a fixed set.
    public let selector: DemonstrationSelector?
    /// Set when the demonstrations are NOT private and the configuration allowed them anyway
    /// (`allow_non_private: true`); the server warns about it at startup.
    public var nonPrivateReason: String?

    /// - Parameter selection: pick per request from `demonstrations` (the pool) instead of serving
    ///   them all; the pool's index is built here, once.
    public init(
        name: String, upstream: Upstream, task: TaskTemplate, demonstrations: [Demonstration], demonstrationSource: String,
        selection: DemonstrationSelection? = nil, nonPrivateReason: String? = nil
    ) {
        self.nonPrivateReason = nonPrivateReason
        self.name = name
        self.upstream = upstream
        self.task = task
        self.demonstrations = demonstrations
        self.demonstrationSource = demonstrationSource
        let selector = selection.map { DemonstrationSelector(pool: demonstrations, rule: $0) }
        self.selector = selector
        self.renderedDemonstrations = task.renderedDemonstrations(selector?.select(for: "") ?? demonstrations)
    }

    /// The demonstrations' text for a request whose text (chat: the last user message; completions:
    /// the prompt) is `query`: the fixed set's rendering, or the rendering of the selection for `query`.
    public func demonstrationText(for query: String) -> String {
        guard let selector else { return renderedDemonstrations }
        return task.renderedDemonstrations(selector.select(for: query))
    }
}

/// An OpenAI-compatible upstream: one or more base URLs as an SDK's `base_url` (e.g.
/// `http://127.0.0.1:8090/v1`), the model name it knows, and an optional API key.
///
/// Requests go to the URLs in turn; a URL that refuses the connection is skipped for that request.
public struct Upstream: Sendable, CustomStringConvertible {
    public var baseURLs: [String]
    public var model: String
    public var apiKey: String?

    public init(baseURLs: [String], model: String, apiKey: String? = nil) {
        self.baseURLs = baseURLs.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.model = model
        self.apiKey = apiKey
    }

    public var description: String { "Upstream(\(baseURLs.joined(separator: ", ")), model \(model), key \(apiKey == nil ? "none" : "set"))" }
}
