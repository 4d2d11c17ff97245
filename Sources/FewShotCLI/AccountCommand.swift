import ArgumentParser
import DPAccounting
import FewShotCore
import FewShotGeneration
import Foundation

/// `fewshot account`: epsilon for a noise multiplier, or the smallest noise multiplier for an
/// epsilon, for T steps of the (subsampled) Gaussian or exponential mechanism.
struct Account: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute epsilon for a noise multiplier (--sigma), or the smallest noise multiplier for a target epsilon (--epsilon).")

    enum Sampling: String, ExpressibleByArgument, CaseIterable, Encodable {
        case poisson
        case withoutReplacement = "without-replacement"
        case none
    }

    @Option(help: "Noise multiplier (noise scale / sensitivity); prints epsilon.")
    var sigma: Double?

    @Option(help: "Target epsilon; prints the smallest noise multiplier that meets it.")
    var epsilon: Double?

    @Option(help: "How each step selects private records: poisson, without-replacement or none.")
    var sampling: Sampling = .poisson

    @Option(help: "Poisson sampling rate q in (0, 1] (or give --dataset-size and --sample-size).")
    var samplingRate: Double?

    @Option(help: "Number of private records the sample is drawn from.")
    var datasetSize: Int?

    @Option(help: "Records per step (expected count for poisson, exact for without-replacement).")
    var sampleSize: Int?

    @Option(help: "Number of composed steps (released tokens), at least 1.")
    var steps: Int

    @Option(help: "Target delta in (0, 1) (default: 1 / --dataset-size).")
    var delta: Double?

    @OptionGroup var noise: MechanismOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if (sigma == nil) == (epsilon == nil) {
            throw ValidationError("Give exactly one of --sigma (to get epsilon) or --epsilon (to get sigma).")
        }
        if let sigma, !(sigma > 0 && sigma.isFinite) {
            throw ValidationError("--sigma must be a number > 0, got \(sigma).")
        }
        if let epsilon, !(epsilon > 0 && epsilon.isFinite) {
            throw ValidationError("--epsilon must be a number > 0, got \(epsilon).")
        }
        if steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps).") }
        if let n = datasetSize, n < 1 { throw ValidationError("--dataset-size must be at least 1, got \(n).") }
        if let m = sampleSize {
            guard let n = datasetSize else { throw ValidationError("--sample-size needs --dataset-size.") }
            if m < 1 || m > n {
                throw ValidationError("--sample-size must be between 1 and --dataset-size (\(n)), got \(m).")
            }
        }
        switch sampling {
        case .poisson:
            if let q = samplingRate {
                if sampleSize != nil {
                    throw ValidationError("Give either --sampling-rate or --dataset-size with --sample-size, not both.")
                }
                if !(q > 0 && q <= 1) { throw ValidationError("--sampling-rate must be in (0, 1], got \(q).") }
            } else if sampleSize == nil {
                throw ValidationError("Poisson sampling needs --sampling-rate, or --dataset-size and --sample-size.")
            }
        case .withoutReplacement:
            if samplingRate != nil {
                throw ValidationError("Sampling without replacement is described by --dataset-size and --sample-size, not --sampling-rate.")
            }
            if sampleSize == nil {
                throw ValidationError("--sampling without-replacement needs --dataset-size and --sample-size.")
            }
            if noise.accountant == .pld {
                throw ValidationError("--accountant pld does not support sampling without replacement (replace-one adjacency); use --accountant rdp.")
            }
        case .none:
            if samplingRate != nil || sampleSize != nil {
                throw ValidationError("--sampling none takes no --sampling-rate or --sample-size.")
            }
        }
        if let d = resolvedDelta {
            if !(d > 0 && d < 1) { throw ValidationError("--delta must be in (0, 1), got \(d).") }
        } else {
            throw ValidationError("Give --delta (or --dataset-size, for delta = 1 / dataset size).")
        }
    }

    private var resolvedDelta: Double? {
        if let delta { return delta }
        if let n = datasetSize { return 1 / Double(n) }
        return nil
    }

    private var samplingProbability: Double {
        switch sampling {
        case .none: return 1
        case .poisson: return samplingRate ?? Double(sampleSize!) / Double(datasetSize!)
        case .withoutReplacement: return Double(sampleSize!) / Double(datasetSize!)
        }
    }

    private func event(sigma: Double) -> PrivacyEvent {
        let step: PrivacyEvent = noise.mechanism == .gaussian
            ? .gaussian(noiseMultiplier: sigma) : ExponentialMechanism.event(noiseMultiplier: sigma)
        let sampled: PrivacyEvent
        switch sampling {
        case .none: sampled = step
        case .poisson: sampled = .poissonSampled(samplingRate: samplingProbability, event: step)
        case .withoutReplacement:
            sampled = .sampledWithoutReplacement(sourceSize: datasetSize!, sampleSize: sampleSize!, event: step)
        }
        return .selfComposed(event: sampled, count: steps)
    }

    struct Result: Encodable {
        let epsilon: Double
        let delta: Double
        let sigma: Double
        let steps: Int
        let samplingRate: Double
        let sampling: Sampling
        let mechanism: NoiseMechanism
        let accountant: String

        enum CodingKeys: String, CodingKey {
            case epsilon, delta, sigma, steps, sampling, mechanism, accountant
            case samplingRate = "sampling_rate"
        }
    }

    func run() throws {
        let delta = resolvedDelta!
        // `auto` is the DefaultAccountant gen uses: PLD, or RDP where PLD cannot compute; the output
        // names the one that answered.
        let accountant = noise.accountant.accountant
        let resultSigma = try sigma
            ?? Calibration.noiseMultiplier(epsilon: epsilon!, delta: delta, accountant: accountant) { event(sigma: $0) }
        let answer = try accountant.answer(for: event(sigma: resultSigma), delta: delta)
        let resultEpsilon = answer.epsilon
        let result = Result(epsilon: resultEpsilon, delta: delta, sigma: resultSigma, steps: steps,
                            samplingRate: samplingProbability, sampling: sampling,
                            mechanism: noise.mechanism, accountant: answer.accountant)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = EpsilonJSON.encoding
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else if sigma != nil {
            print("epsilon = \(EpsilonText.format(resultEpsilon, "%.4f")) at delta = \(delta) for sigma = \(resultSigma), \(describe(result))")
        } else {
            print("sigma = \(EpsilonText.format(resultSigma, "%.4f")) (epsilon = \(EpsilonText.format(resultEpsilon, "%.4f")) at delta = \(delta)), \(describe(result))")
        }
    }

    private func describe(_ r: Result) -> String {
        "\(r.steps) steps, \(r.mechanism.rawValue) mechanism, \(r.sampling.rawValue) sampling at rate \(r.samplingRate), \(r.accountant) accountant"
    }
}
