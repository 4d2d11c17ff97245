import Foundation

/// A llama-server this project started: where it listens and which process it is.
///
/// Stored as JSON next to a plain PID file in the cache directory, so a later `fewshot`
/// invocation can find, check and stop exactly this process and no other.
public struct RunningServer: Sendable, Equatable, Codable {
    public var url: URL
    public var port: Int
    public var pid: Int32
    /// The model's name in the `LocalModel` table, or the GGUF file's name for any other file;
    /// nil in state files written before models had names.
    public var modelName: String?
    /// The GGUF file's path.
    public var model: String
    public var serverBinary: String
    public var parallelSlots: Int
    public var contextSize: Int
    public var logFile: String
    public var startedAt: Date

    /// "gemma3-270m (/path/to/file.gguf)", or the path alone when no name was recorded.
    public var modelDescription: String {
        modelName.map { "\($0) (\(model))" } ?? model
    }
}

/// Reading and writing the state JSON and PID file of a `RunningServer`.
enum ServerStateFile {
    static func write(_ server: RunningServer, paths: LocalLLMPaths) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        try FileManager.default.createDirectory(at: paths.cacheDirectory, withIntermediateDirectories: true)
        try encoder.encode(server).write(to: paths.stateFile, options: .atomic)
        try Data("\(server.pid)\n".utf8).write(to: paths.pidFile, options: .atomic)
    }

    /// nil when there is no state file; throws when it exists but cannot be read.
    static func read(paths: LocalLLMPaths) throws -> RunningServer? {
        guard FileManager.default.fileExists(atPath: paths.stateFile.path) else { return nil }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(RunningServer.self, from: Data(contentsOf: paths.stateFile))
        } catch {
            throw LocalLLMError.invalidStateFile(path: paths.stateFile.path, problem: "\(error)")
        }
    }

    /// The PID in the PID file, if the file exists and holds a number.
    static func readPID(paths: LocalLLMPaths) -> Int32? {
        guard let text = try? String(contentsOf: paths.pidFile, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func remove(paths: LocalLLMPaths) {
        try? FileManager.default.removeItem(at: paths.stateFile)
        try? FileManager.default.removeItem(at: paths.pidFile)
    }
}
