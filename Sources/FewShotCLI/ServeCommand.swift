import ArgumentParser
import FewShotCore
import FewShotData
import FewShotServer
import FewShotStore
import Foundation
import Logging

/// `fewshot serve`: an OpenAI-compatible proxy that puts stored DP demonstrations in front of each
/// request. Only public demonstrations reach this path; private data never do.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve DP demonstrations through an OpenAI-compatible proxy (chat, completions, streaming).",
        discussion: """
            The configuration file (YAML or JSON) maps each exposed model name to an upstream, a task \
            from prompts/ and a demonstration set; see the README section 'fewshot serve'. Client keys \
            come from the environment variable it names. Stops gracefully on SIGINT/SIGTERM.
            """)

    @Option(name: .long, help: "Configuration file (YAML or JSON).")
    var config: String

    @Option(name: .long, help: "Listen on this host instead of the file's server.host.")
    var host: String?

    @Option(name: .long, help: "Listen on this port instead of the file's server.port.")
    var port: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        guard FileManager.default.fileExists(atPath: config) else {
            throw ValidationError("--config: no file at \(config)")
        }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0…65535") }
    }

    func run() async throws {
        var logger = Logger(label: "fewshot.serve") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let storePath = storeOptions.path
        var configuration = try ProxyConfigurationFile.load(
            from: URL(fileURLWithPath: config), taskLoader: TaskFile.load,
            demonstrationSetLoader: { id in try Self.storedSet(id, storePath: storePath) })
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        // The admin API needs the store; without an admin key it stays closed and the store unopened.
        let store = configuration.adminKey == nil ? nil : try storeOptions.open()
        try await ProxyServer(configuration: configuration, logger: logger, store: store).run()
    }

    /// A stored set; whether it may be served is the configuration loader's rule (not private: refused).
    static func storedSet(_ id: String, storePath: String) throws -> DemonstrationSetRecord {
        let store = try StoreOptions.open(storePath)
        defer { try? store.close() }
        return try store.demonstrationSet(id)
    }
}
