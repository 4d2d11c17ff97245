import ArgumentParser

/// The `fewshot` command line: generate, account for, store, serve and evaluate DP demonstrations.
@main
struct FewShot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fewshot",
        abstract: "Differentially private few-shot demonstrations: generate, account, serve, evaluate.",
        subcommands: [
            // Each subcommand lives in its own file; add yours here.
            Gen.self, Budget.self, Demos.self, Account.self, Serve.self,
            LLM.self, Eval.self, Store.self,
        ]
    )
}
