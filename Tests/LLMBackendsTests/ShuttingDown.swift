import LLMBackends

/// Runs `body` and then shuts `transport` down, also when `body` throws: AsyncHTTPClient traps on a
/// client released without shutdown, which would turn one failing test into a crashed test run.
func shuttingDown<T>(_ transport: HTTPTransport, _ body: (HTTPTransport) async throws -> T) async throws -> T {
    let result: T
    do {
        result = try await body(transport)
    } catch {
        try? await transport.shutdown()
        throw error
    }
    try await transport.shutdown()
    return result
}
