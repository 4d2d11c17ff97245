import FewShotCore

/// The language model a generation job runs on, and how to release it when the job ends.
public struct JobModel: Sendable {
    public var model: any LanguageModel
    public var shutdown: @Sendable () async throws -> Void

    public init(model: any LanguageModel, shutdown: @escaping @Sendable () async throws -> Void) {
        self.model = model
        self.shutdown = shutdown
    }
}

/// Connects a model for one job (the server uses the jobs configuration's llama-server URLs).
public typealias JobModelFactory = @Sendable () async throws -> JobModel
