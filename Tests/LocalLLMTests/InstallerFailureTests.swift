import Foundation
import Testing
@testable import LocalLLM

@Suite struct InstallerFailureTests {
    @Test func aFailingStepIsNamedWithItsCommandAndLogTail() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let python = dir.url.appendingPathComponent("python3")
        try Data("#!/bin/sh\necho \"Error: venv module missing (fake) args=$*\" >&2\nexit 7\n".utf8).write(to: python)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: python.path)
        let paths = LocalLLMPaths(cacheDirectory: dir.url.appendingPathComponent("cache"))
        let installer = LocalLLMInstaller(paths: paths, python: python.path)
        let lines = LineCollector()
        do {
            _ = try await installer.install(progress: { lines.append($0) })
            Issue.record("install succeeded with a Python that fails")
        } catch let error as LocalLLMError {
            guard case .installStepFailed(let step, let command, let status, let log, let tail) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(step == "python venv")
            #expect(status == 7)
            #expect(command.contains("-m venv \(paths.venvDirectory.path)"))
            #expect(tail.contains("venv module missing (fake)"))
            #expect(FileManager.default.fileExists(atPath: log))
            #expect("\(error)".contains("install step 'python venv' failed (exit status 7)"))
        }
        #expect(lines.all.contains { $0.hasPrefix("[1/7] python venv: creating") })
    }

    @Test func aMissingPythonIsNamed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let installer = LocalLLMInstaller(
            paths: LocalLLMPaths(cacheDirectory: dir.url), python: "no-such-python-\(UUID().uuidString)")
        do {
            _ = try await installer.install(progress: { _ in })
            Issue.record("install succeeded without Python")
        } catch let error as LocalLLMError {
            #expect("\(error)".contains("was not found on PATH"))
        }
    }

    @Test func nothingInstalledIsReportedAsMissing() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let installation = try await LocalLLMInstaller(paths: LocalLLMPaths(cacheDirectory: dir.url)).inspect()
        #expect(installation.serverVersion == nil)
        #expect(installation.model == nil)
        #expect(installation.models.isEmpty)
        #expect(!installation.isComplete)
    }
}

/// Collects progress lines from a @Sendable callback.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
