import Foundation

/// Runs blocking work (SQLite, file reading, calibration) on a Dispatch queue, off the cooperative pool.
///
/// Not `NIOThreadPool.singleton`: it has one thread per core (two here), so one reservation that
/// calibrates (about a second) would hold half of it while every running job waits to checkpoint;
/// Dispatch's global queue adds threads while its work blocks.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
