import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts, finds and stops the one llama-server recorded in a cache directory.
///
/// Guarantees: `start` returns only once `GET /health` answers ok (otherwise it stops the
/// process it launched and throws with the server log's last lines); at most one server is
/// recorded per cache directory; `stop` signals only the recorded PID, and only if that PID
/// is still a llama-server.
public struct LocalLLMServer: Sendable {
    /// Where the server state lives, and what `status` says about it.
    public enum Status: Sendable, Equatable {
        case notStarted
        /// The recorded process is gone (or its PID now belongs to another program).
        case stale(RunningServer)
        case unhealthy(RunningServer, reason: String)
        case healthy(RunningServer)
    }

    /// What `start` did.
    public struct Started: Sendable, Equatable {
        public var server: RunningServer
        /// True when a server from an earlier `start` was still running and was reused as is.
        public var wasAlreadyRunning: Bool
    }

    /// What `stop` did.
    public enum Stopped: Sendable, Equatable {
        case notRunning
        case removedStaleState(pid: Int32)
        case stopped(pid: Int32, forced: Bool)
    }

    public let paths: LocalLLMPaths

    public init(paths: LocalLLMPaths) {
        self.paths = paths
    }

    public func start(
        _ options: LlamaServerOptions,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> Started {
        let lock = try await CacheDirectoryLock.acquire(paths, progress: progress)
        defer { lock.release() }
        switch try await status() {
        case .healthy(let server):
            return Started(server: server, wasAlreadyRunning: true)
        case .unhealthy(let server, _):
            // Still loading from an earlier start: wait for it rather than starting a second one.
            progress("llama-server pid \(server.pid) from an earlier start is running but not healthy yet; waiting")
            try await waitUntilHealthy(server, process: nil, timeout: options.startupTimeout)
            return Started(server: server, wasAlreadyRunning: true)
        case .stale, .notStarted:
            ServerStateFile.remove(paths: paths)
        }

        guard FileManager.default.isExecutableFile(atPath: options.serverBinary.path) else {
            throw LocalLLMError.notInstalled(what: "llama-server", path: options.serverBinary.path)
        }
        // `stop` and `status` recognise the process by this name in /proc/PID/cmdline.
        guard options.serverBinary.lastPathComponent == "llama-server" else {
            throw LocalLLMError.serverBinaryMisnamed(path: options.serverBinary.path)
        }
        try GGUFFile.check(options.model)
        let port: Int
        if let requested = options.port {
            guard FreePort.isFree(requested) else { throw LocalLLMError.portInUse(port: requested) }
            port = requested
        } else {
            port = try FreePort.find()
        }

        let command = ExternalCommand(executable: options.serverBinary, arguments: options.arguments(port: port))
        progress("starting llama-server with model \(options.modelName): \(command.displayString)")
        progress("log: \(paths.serverLog.path)")
        let process = try command.launch(logTo: paths.serverLog)
        let server = RunningServer(
            url: URL(string: "http://\(options.host):\(port)")!,
            port: port,
            pid: process.processIdentifier,
            modelName: options.modelName,
            model: options.model.path,
            serverBinary: options.serverBinary.path,
            parallelSlots: options.parallelSlots,
            contextSize: options.effectiveContextSize,
            logFile: paths.serverLog.path,
            // Whole seconds: the state file stores ISO 8601 without fractions, and a re-read must compare equal.
            startedAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
        try ServerStateFile.write(server, paths: paths)
        do {
            try await waitUntilHealthy(server, process: process, timeout: options.startupTimeout)
        } catch {
            // We launched this process ourselves, so it is ours to end even if it is not (yet) a llama-server.
            if process.isRunning { _ = await terminate(process.processIdentifier, grace: .seconds(5)) }
            ServerStateFile.remove(paths: paths)
            throw error
        }
        return Started(server: server, wasAlreadyRunning: false)
    }

    /// The recorded server if its process is alive and `/health` answers ok; nil otherwise.
    public func running() async -> RunningServer? {
        if case .healthy(let server) = try? await status() { return server }
        return nil
    }

    /// Reads the state file, checks the PID is a live llama-server, and probes `/health`.
    public func status() async throws -> Status {
        guard let server = try ServerStateFile.read(paths: paths) else { return .notStarted }
        guard ProcessTable.isLlamaServer(server.pid) else { return .stale(server) }
        switch await HealthProbe.check(server.url) {
        case .healthy: return .healthy(server)
        case .unhealthy(let reason): return .unhealthy(server, reason: reason)
        }
    }

    /// SIGTERM to the recorded PID, SIGKILL after `grace`; removes the PID and state files.
    /// Throws `notALlamaServer` (after removing the stale files) if the PID now belongs to another program.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) async throws -> Stopped {
        let lock = try await CacheDirectoryLock.acquire(paths)
        defer { lock.release() }
        let recorded = (try? ServerStateFile.read(paths: paths))??.pid
        guard let pid = ServerStateFile.readPID(paths: paths) ?? recorded else {
            ServerStateFile.remove(paths: paths)
            return .notRunning
        }
        guard let commandLine = ProcessTable.commandLine(of: pid) else {
            ServerStateFile.remove(paths: paths)
            return .removedStaleState(pid: pid)
        }
        guard ProcessTable.isLlamaServer(pid) else {
            ServerStateFile.remove(paths: paths)
            throw LocalLLMError.notALlamaServer(pid: pid, commandLine: commandLine, pidFile: paths.pidFile.path)
        }
        guard let forced = await terminate(pid, grace: grace) else { throw LocalLLMError.couldNotStop(pid: pid) }
        ServerStateFile.remove(paths: paths)
        return .stopped(pid: pid, forced: forced)
    }

    /// SIGTERM, then SIGKILL after `grace`. Returns whether SIGKILL was needed, nil if the process survived both.
    private func terminate(_ pid: Int32, grace: Duration) async -> Bool? {
        ProcessTable.signal(pid, SIGTERM)
        if await waitForExit(pid, within: grace) { return false }
        ProcessTable.signal(pid, SIGKILL)
        return await waitForExit(pid, within: .seconds(5)) ? true : nil
    }

    private func waitForExit(_ pid: Int32, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if !ProcessTable.isAlive(pid) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return !ProcessTable.isAlive(pid)
    }

    private func waitUntilHealthy(_ server: RunningServer, process: Process?, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastProblem = "no answer yet"
        while ContinuousClock.now < deadline {
            if let process, !process.isRunning {
                throw LocalLLMError.serverExited(
                    exitCode: process.terminationStatus, logFile: server.logFile,
                    logTail: logTail(URL(fileURLWithPath: server.logFile)))
            }
            if process == nil, !ProcessTable.isLlamaServer(server.pid) {
                throw LocalLLMError.serverExited(
                    exitCode: -1, logFile: server.logFile, logTail: logTail(URL(fileURLWithPath: server.logFile)))
            }
            switch await HealthProbe.check(server.url, timeout: .seconds(2)) {
            case .healthy: return
            case .unhealthy(let reason): lastProblem = reason
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw LocalLLMError.serverNotHealthy(
            url: server.url.absoluteString, pid: server.pid, seconds: Int(timeout.components.seconds), lastProblem: lastProblem,
            logFile: server.logFile, logTail: logTail(URL(fileURLWithPath: server.logFile)))
    }
}
