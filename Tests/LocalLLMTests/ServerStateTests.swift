import Foundation
import Testing
@testable import LocalLLM

@Suite struct ServerStateTests {
    @Test func stateFileRoundTripsAndWritesThePIDFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let server = RunningServer(
            url: URL(string: "http://127.0.0.1:8093")!, port: 8093, pid: 4242, modelName: "gemma3-270m", model: "/m/a b.gguf",
            serverBinary: "/b/llama-server", parallelSlots: 10, contextSize: 20480,
            logFile: paths.serverLog.path, startedAt: Date(timeIntervalSince1970: 1_790_000_000))
        try ServerStateFile.write(server, paths: paths)

        #expect(try ServerStateFile.read(paths: paths) == server)
        #expect(ServerStateFile.readPID(paths: paths) == 4242)
        let json = try String(contentsOf: paths.stateFile, encoding: .utf8)
        #expect(json.contains("\"port\" : 8093"))
        #expect(json.contains("\"modelName\" : \"gemma3-270m\""))

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
            models: [
                InstalledModel(name: "smollm2-135m", path: URL(fileURLWithPath: "/c/models/s/m.gguf"), bytes: 1234),
                InstalledModel(name: "gemma3-270m", path: URL(fileURLWithPath: "/c/models/g/g.gguf"), bytes: 5678),
            ])
        let data = try JSONEncoder().encode(installation)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        // `model` stays the default model's path: scripts/test reads it.
        #expect(object["model"] as? String == "/c/models/s/m.gguf")
        #expect(object["modelBytes"] as? Int == 1234)
        #expect(object["serverBinary"] as? String == "/c/build/bin/llama-server")
        let models = try #require(object["models"] as? [[String: Any]])
        #expect(models.map { $0["name"] as? String } == ["smollm2-135m", "gemma3-270m"])
        #expect(models.map { $0["path"] as? String } == ["/c/models/s/m.gguf", "/c/models/g/g.gguf"])
        #expect(try JSONDecoder().decode(LocalLLMInstallation.self, from: data) == installation)
    }

    @Test func withoutTheDefaultModelThereIsNoModelAndTheInstallIsIncomplete() throws {
        let installation = LocalLLMInstallation(
            serverBinary: URL(fileURLWithPath: "/c/llama-server"), serverVersion: "version: 1",
            models: [InstalledModel(name: "gemma3-270m", path: URL(fileURLWithPath: "/c/g.gguf"), bytes: 5)])
        #expect(installation.model == nil)
        #expect(!installation.isComplete)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(installation)) as? [String: Any])
        #expect(object["model"] is NSNull)
    }

    @Test func aStateFileWithoutAModelNameStillReads() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let old = """
            {"contextSize":20480,"logFile":"/l","model":"/m/a.gguf","parallelSlots":10,"pid":7,"port":8093,
             "serverBinary":"/b/llama-server","startedAt":"2026-01-01T00:00:00Z","url":"http://127.0.0.1:8093"}
            """
        try Data(old.utf8).write(to: paths.stateFile)
        let server = try #require(try ServerStateFile.read(paths: paths))
        #expect(server.modelName == nil)
        #expect(server.modelDescription == "/m/a.gguf")
    }
}
