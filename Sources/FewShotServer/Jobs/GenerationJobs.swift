import FewShotCore
import FewShotGeneration
import FewShotStore
import Foundation
import LLMBackends
import Logging
import NIOConcurrencyHelpers

/// The server's generation jobs: each runs a ``LedgerGeneration`` in the background from a private
/// data file under the jobs data directory, with the same ledger as `fewshot gen`.
///
/// Guarantees:
/// - A job is accepted only after its full cost is reserved on the ledger (so a budget that does not
///   fit is refused at once and nothing runs); its request is stored with the reservation.
/// - Every released token is checkpointed before the next is computed. Cancelling stops the job after
///   the current token and abandons the rest: every started demonstration stays charged in full, the rest is
///   returned. A job run by another process on the same store (another replica) is cancelled through
///   the store: its cancel flag is set here, and the runner, which polls it every
///   ``JobsConfiguration/cancelPollInterval``, stops and abandons as above. ``shutdown()`` stops every job the same way but keeps its reservation: after a restart
///   it is listed as `failed`, resumable, and ``resume(_:)`` continues without paying twice.
/// - Views, logs and metrics hold ids, counts, paths and settings: never private or generated text.
public actor GenerationJobs {
    let store: any LedgerStore
    let configuration: JobsConfiguration
    let connect: JobModelFactory
    let metrics: ServerMetrics
    let logger: Logger
    private var running: [String: RunningJob] = [:]
    private var shuttingDown = false

    public init(store: any LedgerStore, configuration: JobsConfiguration, connect: @escaping JobModelFactory, metrics: ServerMetrics, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.connect = connect
        self.metrics = metrics
        self.logger = logger
    }

    /// Prepares, reserves and starts a job; returns its view (status `running`).
    func start(_ spec: GenerationSpec) async throws -> JobView {
        try await launch(spec, resume: nil)
    }

    /// Continues a failed job from its checkpoints, under its original reservation.
    func resume(_ reference: String) async throws -> JobView {
        let record = try await blocking { [store] in try store.generationJob(reference) }
        guard record.status == .failed else {
            throw OpenAIError(status: .conflict, message: "job \(record.id) is \(JobStatus(record.status)); only a failed job can be resumed",
                              type: "invalid_request_error", code: "job_not_resumable")
        }
        guard let spec = try? JSONDecoder().decode(GenerationSpec.self, from: Data(record.request.utf8)) else {
            throw OpenAIError(status: .internalServerError, message: "job \(record.id): its stored request cannot be read", type: "server_error", code: "store_error")
        }
        return try await launch(spec, resume: record.id)
    }

    /// Stops a running job after its current token and abandons the rest of its reservation.
    func cancel(_ reference: String) async throws -> JobView {
        let record = try await blocking { [store] in try store.generationJob(reference) }
        if let job = running[record.id] {
            job.cancelRequested = true
            job.task?.cancel()
            await job.task?.value
        } else if record.status == .failed {
            _ = try await blocking { [store] in try store.abandon(generation: record.id) }
            metrics.recordGenerationJob(.cancelled)
        } else if record.status == .running {
            // Run by another process: ask it through the store. If the job ended meanwhile, say so.
            let asked = try await blocking { [store] in try store.requestCancel(generation: record.id) }
            if !asked {
                let now = try await view(record.id)
                throw OpenAIError(status: .conflict, message: "job \(record.id) is \(now.status); only a running or failed job can be cancelled",
                                  type: "invalid_request_error", code: "job_not_cancellable")
            }
        }
        return try await view(record.id)
    }

    func view(_ reference: String) async throws -> JobView {
        let record = try await blocking { [store] in try store.generationJob(reference) }
        return JobView(record, llmCalls: running[record.id]?.llmCalls)
    }

    func list() async throws -> [JobView] {
        let records = try await blocking { [store] in try store.generationJobs() }
        return records.map { JobView($0, llmCalls: running[$0.id]?.llmCalls) }
    }

    /// Waits until the job (if running here) has ended.
    public func wait(_ id: String) async {
        await running[id]?.task?.value
    }

    /// Refuses new jobs, stops the running ones after their current token and waits for them; their
    /// reservations stay, so each is `failed` and resumable.
    public func shutdown() async {
        shuttingDown = true
        let jobs = Array(running.values)
        for job in jobs { job.task?.cancel() }
        for job in jobs { await job.task?.value }
    }

    private func launch(_ spec: GenerationSpec, resume: String?) async throws -> JobView {
        guard !shuttingDown else {
            throw OpenAIError(status: .serviceUnavailable, message: "the server is shutting down", type: "server_error", code: "shutting_down")
        }
        let dataFile = try configuration.dataFile(spec.data)
        let prompts = configuration.promptsDirectory
        let prepared: PreparedGeneration
        do {
            prepared = try await blocking { try PreparedGeneration.prepare(spec, prompts: prompts, dataFile: dataFile) }
        } catch {
            throw OpenAIError.invalidRequest("\(error)", code: "invalid_job")
        }
        let model: ConnectedModel
        do {
            model = try await connect()
        } catch {
            throw OpenAIError(status: .serviceUnavailable, message: "the jobs LLM cannot be reached: \(error)", type: "server_error", code: "llm_unavailable")
        }
        // As `fewshot gen`: a plan the LLM server cannot hold (too few slots or too little context)
        // is refused before anything is reserved, with the `fewshot llm start` command that fits it.
        do {
            try await ServerCapacity.check(prepared, report: PlanReport(prepared), model: model.model)
        } catch let error as CapacityError {
            try? await model.shutdown()
            throw OpenAIError(status: .serviceUnavailable, message: "\(error)", type: "server_error", code: "llm_too_small")
        } catch {
            try? await model.shutdown()
            throw OpenAIError(status: .serviceUnavailable, message: "the jobs LLM cannot be reached: \(error)", type: "server_error", code: "llm_unavailable")
        }
        let generation = LedgerGeneration(prepared: prepared, ledger: store)
        let request = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        let start: GenerationStart
        do {
            start = try await blocking { try generation.begin(resume: resume, job: resume == nil ? request : nil) }
        } catch {
            try? await model.shutdown()
            throw error
        }
        let id = start.reservation!.id
        let job = RunningJob()
        running[id] = job
        metrics.recordGenerationJob(resume == nil ? .started : .resumed)
        logger.info("generation job started", metadata: [
            "job": .string(id), "task": .string(prepared.task.name),
            "dataset": .string(String(store.publicDatasetID(fingerprint: prepared.dataset.fingerprint).prefix(16))),
            "resumed": .stringConvertible(resume != nil),
        ])
        // The watcher first, so that the job's end always finds it to cancel.
        job.watcher = Task.detached { [store, interval = configuration.cancelPollInterval] in
            await Self.watchForCancel(id: id, job: job, store: store, every: interval)
        }
        job.task = Task.detached { [self] in
            await self.execute(id: id, generation: generation, start: start, model: model, job: job)
        }
        return try await view(id)
    }

    private nonisolated func execute(id: String, generation: LedgerGeneration, start: GenerationStart, model: ConnectedModel, job: RunningJob) async {
        let dataset = String(store.publicDatasetID(fingerprint: generation.prepared.dataset.fingerprint).prefix(16))
        let metrics = self.metrics
        let state: ServerMetrics.GenerationJobEvent
        do {
            _ = try await generation.run(
                start, model: model.model,
                onToken: { _ in metrics.recordTokensReleased(dataset: dataset, count: 1) },
                onProgress: { progress in job.llmCalls = progress.llmCalls },
                abandonWhenStopped: { job.cancelRequested })
            state = .completed
            logger.info("generation job completed", metadata: ["job": .string(id)])
        } catch {
            // The run abandoned it if a cancel was asked for (and abandoning worked), else marked it failed.
            let ended = try? await blocking { [store] in try store.generationJob(id).status }
            state = ended == .abandoned ? .cancelled : .failed
            logger.warning("generation job stopped", metadata: ["job": .string(id), "state": .string(state.rawValue), "reason": .string(LedgerGeneration.stopReason(error))])
        }
        job.watcher?.cancel()
        try? await model.shutdown()
        metrics.recordGenerationJob(state)
        await finished(id)
    }

    /// Polls the job's cancel flag, which another replica's admin API sets, and stops the job when it
    /// is set, as a local cancel does. Ends when the job's task ends (it cancels this watcher).
    private static func watchForCancel(id: String, job: RunningJob, store: any LedgerStore, every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            guard let asked = try? await blocking({ try store.cancelRequested(generation: id) }) else { continue }
            if asked {
                job.cancelRequested = true
                job.task?.cancel()
                return
            }
        }
    }

    private func finished(_ id: String) {
        running[id] = nil
    }
}

/// A job running in this process: its task and what the API shows while it runs.
final class RunningJob: Sendable {
    private struct State {
        var task: Task<Void, Never>?
        var watcher: Task<Void, Never>?
        var cancelRequested = false
        var llmCalls = 0
    }

    private let state = NIOLockedValueBox(State())

    var task: Task<Void, Never>? {
        get { state.withLockedValue { $0.task } }
        set { state.withLockedValue { $0.task = newValue } }
    }
    /// Polls the store for a cancel asked through another replica.
    var watcher: Task<Void, Never>? {
        get { state.withLockedValue { $0.watcher } }
        set { state.withLockedValue { $0.watcher = newValue } }
    }
    var cancelRequested: Bool {
        get { state.withLockedValue { $0.cancelRequested } }
        set { state.withLockedValue { $0.cancelRequested = newValue } }
    }
    var llmCalls: Int {
        get { state.withLockedValue { $0.llmCalls } }
        set { state.withLockedValue { $0.llmCalls = newValue } }
    }
}
