import DPAccounting
import FewShotCore
import FewShotStore
import FewShotStorePostgres
import FewShotTestSupport
import Foundation

/// A child process for the store's tests: it runs ledger operations on a shared store file so the
/// tests can kill it mid-generation (SIGKILL) or race it against another process. Not shipped.
/// STORE is an SQLite file or a postgres:// URL (password from PGPASSWORD).
///
///   FewShotStoreProbe generate STORE DATASET LABELS(comma) TOKENS EPSILON_PER_TOKEN DELAY_MS FINISH_FIRST_AT
///   FewShotStoreProbe reserve-loop STORE DATASET LABEL TOKENS EPSILON_PER_TOKEN
@main
struct ProbeMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            switch arguments.first {
            case "generate": try generate(Array(arguments.dropFirst()))
            case "reserve-loop": try reserveLoop(Array(arguments.dropFirst()))
            default: throw ProbeError("usage: FewShotStoreProbe generate|reserve-loop ...")
            }
        } catch {
            FileHandle.standardError.write(Data("probe error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func openStore(_ location: String) throws -> any LedgerStore {
        PostgresStoreAddress.isPostgres(location) ? try PostgresStore(url: location) : try FewShotStore(path: location)
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Reserves one demonstration per label and releases tokens one by one, checkpointing each;
    /// the first demonstration stops (finished) after `finishFirstAt` tokens.
    static func generate(_ a: [String]) throws {
        guard a.count == 7, let tokens = Int(a[3]), let perToken = Double(a[4]), let delay = UInt32(a[5]),
              let finishFirstAt = Int(a[6]) else { throw ProbeError("generate: bad arguments \(a)") }
        let store = try openStore(a[0])
        let labels = a[2].split(separator: ",").map(String.init)
        let plan = GenerationPlan(demonstrations: labels.map {
            .init(label: $0, tokenEvent: .pureDP(epsilon: perToken), maxTokens: tokens)
        }, summary: "probe")
        let reservation = try store.reserve(dataset: a[1], plan: plan, accountant: BasicCompositionAccountant())
        say("reserved \(reservation.id)")
        for (position, _) in labels.enumerated() {
            var released: [Token] = []
            let stopAt = position == 0 ? finishFirstAt : tokens
            for i in 1...stopAt {
                released.append(Token(id: i, text: "w\(i) "))
                try store.checkpoint(reservation, demonstration: position, released: released, finished: i == stopAt)
                say("released \(position) \(i)")
                usleep(delay * 1000)
            }
        }
        try store.complete(reservation, demonstrations: DemonstrationSetRecord(
            task: "probe", labels: labels, demonstrations: [], epsilon: 0, delta: 0, sigma: 0, mechanism: .gaussian,
            sampling: SetSampling(mode: .partition, scheme: .poisson), batches: 1, examplesPerBatch: 1, maxTokens: tokens, model: "probe", seeded: true))
        say("completed")
    }

    /// Reserves and completes single-demonstration generations until the budget refuses one.
    static func reserveLoop(_ a: [String]) throws {
        guard a.count == 5, let tokens = Int(a[3]), let perToken = Double(a[4]) else { throw ProbeError("reserve-loop: bad arguments \(a)") }
        let store = try openStore(a[0])
        let plan = GenerationPlan(demonstrations: [.init(label: a[2], tokenEvent: .pureDP(epsilon: perToken), maxTokens: tokens)])
        var reserved = 0
        while true {
            let reservation: Reservation
            do {
                reservation = try store.reserve(dataset: a[1], plan: plan, accountant: BasicCompositionAccountant())
            } catch is BudgetExceeded {
                break
            }
            reserved += 1
            try store.checkpoint(reservation, demonstration: 0, released: [Token(id: 1, text: "x")], finished: true)
            try store.complete(reservation, demonstrations: DemonstrationSetRecord(
                task: "probe", labels: [a[2]], demonstrations: [.init(label: a[2], text: "x")], epsilon: 0, delta: 0, sigma: 0,
                mechanism: .gaussian, sampling: SetSampling(mode: .partition, scheme: .poisson), batches: 1, examplesPerBatch: 1, maxTokens: tokens, model: "probe", seeded: true))
        }
        say("reserved \(reserved)")
    }
}

struct ProbeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
