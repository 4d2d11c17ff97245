import ArgumentParser
import FewShotCore
import FewShotGeneration

/// The generator's options, shared by `fewshot gen` and `fewshot eval`. Unset options take the
/// task's defaults (the paper's table); they mean what ``GeneratorOverrides`` says.
struct GeneratorOptions: ParsableArguments {
    @Option(name: .customLong("batches"), help: "M: private batches per token, or auto: the most that fit --compute-limit (default: the task's, auto for the shipped tasks).")
    var batches: BatchCount?

    @Option(name: .customLong("batch-size"), help: "N: examples per batch (default: the task's).")
    var batchSize: Int?

    @Option(help: "Minutes one generation may take, for --batches auto (default 15).")
    var computeLimit: Double?

    @Option(name: .customLong("llm-tokens-per-second"), help: "LLM tokens/s the automatic plan assumes (default 175: SmolLM2-135M, 2 cores).")
    var llmTokensPerSecond: Double?

    @Option(name: .customLong("llm-seconds-per-request"), help: "Server seconds per request the automatic plan assumes (default 0.02: SmolLM2-135M, 2 cores).")
    var llmSecondsPerRequest: Double?

    @Option(help: "Most tokens of one private example in a prompt; longer ones are cut (default: the task's max_example_tokens).")
    var maxExampleTokens: Int?

    @Option(help: "T: most tokens per demonstration (default: the task's).")
    var maxTokens: Int?

    @Option(help: "T_answer: most tokens of each answer, for extraction tasks (default: the task's).")
    var answerMaxTokens: Int?

    @Option(name: .customLong("vocab"), help: "Candidate tokens: rvp (public prompt's top-k) or full (default: the task's).")
    var vocabulary: VocabularyMode?

    @Option(help: "K for the candidate set (default: the task's).")
    var topK: Int?

    @Option(help: "partition (one Poisson subsample per demonstration in M fixed batches; fast, amplified once per demonstration) or subsample (a fresh sample per token, the paper). Default: the task's (partition).")
    var sampling: SamplingMode?

    @Option(help: "How examples are sampled: poisson (amplified, tight PLD accounting) or without-replacement (no amplification in partition mode).")
    var subsample: SubsampleScheme = .poisson

    @OptionGroup var noise: MechanismOptions

    var overrides: GeneratorOverrides {
        GeneratorOverrides(
            batches: batches, batchSize: batchSize, maxTokens: maxTokens, answerMaxTokens: answerMaxTokens, mechanism: noise.mechanism, vocabulary: vocabulary,
            topK: topK, sampling: sampling, subsample: subsample, accountant: noise.accountant,
            computeLimitMinutes: computeLimit, llmTokensPerSecond: llmTokensPerSecond, maxExampleTokens: maxExampleTokens,
            llmSecondsPerRequest: llmSecondsPerRequest)
    }

    func validate() throws {
        do { try overrides.validate() } catch let error as GenerationSpecError { throw error.validationError }
    }
}

extension GenerationSpecError {
    /// The error as the command line shows it: the JSON field as its option (`max_tokens` -> `--max-tokens`).
    var validationError: ValidationError {
        ValidationError("\(option) \(problem(naming: \.option))")
    }

    /// The field as its option (`max_tokens` -> `--max-tokens`).
    var option: String { "--\(field.replacingOccurrences(of: "_", with: "-"))" }
}

/// A ``GenerationSpecError`` found while preparing a run, as the command line shows it.
struct GenerationSpecOptionError: Error, CustomStringConvertible {
    var error: GenerationSpecError
    var description: String { "\(error.option): \(error.problem(naming: \.option))" }
}

extension GenerationSetting {
    /// The option of `fewshot gen` (and `fewshot eval`) that sets it.
    var option: String {
        switch self {
        case .vocabulary: "--vocab"
        case .computeLimit: "--compute-limit"
        default: "--" + rawValue.replacingOccurrences(of: "_", with: "-")
        }
    }
}

/// A ``GenerationError`` as the command line shows it: settings named by their options (`--batch-size`).
struct GenerationOptionError: Error, CustomStringConvertible {
    var error: GenerationError
    var description: String { error.description(naming: \.option) }
}

/// Runs a command's work, showing a ``GenerationError`` (also one behind a ``GenerationSpecError``)
/// with the command line's option names.
func namingOptions(_ work: () async throws -> Void) async throws {
    do {
        try await work()
    } catch let error as GenerationError {
        throw GenerationOptionError(error: error)
    } catch let error as GenerationSpecError where error.cause != nil {
        throw GenerationSpecOptionError(error: error)
    }
}

extension BatchCount: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
extension VocabularyMode: ExpressibleByArgument {}
extension SamplingMode: ExpressibleByArgument {}
extension SubsampleScheme: ExpressibleByArgument {}
