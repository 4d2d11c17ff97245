import ArgumentParser
import FewShotStore
import FewShotStorePostgres
import Foundation

/// `--store PATH|URL`, shared by every command that reads or writes the store and ledger.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Store: an SQLite file, or postgres://USER@HOST:PORT/DATABASE shared by several processes and hosts (the password from $PGPASSWORD, never in the URL).",
        discussion: "Default: $FEWSHOT_STORE, else $XDG_DATA_HOME/fewshot/fewshot.sqlite, else ~/.local/share/fewshot/fewshot.sqlite."))
    var store: String?

    /// The store's file path or PostgreSQL URL.
    var path: String { StoreLocation.resolve(store) }

    /// Whether there is a store to read: an existing file, or a PostgreSQL database (the server holds it).
    var exists: Bool { PostgresStoreAddress.isPostgres(path) || FileManager.default.fileExists(atPath: path) }

    func open() throws -> any LedgerStore { try Self.open(path) }

    static func open(_ location: String) throws -> any LedgerStore {
        if PostgresStoreAddress.isPostgres(location) { return try PostgresStore(url: location) }
        return try FewShotStore(path: location)
    }

    func validate() throws {
        // A password in the URL is refused before anything runs, with where to put it instead.
        if PostgresStoreAddress.isPostgres(path) { _ = try PostgresStoreAddress(url: path) }
    }
}
