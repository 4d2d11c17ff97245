import Foundation

/// Where the server's generation jobs find their inputs: the only directory whose data files an admin
/// request may name, the task files, and the LLM (llama.cpp native API) that generates.
///
/// Guarantee: ``dataFile(_:)`` returns only files inside `dataDirectory` (after resolving `..` and
/// symbolic links), so the admin API cannot make the server read other files.
public struct JobsConfiguration: Sendable {
    public var dataDirectory: URL
    public var promptsDirectory: URL
    /// llama-server base URLs (e.g. http://127.0.0.1:8090), requests spread over them.
    public var llmURLs: [String]
    /// How often a running job reads its cancel flag, which another replica on the same store sets.
    public var cancelPollInterval: Duration

    public init(dataDirectory: URL, promptsDirectory: URL, llmURLs: [String], cancelPollInterval: Duration = .seconds(1)) {
        self.dataDirectory = dataDirectory
        self.promptsDirectory = promptsDirectory
        self.llmURLs = llmURLs
        self.cancelPollInterval = cancelPollInterval
    }

    /// The data file a job names (relative to `dataDirectory`, or absolute inside it).
    public func dataFile(_ path: String) throws -> URL {
        let root = dataDirectory.standardizedFileURL.resolvingSymlinksInPath().path
        let candidate = (path.hasPrefix("/") ? URL(fileURLWithPath: path) : dataDirectory.appendingPathComponent(path))
            .standardizedFileURL.resolvingSymlinksInPath()
        guard candidate.path.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw OpenAIError(status: .forbidden, message: "data: '\(path)' is outside the server's jobs data directory", type: "invalid_request_error", code: "data_outside_data_dir")
        }
        return candidate
    }
}
