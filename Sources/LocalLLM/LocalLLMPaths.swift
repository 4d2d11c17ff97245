import Foundation

/// Where the local LLM (venv, llama.cpp sources and build, server state and logs) lives on disk.
///
/// Everything the project installs or writes for the local LLM stays inside `cacheDirectory`,
/// which is never part of the repository. The directory is chosen, first match wins, from
/// the `--cache-dir` option, the `FEWSHOT_CACHE_DIR` environment variable (both name this
/// directory itself), `$XDG_CACHE_HOME/fewshot/llm`, or `$HOME/.cache/fewshot/llm`.
public struct LocalLLMPaths: Sendable, Equatable {
    public let cacheDirectory: URL

    public init(cacheDirectory: URL) {
        self.cacheDirectory = cacheDirectory.standardizedFileURL
    }

    /// Picks the cache directory from an explicit option, then the environment (see the type's doc).
    public static func resolve(
        option: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> LocalLLMPaths {
        if let option, !option.isEmpty {
            return LocalLLMPaths(cacheDirectory: absoluteURL(option))
        }
        if let dir = environment["FEWSHOT_CACHE_DIR"], !dir.isEmpty {
            return LocalLLMPaths(cacheDirectory: absoluteURL(dir))
        }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return LocalLLMPaths(cacheDirectory: URL(fileURLWithPath: xdg).appendingPathComponent("fewshot/llm"))
        }
        if let home = environment["HOME"], !home.isEmpty {
            return LocalLLMPaths(cacheDirectory: URL(fileURLWithPath: home).appendingPathComponent(".cache/fewshot/llm"))
        }
        throw LocalLLMError.noCacheDirectory
    }

    private static func absoluteURL(_ path: String) -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(expanded)
    }

    public var venvDirectory: URL { cacheDirectory.appendingPathComponent("venv") }
    public var venvPython: URL { venvDirectory.appendingPathComponent("bin/python") }
    public var pip: URL { venvDirectory.appendingPathComponent("bin/pip") }
    public var cmake: URL { venvDirectory.appendingPathComponent("bin/cmake") }
    public var ninja: URL { venvDirectory.appendingPathComponent("bin/ninja") }
    public var sourceDirectory: URL { cacheDirectory.appendingPathComponent("src") }
    public var buildDirectory: URL { cacheDirectory.appendingPathComponent("build") }
    /// The llama-server binary that `install` builds.
    public var serverBinary: URL { buildDirectory.appendingPathComponent("bin/llama-server") }
    /// The installed models, one directory per model name (`LocalModel`).
    public var modelsDirectory: URL { cacheDirectory.appendingPathComponent("models") }
    /// Where an installed model's GGUF file is; it exists only once its checksum was verified.
    public func modelFile(for model: LocalModel) -> URL {
        modelsDirectory.appendingPathComponent(model.name).appendingPathComponent(model.fileName)
    }
    /// One log file per install step, kept for diagnosing failures.
    public var installLogDirectory: URL { cacheDirectory.appendingPathComponent("logs") }
    public var pidFile: URL { cacheDirectory.appendingPathComponent("llama-server.pid") }
    public var stateFile: URL { cacheDirectory.appendingPathComponent("llama-server.json") }
    public var serverLog: URL { cacheDirectory.appendingPathComponent("llama-server.log") }
}
