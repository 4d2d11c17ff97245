import Foundation

/// Runs blocking work (SQLite, file reading, calibration) on a Dispatch queue, off the cooperative pool.
///
/// Not `NIOThreadPool.singleton`: it has one thread per core (two here), so one reservation that
/// calibrates (about a second) would hold half of it while every running job waits to checkpoint.
/// Dispatch's global queue adds workers while its threads block: on this 2-core machine eight
/// 1-second blocking calls finished in 3 s (two threads would take 4 s).
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
