import ArgumentParser
import DPAccounting
import FewShotCore
import FewShotStore
import FewShotStorePostgres
import Foundation
import Synchronization

/// `fewshot-bench ledger`: per-token checkpoint latency of concurrent generations while another
/// generation reserves against the budget with an event the accountant has not seen (a PLD
/// computation of a second or more). The reservation's accountant runs outside SQLite's write
/// transaction, so the checkpoints should not wait for it.
struct LedgerBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Checkpoint latency (p50/p99/max) of N concurrent generations while one more reserves with a slow budget check.")

    @Option(help: "Concurrent generations checkpointing tokens.")
    var jobs = 4

    @Option(help: "Reservations made (one at a time) while the generations checkpoint.")
    var reservations = 3

    @Option(help: "Store file, or a postgres:// URL (password from PGPASSWORD) (default: a new temporary file).")
    var store: String?

    static func demonstration(sigma: Double) -> PrivacyEvent {
        .poissonSampled(samplingRate: 200.0 / 30000, event: .selfComposed(event: .gaussian(noiseMultiplier: sigma), count: 100))
    }

    func run() throws {
        let path = store ?? BenchLedger.scratchPath("fewshot-ledger-bench")
        defer { if store == nil { BenchLedger.removeSQLite(path) } }
        let ledger: any LedgerStore = PostgresStoreAddress.isPostgres(path) ? try PostgresStore(url: path) : try FewShotStore(path: path)
        let fingerprint = try BenchLedger.dataset(ledger, examples: 30000, epsilon: 1000)
        let accountant = PLDAccountant()
        func plan(_ sigma: Double, tokens: Int = 100) -> GenerationPlan {
            GenerationPlan(demonstrations: [.init(label: "A", tokenEvent: .gaussian(noiseMultiplier: sigma), maxTokens: tokens, event: Self.demonstration(sigma: sigma))])
        }
        // The generations that checkpoint: reserved first (their events then known to the cache).
        let running = try (0..<jobs).map { _ in try ledger.reserve(dataset: fingerprint, plan: plan(4, tokens: 1_000_000), accountant: accountant) }

        let stop = LockedFlag()
        let samples = LatencySamples()
        let threads = running.map { reservation in
            Thread {
                var released: [Token] = []
                while !stop.isSet {
                    released.append(Token(id: released.count, text: "t"))
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    do { try ledger.checkpoint(reservation, demonstration: 0, released: released, finished: false) } catch {
                        print("checkpoint failed: \(error)")
                        return
                    }
                    samples.add(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                }
            }
        }
        threads.forEach { $0.start() }
        Thread.sleep(forTimeInterval: 1)
        let quiet = samples.drain()
        var reserveMs: [Double] = []
        var during: [Double] = []
        for i in 0..<reservations {
            // A sigma never used before: the PLD accountant computes its distribution from scratch.
            let sigma = 3.9 + Double(i) * 0.01 + Double.random(in: 0..<0.001)
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try ledger.reserve(dataset: fingerprint, plan: plan(sigma), accountant: accountant)
            reserveMs.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            during += samples.drain()
        }
        stop.set()
        Thread.sleep(forTimeInterval: 0.2)
        print("ledger benchmark: \(jobs) generations checkpointing, \(reservations) reservations with a new PLD event each; store \(ledger.location)")
        print(String(format: "  reservation: mean %.0f ms (%@)", reserveMs.reduce(0, +) / Double(max(1, reserveMs.count)),
                     reserveMs.map { String(format: "%.0f", $0) }.joined(separator: ", ")))
        print("  checkpoints, no reservation running: \(LatencySamples.summary(quiet))")
        print("  checkpoints while reserving:         \(LatencySamples.summary(during))")
    }
}

/// A flag set once from one thread and read from others.
final class LockedFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// Latencies (ms) appended by several threads.
final class LatencySamples: Sendable {
    private let values = Mutex<[Double]>([])
    func add(_ value: Double) { values.withLock { $0.append(value) } }
    func drain() -> [Double] { values.withLock { values in defer { values = [] }; return values } }

    static func summary(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "no samples" }
        let sorted = values.sorted()
        func at(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return String(format: "%d checkpoints, p50 %.2f ms, p99 %.2f ms, max %.1f ms", sorted.count, at(0.5), at(0.99), sorted.last!)
    }
}
