import Foundation
@testable import LocalLLM

/// Processes whose program name is `llama-server` but which are ordinary system tools,
/// so stopping and start-failure paths can be tested without the real server.
struct FakeLlamaServer {
    let directory: TemporaryDirectory
    let binary: URL

    /// Copies `tool` (an executable that ignores its argv[0]) to `<tmp>/llama-server`.
    init(copying tool: String) throws {
        directory = try TemporaryDirectory()
        binary = directory.url.appendingPathComponent("llama-server")
        try FileManager.default.copyItem(atPath: tool, toPath: binary.path)
    }

    /// A shell script named llama-server (its cmdline starts with /bin/sh, so it is NOT recognised as one).
    init(script: String) throws {
        directory = try TemporaryDirectory()
        binary = directory.url.appendingPathComponent("llama-server")
        try Data("#!/bin/sh\n\(script)\n".utf8).write(to: binary)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
    }

    /// Launched the way LocalLLMServer launches servers (signals unblocked), logging into the temp dir.
    func launch(_ arguments: [String]) throws -> Process {
        try ExternalCommand(executable: binary, arguments: arguments)
            .launch(logTo: directory.url.appendingPathComponent("fake.log"))
    }
}

/// A file that starts with the GGUF magic, enough to pass the pre-start check.
func writeFakeGGUF(in directory: URL) throws -> URL {
    let url = directory.appendingPathComponent("fake.gguf")
    try Data("GGUF\u{3}\0\0\0".utf8).write(to: url)
    return url
}

func waitUntil(_ limit: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}
