import Foundation

/// How to start llama-server: which binary and model, where to listen, how many parallel slots.
///
/// `arguments(port:)` always binds 127.0.0.1 and pins the flags that keep results reproducible:
/// flash attention off (`-fa off`, its kernels change logprobs) and one KV cache per slot
/// (`--no-kv-unified`), so each of `parallelSlots` slots gets `contextSize / parallelSlots` tokens.
/// Clients that need identical logprobs across calls must also send `cache_prompt: false`.
public struct LlamaServerOptions: Sendable, Equatable {
    public static let defaultParallelSlots = 10
    public static let defaultContextPerSlot = 2048

    public var serverBinary: URL
    public var model: URL
    /// What `status` and the start message call the model (see `RunningServer.modelName`).
    public var modelName: String
    /// nil picks a free port.
    public var port: Int?
    public var parallelSlots: Int
    /// Total context over all slots; nil means `defaultContextPerSlot * parallelSlots`.
    public var contextSize: Int?
    /// nil lets llama-server choose (all cores).
    public var threads: Int?
    /// Flags the model needs (``LocalModel/serverArguments``), appended as they are.
    public var modelArguments: [String]
    public var startupTimeout: Duration

    public init(
        serverBinary: URL,
        model: URL,
        modelName: String? = nil,
        port: Int? = nil,
        parallelSlots: Int = LlamaServerOptions.defaultParallelSlots,
        contextSize: Int? = nil,
        threads: Int? = nil,
        modelArguments: [String] = [],
        startupTimeout: Duration = .seconds(120)
    ) {
        self.serverBinary = serverBinary
        self.model = model
        self.modelName = modelName ?? model.lastPathComponent
        self.port = port
        self.parallelSlots = parallelSlots
        self.contextSize = contextSize
        self.threads = threads
        self.modelArguments = modelArguments
        self.startupTimeout = startupTimeout
    }

    public var host: String { "127.0.0.1" }

    public var effectiveContextSize: Int {
        contextSize ?? Self.defaultContextPerSlot * parallelSlots
    }

    public func arguments(port: Int) -> [String] {
        var arguments = [
            "--model", model.path,
            "--host", host,
            "--port", String(port),
            "--parallel", String(parallelSlots),
            "--ctx-size", String(effectiveContextSize),
            "--no-kv-unified",
            "-fa", "off",
        ]
        if let threads { arguments += ["--threads", String(threads)] }
        return arguments + modelArguments
    }
}
