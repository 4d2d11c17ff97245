import Foundation
import Testing
@testable import LocalLLM

@Suite struct ServerStateTests {
    @Test func stateFileRoundTripsAndWritesThePIDFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let server = RunningServer(
            url: URL(string: "http://127.0.0.1:8093")!, port: 8093, pid: 4242, model: "/m/a b.gguf",
            serverBinary: "/b/llama-server", parallelSlots: 10, contextSize: 20480,
            logFile: paths.serverLog.path, startedAt: Date(timeIntervalSince1970: 1_790_000_000))
        try ServerStateFile.write(server, paths: paths)

        #expect(try ServerStateFile.read(paths: paths) == server)
        #expect(ServerStateFile.readPID(paths: paths) == 4242)
        let json = try String(contentsOf: paths.stateFile, encoding: .utf8)
        #expect(json.contains("\"port\" : 8093"))

        ServerStateFile.remove(paths: paths)
        #expect(try ServerStateFile.read(paths: paths) == nil)
        #expect(ServerStateFile.readPID(paths: paths) == nil)
    }

    @Test func corruptStateFileIsReportedWithItsPath() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        try Data("{not json".utf8).write(to: paths.stateFile)
        do {
            _ = try ServerStateFile.read(paths: paths)
            Issue.record("a corrupt state file was accepted")
        } catch let error as LocalLLMError {
            #expect("\(error)".contains(paths.stateFile.path))
        }
    }

    @Test func noStateMeansNotStartedAndNothingToStop() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let server = LocalLLMServer(paths: LocalLLMPaths(cacheDirectory: dir.url))
        #expect(try await server.status() == .notStarted)
        #expect(await server.running() == nil)
        #expect(try await server.stop() == .notRunning)
    }
}

@Suite struct InstallationJSONTests {
    @Test func installationEncodesPlainPathsAndRoundTrips() throws {
        let installation = LocalLLMInstallation(
            serverBinary: URL(fileURLWithPath: "/c/build/bin/llama-server"), serverVersion: "version: 1 (abc)",
            model: URL(fileURLWithPath: "/c/m.gguf"), modelBytes: 1234)
        let data = try JSONEncoder().encode(installation)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["model"] as? String == "/c/m.gguf")
        #expect(object["serverBinary"] as? String == "/c/build/bin/llama-server")
        #expect(try JSONDecoder().decode(LocalLLMInstallation.self, from: data) == installation)
    }
}
