import ArgumentParser
import DPAccounting
import FewShotStore
import FewShotStorePostgres
import Foundation

/// `fewshot store`: operations on the store as a whole.
struct Store: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Operations on the store as a whole (moving an SQLite store into PostgreSQL).",
        subcommands: [Migrate.self])

    /// `fewshot store migrate --from FILE --to postgres://...`
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an SQLite store (ledger, budgets, demonstration sets, jobs) into an empty PostgreSQL store.",
            discussion: """
                Stop every process that uses the SQLite store first: a running generation is refused. Everything is \
                copied in one transaction, data sets keep their public ids, failed generations stay resumable, and the \
                copy is checked: every data set's spent and committed epsilon must be the same in both stores. The \
                SQLite file is left as it was. The PostgreSQL password comes from $PGPASSWORD.
                """)

        @Option(help: "The SQLite store file to copy.")
        var from: String

        @Option(help: "The PostgreSQL store: postgres://USER@HOST:PORT/DATABASE (no password in the URL; it comes from $PGPASSWORD).")
        var to: String

        func validate() throws {
            guard !PostgresStoreAddress.isPostgres(from) else { throw ValidationError("--from must be an SQLite store file, got a postgres:// URL") }
            guard FileManager.default.fileExists(atPath: from) else { throw ValidationError("--from \(from): no such file") }
            guard PostgresStoreAddress.isPostgres(to) else { throw ValidationError("--to must be a postgres://USER@HOST:PORT/DATABASE URL") }
            _ = try PostgresStoreAddress(url: to)
        }

        func run() throws {
            let source = try FewShotStore(path: from)
            let export = try source.exportLedger()
            let target = try PostgresStore(url: to)
            try target.importLedger(export)
            try target.close()
            let copy = try PostgresStore(url: to)
            let accountant = DefaultAccountant()
            for dataset in try source.datasets() {
                let before = try source.budgetStatus(dataset: dataset.fingerprint, accountant: accountant, delta: nil)
                let after = try copy.budgetStatus(dataset: dataset.fingerprint, accountant: accountant, delta: nil)
                guard before.spentEpsilon == after.spentEpsilon, before.committedEpsilon == after.committedEpsilon,
                      before.budget == after.budget, after.dataset.publicID == dataset.publicID else {
                    throw ValidationError("the copy of data set \(dataset.name) (\(dataset.publicID.prefix(12))) differs from the original; "
                        + "empty \(copy.location) before trying again")
                }
            }
            print("Copied \(export.datasets.count) data sets, \(export.generations.count) generations and \(export.sets.count) demonstration sets "
                + "from \(from) to \(copy.location); public ids and every data set's spent and committed epsilon are unchanged. "
                + "\(from) was left as it was: point --store or FEWSHOT_STORE at \(copy.location) from now on.")
            try copy.close()
            try source.close()
        }
    }
}
