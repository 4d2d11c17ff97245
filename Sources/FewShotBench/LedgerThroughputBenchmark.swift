import ArgumentParser
import DPAccounting
import FewShotCore
import FewShotStore
import FewShotStorePostgres
import FewShotTestSupport
import Foundation

/// `fewshot-bench ledger-throughput`: what the store itself sustains, on SQLite and on PostgreSQL side
/// by side: reservations per second from N concurrent clients (all on one data set, so serialised by
/// its lock, and each on its own data set), and the latency of a per-token checkpoint from N
/// generations at once. The accountant is basic composition (microseconds), so the numbers are the
/// store's, not the accountant's. Each client is a thread, as each `fewshot gen` or replica request is.
struct LedgerThroughputBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-throughput",
        abstract: "Reservations/s under N concurrent clients and per-token checkpoint p50/p99, for SQLite and PostgreSQL.")

    @Option(help: "Concurrent clients (threads).")
    var clients = 16

    @Option(help: "Seconds each measurement runs.")
    var seconds = 5.0

    @Option(help: "PostgreSQL store URL (password from PGPASSWORD); default $FEWSHOT_BENCH_POSTGRES_URL. Without either only SQLite is measured.")
    var postgres: String?

    @Option(help: "SQLite store file (default: a new temporary file).")
    var sqlite: String?

    func run() throws {
        let temporary = BenchLedger.scratchPath("fewshot-ledger-throughput")
        defer { BenchLedger.removeSQLite(temporary) }
        var stores: [(name: String, open: () throws -> any LedgerStore)] = [("sqlite", { [sqlite] in try FewShotStore(path: sqlite ?? temporary) })]
        let url = postgres ?? ProcessInfo.processInfo.environment["FEWSHOT_BENCH_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let url { stores.append(("postgres", { try PostgresStore(url: url) })) }
        print("ledger throughput: \(clients) concurrent clients, \(seconds) s per measurement, basic-composition accountant")
        for (name, open) in stores {
            let store = try open()
            let shared = try BenchLedger.dataset(store, examples: 1000, epsilon: 1e9)
            let own = try (0..<clients).map { _ in try BenchLedger.dataset(store, examples: 1000, epsilon: 1e9) }
            let oneDataset = try measureReservations(store) { _ in shared }
            let ownDataset = try measureReservations(store) { own[$0] }
            let checkpoints = try measureCheckpoints(store, dataset: shared)
            print("  \(name) (\(store.location)):")
            print(String(format: "    reservations, %d clients on one data set:   %.0f/s (%d in %.1f s)", clients, oneDataset.rate, oneDataset.count, seconds))
            print(String(format: "    reservations, %d clients on own data sets:  %.0f/s (%d in %.1f s)", clients, ownDataset.rate, ownDataset.count, seconds))
            print("    per-token checkpoints, \(clients) generations:   \(LatencySamples.summary(checkpoints))")
            try store.close()
        }
    }

    static let plan = GenerationPlan(demonstrations: [.init(label: "A", tokenEvent: .pureDP(epsilon: 0.001), maxTokens: 10)])

    /// Each client reserves and abandons (so its reservation is closed, as most are) in a loop.
    func measureReservations(_ store: any LedgerStore, dataset: @escaping @Sendable (Int) -> String) throws -> (count: Int, rate: Double) {
        let stop = LockedFlag()
        let done = LatencySamples()
        let failures = LatencySamples()
        let group = DispatchGroup()
        let start = DispatchTime.now().uptimeNanoseconds
        for client in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                let accountant = BasicCompositionAccountant()
                while !stop.isSet {
                    do {
                        let reservation = try store.reserve(dataset: dataset(client), plan: Self.plan, accountant: accountant)
                        done.add(1)
                        try store.abandon(reservation)
                    } catch {
                        failures.add(1)
                        print("reservation failed: \(error)")
                        return
                    }
                }
            }.start()
        }
        Thread.sleep(forTimeInterval: seconds)
        stop.set()
        group.wait()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard failures.drain().isEmpty else { throw ValidationError("reservations failed; see above") }
        let count = done.drain().count
        return (count, Double(count) / elapsed)
    }

    /// Each client checkpoints one more token of its own generation in a loop (demonstrations of 100
    /// tokens, one after the other, as a generator writes them); latency per checkpoint.
    func measureCheckpoints(_ store: any LedgerStore, dataset: String) throws -> [Double] {
        let accountant = BasicCompositionAccountant()
        let long = GenerationPlan(demonstrations: (0..<400).map { _ in .init(label: "A", tokenEvent: .pureDP(epsilon: 1e-6), maxTokens: 100) })
        let reservations = try (0..<clients).map { _ in try store.reserve(dataset: dataset, plan: long, accountant: accountant) }
        let stop = LockedFlag()
        let samples = LatencySamples()
        let group = DispatchGroup()
        for reservation in reservations {
            group.enter()
            Thread {
                defer { group.leave() }
                var released: [Token] = []
                var position = 0
                while !stop.isSet && position < 400 {
                    released.append(Token(id: released.count, text: "t"))
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    defer { if released.count == 100 { position += 1; released = [] } }
                    do { try store.checkpoint(reservation, demonstration: position, released: released, finished: released.count == 100) } catch {
                        print("checkpoint failed: \(error)")
                        return
                    }
                    samples.add(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                }
            }.start()
        }
        Thread.sleep(forTimeInterval: seconds)
        stop.set()
        group.wait()
        for reservation in reservations { try store.abandon(reservation) }
        return samples.drain()
    }
}
