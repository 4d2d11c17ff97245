import FewShotStore
import Foundation

/// What the two ledger benchmarks set up alike: a scratch SQLite file, and data sets with a budget.
enum BenchLedger {
    /// A new SQLite path in the temporary directory.
    static func scratchPath(_ name: String) -> String { NSTemporaryDirectory() + "\(name)-\(UUID().uuidString).sqlite" }

    /// Removes the SQLite file at `path` with its WAL files.
    static func removeSQLite(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Registers a data set of one label, `A`, with `examples` examples under a random fingerprint, and
    /// gives it a budget of (`epsilon`, 1e-5). Returns the fingerprint.
    static func dataset(_ store: any LedgerStore, examples: Int, epsilon: Double) throws -> String {
        let fingerprint = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        try store.registerDataset(fingerprint: fingerprint, name: "bench-\(fingerprint.prefix(6)).jsonl", labelCounts: ["A": examples])
        try store.setBudget(dataset: fingerprint, epsilon: epsilon, delta: 1e-5)
        return fingerprint
    }
}
