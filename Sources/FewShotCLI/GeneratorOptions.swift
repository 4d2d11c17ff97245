import ArgumentParser
import FewShotCore

/// The generator's options, shared by `fewshot gen` and `fewshot eval`. Unset options take the
/// task's defaults (the paper's table).
struct GeneratorOptions: ParsableArguments {
    @Option(name: .customLong("batches"), help: "M: private batches per token (default: the task's).")
    var batches: Int?

    @Option(name: .customLong("batch-size"), help: "N: examples per batch (default: the task's).")
    var batchSize: Int?

    @Option(help: "T: most tokens per demonstration (default: the task's).")
    var maxTokens: Int?

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

    func validate() throws {
        for (name, value) in [("--batches", batches), ("--batch-size", batchSize), ("--max-tokens", maxTokens), ("--top-k", topK)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        }
    }

    /// `base` (the task's defaults) with the options given.
    func applied(to base: GenerationSettings) -> GenerationSettings {
        var settings = base
        settings.batches = batches ?? settings.batches
        settings.batchSize = batchSize ?? settings.batchSize
        settings.maxTokens = maxTokens ?? settings.maxTokens
        settings.mechanism = mechanism
        settings.vocabulary = vocabulary ?? settings.vocabulary
        settings.topK = topK ?? settings.topK
        settings.sampling = sampling
        settings.subsampleScheme = subsample
        return settings
    }

    /// The task's defaults with the options given, for `labels` at `privacy`.
    func settings(for task: TaskTemplate, labels: [String], privacy: PrivacyLevel) -> GenerationSettings {
        let d = task.defaults
        return applied(to: GenerationSettings(
            batches: d.batches, batchSize: d.batchSize, maxTokens: d.maxTokens, vocabulary: d.vocabulary, topK: d.topK,
            privacy: privacy, labels: labels))
    }
}
