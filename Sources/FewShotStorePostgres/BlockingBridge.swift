import Foundation
import Synchronization

/// Runs postgres-nio's async work for the store's synchronous API (``LedgerStore`` is synchronous, as
/// the SQLite store is). The work runs on a Dispatch-backed task executor, never on Swift's cooperative
/// pool, so a caller that blocks a cooperative thread while it waits cannot starve the work it waits
/// for (the pool has one thread per core: two here).
enum BlockingBridge {
    final class DispatchTaskExecutor: TaskExecutor {
        let queue = DispatchQueue(label: "fewshot.postgres-store", attributes: .concurrent)

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            let executor = asUnownedTaskExecutor()
            queue.async { job.runSynchronously(on: executor) }
        }
    }

    static let executor = DispatchTaskExecutor()

    private final class Outcome<T: Sendable>: Sendable {
        private let result = Mutex<Result<T, any Error>?>(nil)
        private let done = DispatchSemaphore(value: 0)

        func finish(_ value: sending Result<T, any Error>) {
            result.withLock { $0 = value }
            done.signal()
        }

        func get() throws -> T {
            done.wait()
            return try result.withLock { $0! }.get()
        }
    }

    /// Runs `body` on ``executor`` and blocks the calling thread until it returns.
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        Task(executorPreference: executor) {
            do { outcome.finish(.success(try await body())) } catch { outcome.finish(.failure(error)) }
        }
        return try outcome.get()
    }
}
