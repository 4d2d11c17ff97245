import FewShotTestSupport
import Foundation
import Synchronization

/// A `fewshot` command run as a real child process, its stdout and stderr collected as they arrive
/// (so a full pipe never blocks it) and searchable while it runs.
final class ChildProcess: Sendable {
    let process: Process
    let arguments: [String]
    private let output = Output()

    /// What the process wrote so far; shared with the pipes' handlers.
    private final class Output: Sendable {
        let streams = Mutex((stdout: Data(), stderr: Data()))
    }

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = try BuiltExecutable.find("fewshot")
        process.arguments = arguments
        process.currentDirectoryURL = ChildProcess.root
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        self.process = process
        self.arguments = arguments
        stdout.fileHandleForReading.readabilityHandler = { [output] handle in
            let chunk = handle.availableData
            if chunk.isEmpty { handle.readabilityHandler = nil } else { output.streams.withLock { $0.stdout.append(chunk) } }
        }
        stderr.fileHandleForReading.readabilityHandler = { [output] handle in
            let chunk = handle.availableData
            if chunk.isEmpty { handle.readabilityHandler = nil } else { output.streams.withLock { $0.stderr.append(chunk) } }
        }
        try process.run()
    }

    /// The repository (the tests run its `fewshot` with the repository as working directory).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    var stdout: String { output.streams.withLock { String(decoding: $0.stdout, as: UTF8.self) } }
    var stderr: String { output.streams.withLock { String(decoding: $0.stderr, as: UTF8.self) } }

    /// The first stderr line satisfying `predicate`, waiting for it; nil if the process exits (or
    /// `timeout` passes) without one.
    func stderrLine(within timeout: Duration = .seconds(120), where predicate: (String) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let exited = !process.isRunning
            if let line = stderr.split(separator: "\n").map(String.init).first(where: predicate) { return line }
            if exited || ContinuousClock.now > deadline { return nil }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Waits for the process to end (at most `timeout`, then it is killed) and gives its status.
    func finish(within timeout: Duration = .seconds(300)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { kill() ; break }
            try await Task.sleep(for: .milliseconds(25))
        }
        process.waitUntilExit()
        // The pipes' last bytes arrive on their handlers' queue after the exit.
        try await Task.sleep(for: .milliseconds(100))
        return process.terminationStatus
    }

    /// SIGKILL: the process gets no chance to tidy up, as in a crash or an OOM kill.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Runs to the end and gives (status, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(arguments, environment: environment)
        let status = try await child.finish()
        return (status, child.stdout, child.stderr)
    }
}
