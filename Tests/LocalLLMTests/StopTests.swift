import Foundation
import Testing
@testable import LocalLLM

@Suite struct StopTests {
    func record(pid: Int32, in paths: LocalLLMPaths) throws {
        try ServerStateFile.write(
            RunningServer(
                url: URL(string: "http://127.0.0.1:1")!, port: 1, pid: pid, model: "/m.gguf",
                serverBinary: "/llama-server", parallelSlots: 1, contextSize: 2048,
                logFile: paths.serverLog.path, startedAt: Date()),
            paths: paths)
    }

    @Test func refusesToKillAProcessThatIsNotALlamaServer() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { sleeper.terminate() }
        try record(pid: sleeper.processIdentifier, in: paths)

        await #expect(throws: LocalLLMError.self) { try await LocalLLMServer(paths: paths).stop(grace: .milliseconds(200)) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(sleeper.isRunning, "stop must not signal a PID that is not a llama-server")
        #expect(!FileManager.default.fileExists(atPath: paths.pidFile.path), "the stale PID file should be removed")
        if case .stale = try await LocalLLMServer(paths: paths).status() {} else {
            // status reads the state file, which stop removed: nothing recorded any more.
            #expect(try await LocalLLMServer(paths: paths).status() == .notStarted)
        }
    }

    @Test func stopsARecordedLlamaServerWithSIGTERM() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let fake = try FakeLlamaServer(copying: "/bin/sleep")
        defer { fake.directory.remove() }
        let process = try fake.launch(["30"])
        try record(pid: process.processIdentifier, in: paths)
        #expect(ProcessTable.isLlamaServer(process.processIdentifier))

        let result = try await LocalLLMServer(paths: paths).stop(grace: .seconds(5))
        #expect(result == .stopped(pid: process.processIdentifier, forced: false))
        #expect(await waitUntil { !process.isRunning })
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM)
        #expect(!FileManager.default.fileExists(atPath: paths.stateFile.path))
        #expect(!FileManager.default.fileExists(atPath: paths.pidFile.path))
    }

    @Test func escalatesToSIGKILLWhenSIGTERMIsIgnored() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let fake = try FakeLlamaServer(copying: "/bin/bash")
        defer { fake.directory.remove() }
        let process = try fake.launch(["-c", "trap '' TERM; while :; do sleep 0.05; done"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await Task.sleep(for: .milliseconds(200))  // let bash install the trap
        try record(pid: process.processIdentifier, in: paths)

        let result = try await LocalLLMServer(paths: paths).stop(grace: .milliseconds(500))
        #expect(result == .stopped(pid: process.processIdentifier, forced: true))
        #expect(await waitUntil { !process.isRunning })
        #expect(process.terminationStatus == SIGKILL)
    }

    @Test func anExitedProcessLeavesOnlyStaleStateToRemove() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let done = Process()
        done.executableURL = URL(fileURLWithPath: "/bin/true")
        try done.run()
        done.waitUntilExit()
        try record(pid: done.processIdentifier, in: paths)

        let server = LocalLLMServer(paths: paths)
        guard case .stale(let recorded) = try await server.status() else {
            Issue.record("an exited process should be reported as stale")
            return
        }
        #expect(recorded.pid == done.processIdentifier)
        #expect(await server.running() == nil)
        #expect(try await server.stop() == .removedStaleState(pid: done.processIdentifier))
        #expect(try await server.status() == .notStarted)
    }
}

@Suite struct CacheDirectoryLockTests {
    @Test func aSecondHolderWaitsUntilTheFirstReleases() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let first = try await CacheDirectoryLock.acquire(paths)
        let lines = LineCollector()
        let second = Task { () -> ContinuousClock.Instant in
            let lock = try await CacheDirectoryLock.acquire(paths, progress: { lines.append($0) })
            lock.release()
            return ContinuousClock.now
        }
        try await Task.sleep(for: .milliseconds(600))
        let released = ContinuousClock.now
        first.release()
        let acquired = try await second.value
        #expect(acquired >= released, "the second command must not get the lock while the first holds it")
        #expect(lines.all.count == 1 && lines.all[0].contains("waiting"))
    }
}
