import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// One external program invocation whose stdout and stderr go to a log file.
///
/// The exit status is awaited without blocking a thread; the log file is what failure
/// messages quote from, so a failing step always comes with its own output.
struct ExternalCommand: Sendable {
    var executable: URL
    var arguments: [String]
    var environment: [String: String]? = nil
    var workingDirectory: URL? = nil

    /// The command line as a user could paste it into a shell.
    var displayString: String {
        ([executable.path] + arguments).map { arg in
            arg.contains(" ") ? "'\(arg)'" : arg
        }.joined(separator: " ")
    }

    /// Runs to completion, writing (truncating) `log`; returns the exit status.
    func run(logTo log: URL) async throws -> Int32 {
        try await runForwardingInterrupts(logTo: log, forward: false).status
    }

    /// Like `run`, but SIGINT/SIGTERM/SIGHUP to this process stop the command's whole process group,
    /// and the signal that did so is returned.
    func runForwardingInterrupts(logTo log: URL, forward: Bool = true) async throws -> (status: Int32, interruptedBy: Int32?) {
        let process = try makeProcess(logTo: log)
        return try await withCheckedThrowingContinuation { continuation in
            let forwarding = NIOLockedValueBox<InterruptForwarding?>(nil)
            process.terminationHandler = { finished in
                let started = forwarding.withLockedValue { $0 }
                let interruptedBy = started?.receivedSignal
                started?.cancel()
                continuation.resume(returning: (finished.terminationStatus, interruptedBy))
            }
            do {
                try Self.start(process)
                if forward { forwarding.withLockedValue { $0 = InterruptForwarding(processGroup: process.processIdentifier) } }
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }

    /// Runs to completion and returns the exit status and everything it printed (stdout and stderr together).
    func output() async throws -> (status: Int32, text: String) {
        let log = FileManager.default.temporaryDirectory
            .appendingPathComponent("fewshot-cmd-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let status = try await run(logTo: log)
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return (status, text)
    }

    /// Starts the program and returns without waiting; it keeps running after this process exits.
    func launch(logTo log: URL) throws -> Process {
        let process = try makeProcess(logTo: log)
        try Self.start(process)
        return process
    }

    /// Starts `process` with no signals blocked. Swift concurrency and Dispatch worker threads block
    /// almost every signal, and a spawned child inherits the spawning thread's mask: without this,
    /// llama-server would never see the SIGTERM that `stop` sends.
    private static func start(_ process: Process) throws {
        #if canImport(Glibc)
        var none = sigset_t()
        var previous = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        #endif
        try process.run()
    }

    private func makeProcess(logTo log: URL) throws -> Process {
        try FileManager.default.createDirectory(
            at: log.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        return process
    }

    /// Finds `name` on PATH, like a shell would.
    static func which(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if name.contains("/") {
            return FileManager.default.isExecutableFile(atPath: name) ? URL(fileURLWithPath: name) : nil
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}

/// The last `lines` lines of a (possibly large) text file, or a note saying it could not be read.
func logTail(_ file: URL, lines: Int = 25) -> String {
    guard let handle = try? FileHandle(forReadingFrom: file) else { return "(no log at \(file.path))" }
    defer { try? handle.close() }
    let size = (try? handle.seekToEnd()) ?? 0
    let window: UInt64 = 64 * 1024
    try? handle.seek(toOffset: size > window ? size - window : 0)
    let data = (try? handle.readToEnd()) ?? Data()
    let text = String(decoding: data, as: UTF8.self)
    let all = text.split(separator: "\n", omittingEmptySubsequences: true)
    let tail = all.suffix(lines).joined(separator: "\n")
    return tail.isEmpty ? "(log is empty)" : tail
}
