import Foundation
import Testing
@testable import LocalLLM

@Suite struct StartFailureTests {
    @Test func aServerThatExitsIsReportedWithItsLogTail() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try FakeLlamaServer(script: "echo 'error: failed to load model (fake)' >&2; exit 3")
        defer { fake.directory.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let options = LlamaServerOptions(serverBinary: fake.binary, model: try writeFakeGGUF(in: dir.url))
        do {
            _ = try await LocalLLMServer(paths: paths).start(options)
            Issue.record("start succeeded with a server that exits")
        } catch let error as LocalLLMError {
            guard case .serverExited(let status, _, let tail) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(status == 3)
            #expect(tail.contains("failed to load model (fake)"))
        }
        #expect(!FileManager.default.fileExists(atPath: paths.pidFile.path))
    }

    @Test func aServerThatNeverGetsHealthyTimesOutAndIsStopped() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fake = try FakeLlamaServer(script: "echo 'loading forever'; exec sleep 30")
        defer { fake.directory.remove() }
        let paths = LocalLLMPaths(cacheDirectory: dir.url)
        let options = LlamaServerOptions(
            serverBinary: fake.binary, model: try writeFakeGGUF(in: dir.url), startupTimeout: .seconds(1))
        do {
            _ = try await LocalLLMServer(paths: paths).start(options)
            Issue.record("start succeeded with a server that never answers")
        } catch let error as LocalLLMError {
            guard case .serverNotHealthy(_, let pid, let seconds, _, _, let tail) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(seconds == 1)
            #expect(tail.contains("loading forever"))
            #expect("\(error)".contains("did not report healthy"))
            #expect(!ProcessTable.isAlive(pid), "the process start launched must be stopped after the timeout")
        }
        #expect(ServerStateFile.readPID(paths: paths) == nil, "state of a failed start must be removed")
    }

    @Test func aFileThatIsNotGGUFIsRejectedBeforeLaunch() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let notModel = dir.url.appendingPathComponent("model.gguf")
        try Data("<html>".utf8).write(to: notModel)
        let fake = try FakeLlamaServer(copying: "/bin/sleep")
        defer { fake.directory.remove() }
        let options = LlamaServerOptions(serverBinary: fake.binary, model: notModel)
        await #expect(throws: LocalLLMError.notAGGUFFile(path: notModel.path)) {
            try await LocalLLMServer(paths: LocalLLMPaths(cacheDirectory: dir.url)).start(options)
        }
    }
}

@Suite struct StartValidationTests {
    @Test func aServerBinaryWithAnotherNameIsRejected() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let options = LlamaServerOptions(
            serverBinary: URL(fileURLWithPath: "/bin/sleep"), model: try writeFakeGGUF(in: dir.url))
        await #expect(throws: LocalLLMError.serverBinaryMisnamed(path: "/bin/sleep")) {
            try await LocalLLMServer(paths: LocalLLMPaths(cacheDirectory: dir.url)).start(options)
        }
    }
}
