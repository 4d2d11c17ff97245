import LLMBackends

/// Connects the model of one generation job (the server's default: llama.cpp at the jobs
/// configuration's URLs; tests pass an in-process model).
public typealias JobModelFactory = @Sendable () async throws -> ConnectedModel
