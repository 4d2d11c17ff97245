import ArgumentParser
import FewShotStore

/// `--store PATH`, shared by every command that reads or writes the store and ledger.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Store file (default: $FEWSHOT_STORE, else $XDG_DATA_HOME/fewshot/fewshot.sqlite, else ~/.local/share/fewshot/fewshot.sqlite).")
    var store: String?

    var path: String { StoreLocation.resolve(store) }

    func open() throws -> FewShotStore { try FewShotStore(path: path) }
}
