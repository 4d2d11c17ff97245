import ArgumentParser
import Foundation

/// `--prompts DIR`, shared by every command that reads task files by name. Built-in tasks are found
/// without it (``TaskFile/find(_:in:)`` falls back to the shipped ones); it adds or overrides.
struct PromptsOption: ParsableArguments {
    @Option(name: .customLong("prompts"), help: "Directory of task files (default: $FEWSHOT_PROMPTS, else prompts).")
    var path: String = ProcessInfo.processInfo.environment["FEWSHOT_PROMPTS"] ?? "prompts"

    var directory: URL { URL(fileURLWithPath: path) }
}
