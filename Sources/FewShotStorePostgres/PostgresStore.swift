import FewShotStore
import Foundation
import Logging
import PostgresNIO

/// The store in a PostgreSQL database that several `fewshot serve` replicas and `fewshot gen` processes,
/// on any hosts, share: the same operations and semantics as the SQLite ``FewShotStore``.
///
/// Guarantees (beside ``LedgerStore``'s):
/// - Connections come from one postgres-nio `PostgresClient` pool per store; the password comes from
///   `PGPASSWORD`, never from the URL (see ``PostgresStoreAddress``), and is never logged.
/// - Every ledger change is one transaction. A reservation, a budget change and a label-count release
///   lock their data set's row (`SELECT ... FOR NO KEY UPDATE`) before they re-read the ledger and record, so
///   check-and-reserve is serialised per data set across every process and host.
/// - A generation is owned by a store instance (a token) with a lease that the instance renews (heartbeat
///   every third of the lease, and with every checkpoint). A generation whose lease expired, or whose
///   owner on this host has ended, is marked failed (resumable) by the next process that looks.
public final class PostgresStore: LedgerStore {
    public let address: PostgresStoreAddress
    public var location: String { address.description }
    let client: PostgresClient
    let datasetKey: DatasetKey
    let logger: Logger
    private let running: Task<Void, Never>
    private let heartbeat: Task<Void, Never>

    /// Identifies this store instance (its pool and heartbeat) as the owner of the generations it
    /// reserves or resumes; with a lease, it replaces the SQLite store's pid check. Per instance, not per
    /// process, so that two replicas are two owners even when a test runs both in one process.
    let ownerToken: String

    /// Opens the store at `url` (see ``PostgresStoreAddress``), the password from `PGPASSWORD` in
    /// `environment`, and migrates its schema.
    public convenience init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try self.init(address: PostgresStoreAddress(url: url), password: environment["PGPASSWORD"])
    }

    public init(address: PostgresStoreAddress, password: String?) throws {
        self.address = address
        let ownerToken = UUID().uuidString.lowercased()
        self.ownerToken = ownerToken
        let logger: Logger = {
            var logger = Logger(label: "fewshot.store.postgres")
            logger.logLevel = .warning
            return logger
        }()
        self.logger = logger
        let tls: PostgresConnection.Configuration.TLS
        switch address.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try .init(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try .init(configuration: .makeClientConfiguration()))
        }
        var firstConfiguration = PostgresConnection.Configuration(
            host: address.host, port: address.port, username: address.user, password: password, database: address.database, tls: tls)
        if let schema = address.schema { firstConfiguration.options.additionalStartupParameters = [("search_path", schema)] }
        let connection = firstConfiguration
        // The first connection is made directly, so that a wrong host, user, password or database is
        // reported at once (the pool would retry in the background) and the schema is migrated.
        let location = address.description
        let schema = address.schema
        datasetKey = try BlockingBridge.run {
            let first: PostgresConnection
            do {
                first = try await PostgresConnection.connect(configuration: connection, id: 0, logger: logger)
            } catch {
                throw PostgresStoreError.unreachable(location: location, reason: PostgresStore.describe(error))
            }
            do {
                let key = try await PostgresSchema.migrate(first, schema: schema, location: location, logger: logger)
                try await PostgresStore.reapEndedGenerations(first, owner: ownerToken, logger: logger)
                try await first.close()
                return key
            } catch {
                try? await first.close()
                throw PostgresStore.translate(error)
            }
        }
        let clientTLS: PostgresClient.Configuration.TLS
        switch address.tls {
        case .disable: clientTLS = .disable
        case .prefer: clientTLS = .prefer(.makeClientConfiguration())
        case .require: clientTLS = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: address.host, port: address.port, username: address.user, password: password, database: address.database, tls: clientTLS)
        configuration.options.maximumConnections = 20
        if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        running = Task(executorPreference: BlockingBridge.executor) { await client.run() }
        let lease = address.leaseSeconds
        heartbeat = Task(executorPreference: BlockingBridge.executor) {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(lease * 1000 / 3))
                if Task.isCancelled { break }
                _ = try? await client.query("""
                    UPDATE generation SET lease_expires = clock_timestamp() + make_interval(secs => \(Double(lease)))
                    WHERE status = 'running' AND owner_token = \(ownerToken)
                    """, logger: logger)
            }
        }
    }

    deinit {
        heartbeat.cancel()
        running.cancel()
    }

    /// Stops the heartbeat and closes the pool's connections. Generations this process still runs keep
    /// their lease until it expires; then any process marks them failed.
    public func close() throws {
        heartbeat.cancel()
        running.cancel()
    }

    public func publicDatasetID(fingerprint: String) -> String {
        datasetKey.publicID(fingerprint: fingerprint)
    }

    // MARK: - Running queries

    /// Runs `body` with a pooled connection and blocks until it returns; server errors are translated.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) throws -> T {
        try BlockingBridge.run { [client] in
            do { return try await client.withConnection { try await body($0) } } catch { throw PostgresStore.translate(error) }
        }
    }

    /// Runs `body` in one transaction (committed if it returns, rolled back if it throws) and blocks until done.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) throws -> T {
        try BlockingBridge.run { [self] in try await asyncTransaction(body) }
    }

    func asyncTransaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch {
            throw PostgresStore.translate(error)
        }
    }

    /// The store's own errors pass through; postgres-nio's become ``PostgresStoreError`` with the
    /// server's message only (its detail field can quote key values, such as a fingerprint).
    static func translate(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        if error.code == .server {
            return PostgresStoreError.server(
                message: error.serverInfo?[.message] ?? "unknown", code: error.serverInfo?[.sqlState] ?? "?")
        }
        return PostgresStoreError.server(message: describe(error), code: "connection")
    }

    /// A message for a connection failure that names its cause without the password.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}

extension PostgresRow {
    /// The row's cells by column name (the queries alias every column they read).
    var cells: PostgresRandomAccessRow { makeRandomAccess() }
}

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, _ type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }

    /// A generation's status column (the schema's CHECK admits only ``GenerationStatus``'s values).
    func generationStatus(_ column: String) throws -> GenerationStatus {
        let text = try value(column, String.self)
        guard let status = GenerationStatus(rawValue: text) else { throw PostgresStoreError.unexpectedValue(column: column, value: text) }
        return status
    }
}
