import AsyncHTTPClient
import FewShotStore
import LLMBackends
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore
import Foundation

/// The fewshot server, assembled in one place: OpenAI-compatible routes behind client keys, the
/// admin API behind the admin key (when a store is given), `/healthz`, `/metrics`, request metrics
/// and logs, and the upstream client.
///
/// ```swift
/// let configuration = try ProxyConfigurationFile.load(from: URL(fileURLWithPath: "serve.yaml"))
/// try await ProxyServer(configuration: configuration, logger: logger, store: store).run()
/// ```
///
/// Guarantees: every OpenAI route refuses requests without a client key, every admin route without
/// the admin key (and all of them when no admin key or no store is configured); every error is OpenAI
/// error JSON with a fitting status; `run()` stops on SIGINT/SIGTERM after in-flight requests
/// (streams included) have finished, then closes the upstream client.
public struct ProxyServer: Sendable {
    public let configuration: ProxyConfiguration
    public let metrics: ServerMetrics
    public let logger: Logger
    /// The store behind the admin API; `nil` disables it.
    public let store: (any LedgerStore)?
    /// Connects the model of a generation job (default: llama.cpp at the jobs configuration's URLs).
    public let jobModels: JobModelFactory?

    public init(
        configuration: ProxyConfiguration, logger: Logger, metrics: ServerMetrics = ServerMetrics(), store: (any LedgerStore)? = nil,
        jobModels: JobModelFactory? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.store = store
        self.jobModels = jobModels
    }

    /// The generation jobs of this server, when a store, the admin key and a jobs section are configured.
    public func makeJobs() -> GenerationJobs? {
        guard let store, configuration.adminKey != nil, let jobsConfiguration = configuration.jobs else { return nil }
        let connect: JobModelFactory = jobModels ?? {
            // A partition-mode step with the automatic plan sends hundreds of prompts at once; the last is
            // answered only after the server has read them all, so a job's requests may wait minutes.
            let backend = try await LlamaCppBackend.connect(
                upstreams: jobsConfiguration.llmURLs, configuration: TransportConfiguration(requestTimeout: .seconds(600)))
            return ConnectedModel(model: backend, shutdown: backend.shutdown)
        }
        return GenerationJobs(store: store, configuration: jobsConfiguration, connect: connect, metrics: metrics, logger: logger)
    }

    /// The Hummingbird application. It owns a new upstream HTTP client, shut down when the application stops.
    /// - Parameter onServerRunning: called with the bound port once the server listens (useful with port 0).
    /// - Parameter jobs: the generation jobs to serve (default: ``makeJobs()``).
    public func makeApplication(jobs: GenerationJobs? = nil, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: UpstreamForwarder.clientConfiguration(limits: configuration.limits))
        let slots = UpstreamSlots(limit: configuration.limits.maxConcurrentUpstream)
        let forwarder = UpstreamForwarder(client: client, limits: configuration.limits, slots: slots, metrics: metrics)

        let router = Router(context: FewShotRequestContext.self)
        router.add(middleware: RequestRecordingMiddleware<FewShotRequestContext>(metrics: metrics))
        router.add(middleware: OpenAIErrorMiddleware<FewShotRequestContext>())
        OperationsRoutes<FewShotRequestContext>(metrics: metrics, slots: slots).add(to: router)
        let openAI = router.group("v1").add(middleware: BearerKeyMiddleware<FewShotRequestContext>(keys: configuration.clientKeys, scope: "client"))
        OpenAIRoutes<FewShotRequestContext>(configuration: configuration, forwarder: forwarder).add(to: openAI)

        var services: [any Service] = [HTTPClientService(client: client)]
        let adminKeys = store == nil ? [] : [configuration.adminKey].compactMap { $0 }
        let adminGroup = router.group("admin").add(middleware: BearerKeyMiddleware<FewShotRequestContext>(keys: adminKeys, scope: "admin"))
        if let store, !adminKeys.isEmpty {
            let admin = AdminRoutes<FewShotRequestContext>(store: store, metrics: metrics)
            admin.add(to: adminGroup)
            services.append(EpsilonMetricsService(admin: admin, interval: .seconds(60)))
            let jobs = jobs ?? makeJobs()
            JobRoutes<FewShotRequestContext>(jobs: jobs).add(to: adminGroup)
            if let jobs { services.append(GenerationJobsService(jobs: jobs)) }
        } else {
            // Without this catch-all, unknown admin paths would 404 before the middleware could refuse them.
            for method in [HTTPRequest.Method.get, .put, .post, .delete] {
                adminGroup.on("**", method: method) { _, _ -> Response in throw OpenAIError.forbidden("the admin API is disabled") }
            }
        }

        // Hummingbird's decoder limit for request headers; OversizedHeadHandler answers 431 past it.
        let headerLimit = Self.maxHeaderBytes
        return Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [OversizedHeadHandler(limit: headerLimit)],
                httpDecoderConfiguration: .init(maxHeaderFieldSize: headerLimit, maxHeaderListSize: headerLimit))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "fewshot"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Logs a warning for every model whose demonstrations are not private (allowed by `allow_non_private: true`).
    func warnAboutNonPrivateModels() {
        for model in configuration.models {
            guard let reason = model.nonPrivateReason else { continue }
            logger.warning("serving demonstrations that are NOT differentially private (allow_non_private: true)", metadata: [
                "model": .string(model.name), "source": .string(model.demonstrationSource), "reason": .string(reason),
            ])
        }
    }

    /// Largest request header block accepted (all fields together); larger ones get 431.
    public static let maxHeaderBytes = 64 * 1024

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully. Says "serving" only once the
    /// address is bound; a failure to bind throws a ``ListenError`` naming the address.
    public func run() async throws {
        warnAboutNonPrivateModels()
        let listening = ListeningFlag()
        let logger = self.logger
        let configuration = self.configuration
        do {
            try await makeApplication(onServerRunning: { port in
                await listening.set()
                logger.info("serving", metadata: [
                    "address": .string("\(configuration.host):\(port)"),
                    "models": .array(configuration.models.map { .string($0.name) }),
                ])
            }).runService()
        } catch {
            guard await listening.value else { throw ListenError(host: configuration.host, port: configuration.port, underlying: error) }
            throw error
        }
    }
}

private actor ListeningFlag {
    var value = false
    func set() { value = true }
}

/// The server could not listen on its address; names the address and what to do.
public struct ListenError: Error, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var underlying: any Error

    public var description: String {
        let address = "\(host):\(port)"
        if let io = underlying as? IOError {
            switch io.errnoCode {
            case EADDRINUSE: return "cannot listen on \(address): the address is already in use (another server runs there); stop it, or choose another port (--port or server.port)"
            case EACCES: return "cannot listen on \(address): permission denied (ports below 1024 need privileges); choose another port (--port or server.port)"
            case EADDRNOTAVAIL: return "cannot listen on \(address): no such address on this machine; check --host or server.host"
            default: return "cannot listen on \(address): \(io)"
            }
        }
        return "cannot listen on \(address): \(underlying)"
    }
}
