import ArgumentParser
import DPAccounting
import FewShotStore
import Foundation

/// `fewshot demos`: list, show, export and delete stored demonstration sets.
struct Demos: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demos",
        abstract: "List, show, export or delete stored demonstration sets (deleting never returns privacy budget).",
        subcommands: [List.self, Show.self, Export.self, Delete.self])


    /// `fewshot demos list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List demonstration sets, newest first.")

        @Option(name: .long, help: "Only sets generated from this data set (its id as `fewshot budget show` lists it, a prefix, or its name).")
        var dataset: String?

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let store = try storeOptions.open()
            let sets = try store.demonstrationSets(dataset: try dataset.map { try store.dataset(matching: $0).fingerprint })
            if sets.isEmpty { print("No demonstration sets."); return }
            let dates = ISO8601DateFormatter()
            for set in sets {
                let privacy = set.seeded ? "NOT PRIVATE (seeded)" : set.isPrivate ? "epsilon \(EpsilonText.format(set.epsilon)) delta \(EpsilonText.format(set.delta))" : "NOT PRIVATE (epsilon inf)"
                print("\(set.id)  \(dates.string(from: set.created))  \(set.task)  \(set.demonstrations.count) demos  \(privacy)  \(set.model)  data \(set.dataset.prefix(12))")
            }
        }
    }

    /// `fewshot demos show ID`
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a demonstration set with its parameters and privacy events.")

        @OptionGroup var reference: SetReference

        func run() throws {
            let set = try reference.storeOptions.open().demonstrationSet(reference.id)
            print("id          \(set.id)")
            print("data set    \(set.dataset)")
            print("task        \(set.task)   labels \(set.labels.joined(separator: ", "))")
            print("model       \(set.model)")
            print("created     \(ISO8601DateFormatter().string(from: set.created))")
            if let reason = set.nonPrivateReason {
                print("privacy     \(reason)")
            } else {
                print("privacy     epsilon \(EpsilonText.format(set.epsilon))  delta \(EpsilonText.format(set.delta))  (accountant \(set.accountant))")
            }
            print("mechanism   \(set.mechanism)  sigma \(EpsilonText.format(set.sigma))  sampling \(set.sampling)  M \(set.batches)  N \(set.examplesPerBatch)  T \(set.maxTokens)")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print("events      \(String(decoding: try encoder.encode(set.events), as: UTF8.self))")
            for (i, demonstration) in set.demonstrations.enumerated() {
                if let answer = demonstration.answer {
                    print("[\(i + 1)] \(demonstration.text) => \(answer)")
                } else {
                    print("[\(i + 1)] \(demonstration.label ?? "(no label)"): \(demonstration.text)")
                }
            }
        }
    }

    /// `fewshot demos export ID`
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export a demonstration set as JSON Lines (one demonstration per line, with the set's metadata).")

        @OptionGroup var reference: SetReference

        @Option(name: [.short, .long], help: "Write to this file instead of standard output.")
        var output: String?

        func run() throws {
            let jsonl = try reference.storeOptions.open().exportJSONL(reference.id)
            if let output {
                do {
                    try jsonl.write(toFile: output, atomically: true, encoding: .utf8)
                } catch {
                    throw ValidationError("--output: cannot write \(output): \(error.localizedDescription)")
                }
            } else {
                print(jsonl, terminator: "")
            }
        }
    }

    /// `fewshot demos delete ID`
    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a demonstration set. Its privacy cost stays charged to the data set.")

        @OptionGroup var reference: SetReference

        func run() throws {
            let store = try reference.storeOptions.open()
            let set = try store.demonstrationSet(reference.id)
            try store.deleteDemonstrationSet(set.id)
            print("Deleted demonstration set \(set.id). Its privacy cost stays charged to data set \(set.dataset.prefix(12)).")
        }
    }
}

/// The set a `fewshot demos` subcommand acts on, and the store that holds it.
struct SetReference: ParsableArguments {
    @Argument(help: "Set id or a unique prefix of it (4+ characters).")
    var id: String

    @OptionGroup var storeOptions: StoreOptions
}
