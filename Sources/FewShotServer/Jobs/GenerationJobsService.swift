import ServiceLifecycle

/// Stops the generation jobs when the server shuts down gracefully: each stops after its current
/// (checkpointed) token and stays resumable. Runs alongside the HTTP server in its service group.
struct GenerationJobsService: Service {
    let jobs: GenerationJobs

    func run() async throws {
        try? await gracefulShutdown()
        await jobs.shutdown()
    }
}
