import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (flock) on `<cache>/.lock`, held while one `fewshot llm` command
/// installs, starts or stops, so two of them never build into or record a server in the same
/// directory at once. The kernel drops the lock if the holder dies; the descriptor is close-on-exec,
/// so a launched llama-server never inherits it.
final class CacheDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Waits (without blocking a thread) until the lock is free, reporting once that it is waiting.
    static func acquire(
        _ paths: LocalLLMPaths, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> CacheDirectoryLock {
        try FileManager.default.createDirectory(at: paths.cacheDirectory, withIntermediateDirectories: true)
        let file = paths.cacheDirectory.appendingPathComponent(".lock").path
        let descriptor = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: file])
        }
        var reported = false
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if !reported {
                progress("another `fewshot llm` command holds \(file); waiting for it to finish")
                reported = true
            }
            do {
                try await Task.sleep(for: .milliseconds(250))
            } catch {
                close(descriptor)
                throw error
            }
        }
        return CacheDirectoryLock(descriptor: descriptor)
    }

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Call exactly once (use `defer`).
    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
