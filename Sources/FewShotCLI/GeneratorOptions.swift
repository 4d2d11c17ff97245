import ArgumentParser
import FewShotCore
import FewShotGeneration

/// The generator's options, shared by `fewshot gen` and `fewshot eval`. Unset options take the
/// task's defaults (the paper's table); they mean what ``GeneratorOverrides`` says.
struct GeneratorOptions: ParsableArguments {
    @Option(name: .customLong("batches"), help: "M: private batches per token (default: the task's).")
    var batches: Int?

    @Option(name: .customLong("batch-size"), help: "N: examples per batch (default: the task's).")
    var batchSize: Int?

    @Option(help: "T: most tokens per demonstration (default: the task's).")
    var maxTokens: Int?

    @Option(help: "T_answer: most tokens of each answer, for extraction tasks (default: the task's).")
    var answerMaxTokens: Int?

    @Option(help: "Noisy argmax: gaussian or exponential.")
    var mechanism: NoiseMechanism = .gaussian

    @Option(name: .customLong("vocab"), help: "Candidate tokens: rvp (public prompt's top-k) or full (default: the task's).")
    var vocabulary: VocabularyMode?

    @Option(help: "K for the candidate set (default: the task's).")
    var topK: Int?

    @Option(help: "subsample (fresh sample per token, the paper) or partition (batches fixed per demonstration; fast, no amplification).")
    var sampling: SamplingMode = .subsample

    @Option(help: "How subsample mode samples: poisson (tight PLD accounting) or without-replacement.")
    var subsample: SubsampleScheme = .poisson

    @Option(help: "Accountant: auto (PLD where it applies, else RDP), pld or rdp.")
    var accountant: AccountantChoice = .auto

    var overrides: GeneratorOverrides {
        GeneratorOverrides(
            batches: batches, batchSize: batchSize, maxTokens: maxTokens, answerMaxTokens: answerMaxTokens, mechanism: mechanism, vocabulary: vocabulary,
            topK: topK, sampling: sampling, subsample: subsample, accountant: accountant)
    }

    func validate() throws {
        do { try overrides.validate() } catch let error as GenerationSpecError { throw error.validationError }
    }
}

extension GenerationSpecError {
    /// The error as the command line shows it: the JSON field as its option (`max_tokens` -> `--max-tokens`).
    var validationError: ValidationError {
        ValidationError("--\(field.replacingOccurrences(of: "_", with: "-")) \(problem)")
    }
}

extension AccountantChoice: ExpressibleByArgument {}
extension NoiseMechanism: ExpressibleByArgument {}
extension VocabularyMode: ExpressibleByArgument {}
extension SamplingMode: ExpressibleByArgument {}
extension SubsampleScheme: ExpressibleByArgument {}
