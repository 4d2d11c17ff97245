import ArgumentParser
import FewShotCore
import FewShotGeneration

/// `--mechanism` and `--accountant`, shared by `fewshot account` and the generator's options
/// (`gen`, `eval`), so that what `account` prices is named exactly as what `gen` runs.
struct MechanismOptions: ParsableArguments {
    @Option(help: "Noisy argmax per released token: gaussian, or exponential (Gumbel report-noisy-max).")
    var mechanism: NoiseMechanism = .gaussian

    @Option(help: "Accountant: auto (PLD where it applies, else RDP), pld or rdp.")
    var accountant: AccountantChoice = .auto
}

extension NoiseMechanism: ExpressibleByArgument {}
extension AccountantChoice: ExpressibleByArgument {}
