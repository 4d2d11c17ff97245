import FewShotCore

/// A connected language model and how to release its connections: what `fewshot` commands and the
/// server's generation jobs hold while they use a backend. Call `shutdown` once, when done.
public struct ConnectedModel: Sendable {
    public var model: any LanguageModel
    public var shutdown: @Sendable () async throws -> Void

    public init(model: any LanguageModel, shutdown: @escaping @Sendable () async throws -> Void) {
        self.model = model
        self.shutdown = shutdown
    }
}
