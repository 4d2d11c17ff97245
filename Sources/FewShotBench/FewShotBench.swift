import ArgumentParser

/// `fewshot-bench`: benchmarks that print numbers (they are not tests).
@main
struct FewShotBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fewshot-bench",
        abstract: "Benchmarks for fewshot; each prints its measurements.",
        subcommands: [
            // Each benchmark lives in its own file; add yours here.
            AccountantBenchmark.self, ProxyBenchmark.self, GeneratorBenchmark.self, LedgerBenchmark.self, LedgerThroughputBenchmark.self, SelectionBenchmark.self,
        ]
    )
}
