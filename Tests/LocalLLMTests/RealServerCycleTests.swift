import Foundation
import Testing
@testable import LocalLLM

/// Starts the real llama-server built by `fewshot llm install`; scripts/test sets the two variables.
@Suite struct RealServerCycleTests {
    @Test func startHealthStopAgainstTheRealBinary() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let binary = environment["FEWSHOT_TEST_LLAMA_SERVER"], let model = environment["FEWSHOT_TEST_MODEL"] else {
            Issue.record("""
                FEWSHOT_TEST_LLAMA_SERVER (path to llama-server) and FEWSHOT_TEST_MODEL (path to a GGUF) are not set; \
                run the tests through scripts/test, which installs the local LLM and sets them
                """)
            return
        }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let server = LocalLLMServer(paths: paths)
        let options = LlamaServerOptions(
            serverBinary: URL(fileURLWithPath: binary), model: URL(fileURLWithPath: model),
            parallelSlots: 2, contextSize: 1024, startupTimeout: .seconds(60))

        let started = try await server.start(options)
        defer { if ProcessTable.isLlamaServer(started.server.pid) { kill(started.server.pid, SIGKILL) } }
        #expect(!started.wasAlreadyRunning)
        #expect(started.server.url.absoluteString == "http://127.0.0.1:\(started.server.port)")
        #expect(ProcessTable.isLlamaServer(started.server.pid))
        #expect(await HealthProbe.check(started.server.url) == .healthy)
        #expect(await server.running() == started.server)
        #expect(ServerStateFile.readPID(paths: paths) == started.server.pid)
        let log = try String(contentsOf: paths.serverLog, encoding: .utf8)
        #expect(log.contains("n_ctx_seq") || log.contains("n_ctx"), "the server log should be written to \(paths.serverLog.path)")

        let again = try await server.start(options)
        #expect(again.wasAlreadyRunning)
        #expect(again.server.pid == started.server.pid)

        let stopped = try await server.stop()
        #expect(stopped == .stopped(pid: started.server.pid, forced: false))
        #expect(!ProcessTable.isAlive(started.server.pid))
        #expect(await HealthProbe.check(started.server.url) != .healthy)
        #expect(await server.running() == nil)
        #expect(!FileManager.default.fileExists(atPath: paths.pidFile.path))
    }
}
